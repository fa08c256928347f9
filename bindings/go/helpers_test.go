package ringlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// started is a runtime writing JSON lines to a file in a temporary
// directory, with its own ring directory (so it recovers no other
// process's records).
type started struct {
	tb   testing.TB
	dir  string
	path string
	// rings is the ring directory; default dir/rings.
	rings string
}

// startFile starts ringlog for one test, with extra top-level
// configuration members (JSON text without braces), and shuts it down at
// the end of the test.
func startFile(tb testing.TB, extra string) *started {
	tb.Helper()
	return startFileSink(tb, extra, "")
}

// startFileSink is startFile with extra members for the file sink too.
func startFileSink(tb testing.TB, extra, sinkExtra string) *started {
	tb.Helper()
	for _, v := range []string{"RINGLOG_CONFIG", "RINGLOG_LEVEL", "RINGLOG_OUTPUT", "RINGLOG_FORMAT"} {
		if _, ok := os.LookupEnv(v); ok {
			tb.Setenv(v, "")
			os.Unsetenv(v)
		}
	}
	dir := tb.TempDir()
	s := &started{tb: tb, dir: dir, path: filepath.Join(dir, "out.log")}
	if _, bench := tb.(*testing.B); bench {
		// Benchmarks keep their rings on tmpfs, as ringlog does by
		// default: a ring file on a disk file system costs a page fault
		// that zeroes a block on every first touch.
		if shm, err := os.MkdirTemp("/dev/shm", "ringlog-go-bench-"); err == nil {
			s.rings = shm
			tb.Cleanup(func() { os.RemoveAll(shm) })
		}
	}
	if err := Init(s.config(extra, sinkExtra)); err != nil {
		tb.Fatalf("Init: %v", err)
	}
	tb.Cleanup(func() {
		if err := Shutdown(); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// config is the configuration startFile uses.
func (s *started) config(extra, sinkExtra string) string {
	if sinkExtra != "" {
		sinkExtra = ", " + sinkExtra
	}
	rings := s.rings
	if rings == "" {
		rings = filepath.Join(s.dir, "rings")
	}
	cfg := fmt.Sprintf(`{"level": "trace", "ring_dir": %q, "sinks": {"out": {"type": "file", "path": %q%s}}`,
		rings, s.path, sinkExtra)
	if extra != "" {
		cfg += ", " + extra
	}
	return cfg + "}"
}

// records flushes and returns every record written so far, each line
// parsed as one JSON object.
func (s *started) records() []map[string]any {
	s.tb.Helper()
	if err := Flush(5 * time.Second); err != nil {
		s.tb.Fatalf("Flush: %v", err)
	}
	return readRecords(s.tb, s.path)
}

// last is the last record written.
func (s *started) last() map[string]any {
	s.tb.Helper()
	rs := s.records()
	if len(rs) == 0 {
		s.tb.Fatal("no record written")
	}
	return rs[len(rs)-1]
}

func readRecords(tb testing.TB, path string) []map[string]any {
	tb.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			tb.Fatalf("line is not one JSON object: %v\n%s", err, line)
		}
		if d.More() {
			tb.Fatalf("line holds more than one JSON value: %s", line)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// get walks m along keys (nested objects) and returns the value found.
func get(m map[string]any, keys ...string) (any, bool) {
	var v any = m
	for _, k := range keys {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// want fails the test unless m has value w (compared as JSON text) at
// the path keys.
func want(tb testing.TB, m map[string]any, w any, keys ...string) {
	tb.Helper()
	v, ok := get(m, keys...)
	if !ok {
		tb.Errorf("%s: missing in %s", strings.Join(keys, "."), jsonText(m))
		return
	}
	if g, e := jsonText(v), jsonText(w); g != e {
		tb.Errorf("%s = %s, want %s", strings.Join(keys, "."), g, e)
	}
}

// absent fails the test if m has a value at the path keys.
func absent(tb testing.TB, m map[string]any, keys ...string) {
	tb.Helper()
	if v, ok := get(m, keys...); ok {
		tb.Errorf("%s: unexpected %s in %s", strings.Join(keys, "."), jsonText(v), jsonText(m))
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// userKeys are the keys of m that are not ringlog's own.
func userKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		switch k {
		case "ts", "time", "level", "logger", "msg", "thread", "ring", "seq", "trace_id", "span_id", "trace_flags":
			continue
		}
		ks = append(ks, k)
	}
	return ks
}

// readLines returns the file's lines, unparsed.
func readLines(tb testing.TB, path string) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// record makes a record at info, now, with attrs.
func record(msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0)
	r.AddAttrs(attrs...)
	return r
}
