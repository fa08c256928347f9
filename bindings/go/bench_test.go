package ringlog

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"
)

// The handler's own benchmarks. The side-by-side comparison with other
// loggers, with its figures, is in benches/compare/go.

func benchLogger(b *testing.B) *slog.Logger {
	b.Helper()
	startFile(b, `"full_policy": "block", "block_timeout_ms": 10000`)
	return slog.New(NewHandler(&HandlerOptions{Name: "bench"}))
}

func logAttrs(l *slog.Logger, ctx context.Context, user string) {
	l.LogAttrs(ctx, slog.LevelInfo, "request handled",
		slog.String("user", user), slog.Int("status", 200), slog.Float64("latency_ms", 12.5))
}

func BenchmarkLogAttrs(b *testing.B) {
	l := benchLogger(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logAttrs(l, ctx, "alice")
	}
}

// The caller's cost alone, measured as the C hot path is: batches of 20
// calls, each batch timed, then a 20 µs pause so that the flusher keeps
// up (back to back, with "full_policy": "block", a caller soon waits for
// ring space, and ns/op is the flusher's rate). Reports the median and
// p99 of the per-call time of the batches as caller-p50-ns and
// caller-p99-ns; ns/op includes the pauses and means nothing here.
func BenchmarkLogAttrsPaced(b *testing.B) {
	l := benchLogger(b)
	ctx := context.Background()
	const batch = 20
	var per []float64
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for i := 0; i < batch; i++ {
			logAttrs(l, ctx, "alice")
		}
		per = append(per, float64(time.Since(t0).Nanoseconds())/batch)
		for until := time.Now().Add(20 * time.Microsecond); time.Now().Before(until); {
		}
	}
	sort.Float64s(per)
	b.ReportMetric(per[len(per)/2], "caller-p50-ns")
	b.ReportMetric(per[len(per)*99/100], "caller-p99-ns")
}

func BenchmarkInfo(b *testing.B) {
	l := benchLogger(b)
	b.ReportAllocs()
	for b.Loop() {
		l.Info("request handled", "user", "alice", "status", 200, "latency_ms", 12.5)
	}
}

// A string in the Go heap (not a literal) is pinned for the call.
func BenchmarkLogAttrsHeapString(b *testing.B) {
	l := benchLogger(b)
	ctx := context.Background()
	user := strings.Clone("alice")
	b.ReportAllocs()
	for b.Loop() {
		logAttrs(l, ctx, user)
	}
}

func BenchmarkLogAttrsParallel(b *testing.B) {
	l := benchLogger(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		user := strings.Clone("alice")
		for pb.Next() {
			logAttrs(l, ctx, user)
		}
	})
}

func BenchmarkGroupsAndTraceContext(b *testing.B) {
	l := benchLogger(b).With("service", "api").WithGroup("req").With("id", "r-1")
	ctx, _ := ContextWithTraceparent(context.Background(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	b.ReportAllocs()
	for b.Loop() {
		logAttrs(l, ctx, "alice")
	}
}

// A record below ringlog's level: slog.Logger asks Enabled and stops.
func BenchmarkDisabled(b *testing.B) {
	l := benchLogger(b)
	if err := Reconfigure(`{"level": "info"}`); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelDebug, "request handled", slog.String("user", "alice"))
	}
}

// Handle with ringlog's level above the record's: everything the binding
// does for a record, and the C call, without writing into the ring.
func BenchmarkHandleUpToTheRing(b *testing.B) {
	benchLogger(b)
	if err := Reconfigure(`{"level": "error"}`); err != nil {
		b.Fatal(err)
	}
	h := NewHandler(nil)
	ctx := context.Background()
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request handled", 0)
	r.AddAttrs(slog.String("user", "alice"), slog.Int("status", 200), slog.Float64("latency_ms", 12.5))
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(ctx, r)
	}
}

// One C call that does nothing (ringlog_version): the cgo transition by
// itself, which every record that reaches C pays once.
func BenchmarkCgoCall(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cNop()
	}
}

// slog.Logger.LogAttrs over a handler that is enabled and does nothing:
// slog's own cost per call (runtime.Callers, time.Now, the Record), paid
// before any handler runs.
func BenchmarkSlogNop(b *testing.B) {
	l := slog.New(nopHandler{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logAttrs(l, ctx, "alice")
	}
}

type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }
