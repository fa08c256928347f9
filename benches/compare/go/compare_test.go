// Package compare runs the same workload through ringlog's slog handler
// and through other Go loggers, side by side: 1,000,000 records of
// "request handled" with user="alice", status=200 and latency_ms=12.5,
// each logger writing JSON lines to a file. See README.md for the
// command and the figures.
package compare

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"ringlog.invalid/ringlog"
)

// bufSize is the buffer of the loggers that write through a buffered
// writer on the calling goroutine (zap, zerolog, slog's JSONHandler).
const bufSize = 256 << 10

// run measures one logger: ns/op and allocs/op are the calls alone; the
// "records/s" metric is end to end, from the first call until the output
// is flushed to the file; "cpu-ns/op" is the CPU time the whole process
// used over that span (every thread: ringlog's flusher too), per record,
// which other jobs on a shared machine disturb much less than wall time;
// "lines" is the line count of the output, which must equal b.N.
func run(b *testing.B, setup func(path string) (logOne func(), flush func() error)) {
	dir := b.TempDir()
	path := filepath.Join(dir, "out.log")
	logOne, flush := setup(path)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for b.Loop() {
		logOne()
	}
	b.StopTimer()
	if err := flush(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	lines := countLines(b, path)
	b.ReportMetric(float64(lines), "lines")
	if lines != b.N {
		b.Fatalf("%d lines written, want %d", lines, b.N)
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func countLines(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	n := 0
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func create(b *testing.B, path string) *os.File {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// startRinglog starts ringlog writing to path, with its rings on tmpfs
// (ringlog's default place) in a directory of the benchmark's own, the
// default ring capacity (1 MiB) unless ringCapacity is set, and the
// "block" full policy so that no record is dropped: a call whose ring is
// full waits for the flusher.
func startRinglog(b *testing.B, path string, ringCapacity int) {
	rings, err := os.MkdirTemp("/dev/shm", "ringlog-compare-")
	if err != nil {
		rings = b.TempDir()
	}
	b.Cleanup(func() { os.RemoveAll(rings) })
	cfg := fmt.Sprintf(`{"ring_dir": %q, "full_policy": "block", "block_timeout_ms": 10000,
		"sinks": {"out": {"type": "file", "path": %q}}`, rings, path)
	if ringCapacity > 0 {
		cfg += fmt.Sprintf(`, "ring_capacity": %d`, ringCapacity)
	}
	if err := ringlog.Init(cfg + "}"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ringlog.Shutdown() })
}

func ringlogFlush() error { return ringlog.Flush(time.Minute) }

func BenchmarkRinglogLogAttrs(b *testing.B) {
	run(b, func(path string) (func(), func() error) {
		startRinglog(b, path, 0)
		l := slog.New(ringlog.NewHandler(nil))
		ctx := context.Background()
		return func() {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled",
				slog.String("user", "alice"), slog.Int("status", 200), slog.Float64("latency_ms", 12.5))
		}, ringlogFlush
	})
}

func BenchmarkRinglogInfo(b *testing.B) {
	run(b, func(path string) (func(), func() error) {
		startRinglog(b, path, 0)
		l := slog.New(ringlog.NewHandler(nil))
		return func() {
			l.Info("request handled", "user", "alice", "status", 200, "latency_ms", 12.5)
		}, ringlogFlush
	})
}

// zap: the production JSON encoder (zap.NewProductionEncoderConfig) into
// a BufferedWriteSyncer; no sampling (it would drop records) and no
// caller annotation (the others write none).
func BenchmarkZap(b *testing.B) {
	run(b, func(path string) (func(), func() error) {
		ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(create(b, path)), Size: bufSize, FlushInterval: time.Hour}
		b.Cleanup(func() { ws.Stop() })
		core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), ws, zapcore.InfoLevel)
		l := zap.New(core)
		return func() {
			l.Info("request handled", zap.String("user", "alice"), zap.Int("status", 200), zap.Float64("latency_ms", 12.5))
		}, l.Sync
	})
}

func BenchmarkZerolog(b *testing.B) {
	run(b, func(path string) (func(), func() error) {
		w := bufio.NewWriterSize(create(b, path), bufSize)
		zerolog.TimeFieldFormat = time.RFC3339Nano
		l := zerolog.New(w).With().Timestamp().Logger()
		return func() {
			l.Info().Str("user", "alice").Int("status", 200).Float64("latency_ms", 12.5).Msg("request handled")
		}, w.Flush
	})
}

func BenchmarkSlogJSONHandler(b *testing.B) {
	run(b, func(path string) (func(), func() error) {
		w := bufio.NewWriterSize(create(b, path), bufSize)
		l := slog.New(slog.NewJSONHandler(w, nil))
		ctx := context.Background()
		return func() {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled",
				slog.String("user", "alice"), slog.Int("status", 200), slog.Float64("latency_ms", 12.5))
		}, w.Flush
	})
}

// nopHandler is enabled for every level and does nothing: what
// slog.Logger itself costs per call (runtime.Callers, time.Now, building
// the Record) before any handler work. It writes no file.
type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }

func BenchmarkSlogNopHandler(b *testing.B) {
	l := slog.New(nopHandler{})
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "request handled",
			slog.String("user", "alice"), slog.Int("status", 200), slog.Float64("latency_ms", 12.5))
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
