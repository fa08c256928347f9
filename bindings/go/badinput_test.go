package ringlog

import (
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

type panicValuer struct{}

func (panicValuer) LogValue() slog.Value { panic("LogValue exploded") }

type panicJSON struct{}

func (panicJSON) MarshalJSON() ([]byte, error) { panic("MarshalJSON exploded") }

type panicError struct{}

func (panicError) Error() string { panic("Error exploded") }

func TestInvalidUTF8AndControlCharactersComeOutAsValidJSON(t *testing.T) {
	s := startFile(t, "")
	bad := "ok\xff\xfe\xc0mid\x00\x01\x1b[31m\u2028end"
	slog.New(NewHandler(nil)).Info(bad, bad, bad, "k", slog.GroupValue(slog.String(bad, bad)))
	r := s.last() // readRecords fails the test on a line that is not JSON
	for _, v := range []any{r["msg"], r["k"].(map[string]any)} {
		if m, ok := v.(string); ok && (!utf8.ValidString(m) || !strings.Contains(m, "\uFFFD")) {
			t.Errorf("message %q: invalid bytes not replaced", m)
		}
	}
	found := false
	for k, v := range r {
		if strings.HasPrefix(k, "ok\uFFFD") {
			found = true
			if !strings.Contains(v.(string), "\x00\x01\x1b[31m\u2028end") {
				t.Errorf("value %q lost its control characters", v)
			}
		}
	}
	if !found {
		t.Errorf("no key with U+FFFD in %v", userKeys(r))
	}
}

func TestAPanickingLogValuerStillWritesTheRecordWithAnErrorField(t *testing.T) {
	s := startFile(t, "")
	slog.New(NewHandler(nil)).With("w", panicValuer{}).Info("still here", "v", panicValuer{}, "ok", 1)
	r := s.last()
	want(t, r, "still here", "msg")
	want(t, r, 1, "ok")
	for _, k := range []string{"v", "w"} {
		if v, _ := r[k].(string); !strings.HasPrefix(v, "LogValue panicked") {
			t.Errorf("%s = %q, want slog's panic error text", k, r[k])
		}
	}
}

func TestPanicsInMarshalJSONAndErrorAreContained(t *testing.T) {
	s := startFile(t, "")
	slog.New(NewHandler(nil)).Info("m", "j", panicJSON{}, "e", panicError{})
	r := s.last()
	if v, _ := r["j"].(string); v == "" {
		t.Errorf("j = %v, want fmt's text", r["j"])
	}
	if v, _ := r["e"].(string); !strings.Contains(v, "Error exploded") {
		t.Errorf("e = %v", r["e"])
	}
}

func TestATooLargeRecordIsWrittenWithItsLongValuesCut(t *testing.T) {
	s := startFile(t, `"ring_capacity": 65536`)
	huge := strings.Repeat("é", 100_000) // 200 KB, more than half the ring
	err := NewHandler(nil).Handle(t.Context(), record("big "+huge, slog.String("huge", huge), slog.Any("b", []byte(huge)), slog.Int("n", 1)))
	if !errors.Is(err, CodeTooLarge) {
		t.Errorf("Handle = %v, want CodeTooLarge", err)
	}
	r := s.last()
	want(t, r, true, "ringlog.truncated")
	want(t, r, 1, "n")
	h := r["huge"].(string)
	if len(h) > cutLimit || len(h) < cutLimit-4 || !utf8.ValidString(h) {
		t.Errorf("huge cut to %d bytes (valid UTF-8: %v)", len(h), utf8.ValidString(h))
	}
	if m := r["msg"].(string); len(m) > cutLimit || !strings.HasPrefix(m, "big é") {
		t.Errorf("message cut to %d bytes", len(m))
	}
	st, err := Stats()
	if err != nil || st.RejectedTooLarge != 1 {
		t.Errorf("Stats: rejected_too_large = %d (%v), want 1", st.RejectedTooLarge, err)
	}
}

func TestLargeValuesThatFitAreWrittenWhole(t *testing.T) {
	s := startFile(t, "")
	big := strings.Repeat("x", 200_000)
	slog.New(NewHandler(nil)).Info("big", "v", big, slog.Group("g", slog.String("w", big)))
	r := s.last()
	if v := r["v"].(string); v != big {
		t.Errorf("v has %d bytes, want %d", len(v), len(big))
	}
	absent(t, r, "ringlog.truncated")
}

func TestManyAttrsInOneRecordAreAllWritten(t *testing.T) {
	s := startFile(t, "")
	args := make([]any, 0, 2000)
	for i := range 1000 {
		args = append(args, "k"+strings.Repeat("x", i%7)+string(rune('a'+i%26)), i)
	}
	slog.New(NewHandler(nil)).Info("many", args...)
	if n := len(userKeys(s.last())); n != 1000 {
		t.Errorf("%d fields written, want 1000", n)
	}
}

func TestAnOversizedMessageAloneIsCutToo(t *testing.T) {
	s := startFile(t, `"ring_capacity": 65536`)
	msg := strings.Repeat("m", 100_000)
	l := slog.New(NewHandler(nil)).WithGroup("g")
	l.Info(msg, slog.Group("empty"))
	r := s.last()
	if m := r["msg"].(string); len(m) != cutLimit {
		t.Errorf("message of %d bytes, want %d", len(m), cutLimit)
	}
	want(t, r, true, "ringlog.truncated")
}

func TestAPanicInReplaceAttrPropagatesAndLeavesNothingPinned(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(&HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == "boom" {
			panic("ReplaceAttr exploded")
		}
		return a
	}})
	heap := strings.Repeat("h", 10) // in the Go heap: really pinned
	for range 100 {
		func() {
			defer func() {
				if r := recover(); r != "ReplaceAttr exploded" {
					t.Fatalf("recovered %v", r)
				}
			}()
			slog.New(h).Info("m", "before", heap, "boom", 1)
		}()
		func() {
			defer func() { recover() }()
			h.WithAttrs([]slog.Attr{slog.String("before", heap), slog.Int("boom", 1)})
		}()
	}
	// A Pinner dropped with pins would make a garbage collection fail.
	runtime.GC()
	runtime.GC()
	slog.New(h).Info("after", "k", heap)
	want(t, s.last(), "after", "msg")
}
