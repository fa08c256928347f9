package ringlog

import (
	"context"
	"errors"
	"log/slog"
	"testing"
)

const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestParseTraceparentAcceptsW3CValuesAndNamesWhatIsWrong(t *testing.T) {
	tc, err := ParseTraceparent(tp)
	if err != nil {
		t.Fatal(err)
	}
	if tc.String() != tp || tc.Flags != 1 || tc.TraceID[0] != 0x4b || tc.SpanID[7] != 0xb7 {
		t.Errorf("parsed %+v (%s)", tc, tc)
	}
	if _, err := ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future"); err != nil {
		t.Errorf("a later version with more parts: %v", err)
	}
	bad := map[string]string{
		"":        "shorter",
		tp + "-x": "exactly 55",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":  "version",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01":  "trace id",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01":  "trace id is all zeros",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01":  "span id is all zeros",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bx-01":  "span id",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g":  "flags",
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":  "separated",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x": "trailing",
	}
	for in, what := range bad {
		_, err := ParseTraceparent(in)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, CodeTrace) || !contains(e.Msg, what) {
			t.Errorf("ParseTraceparent(%q) = %v, want a CodeTrace error about %q", in, err, what)
		}
	}
}

func TestRecordsCarryTheTraceContextOfTheirContext(t *testing.T) {
	s := startFile(t, "")
	l := slog.New(NewHandler(nil))
	ctx, err := ContextWithTraceparent(context.Background(), tp)
	if err != nil {
		t.Fatal(err)
	}
	l.InfoContext(ctx, "from traceparent")
	ctx2, err := ContextWithTraceIDs(ctx, [16]byte{15: 1}, [8]byte{0: 0xff}, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.With("k", "v").WithGroup("g").InfoContext(ctx2, "from ids", "a", 1)
	l.Info("no context")
	if _, err := ContextWithTraceIDs(ctx, [16]byte{}, [8]byte{1}, 1); !errors.Is(err, CodeTrace) {
		t.Errorf("all-zero trace id: %v", err)
	}
	if got, ok := TraceFromContext(ctx2); !ok || got.SpanID[0] != 0xff {
		t.Errorf("TraceFromContext = %v, %v", got, ok)
	}
	rs := s.records()
	want(t, rs[0], "4bf92f3577b34da6a3ce929d0e0e4736", "trace_id")
	want(t, rs[0], "00f067aa0ba902b7", "span_id")
	want(t, rs[0], "01", "trace_flags")
	want(t, rs[1], "00000000000000000000000000000001", "trace_id")
	want(t, rs[1], "ff00000000000000", "span_id")
	want(t, rs[1], "00", "trace_flags")
	want(t, rs[1], 1, "g", "a")
	absent(t, rs[2], "trace_id")
	absent(t, rs[2], "span_id")
}
