package ringlog

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
)

func TestHandlerPassesTheSlogtestConformanceSuite(t *testing.T) {
	var s *started
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		if strings.HasSuffix(t.Name(), "/zero-time") {
			// ringlog_log_ctx takes ts 0 as "now": the C ABI has no way
			// to log a record without a timestamp (see README.md).
			t.Skip("the C ABI always stamps a record; a zero time becomes the current time")
		}
		s = startFileSink(t, "", `"json": {"keys": {"time": "time"}}`)
		return NewHandler(nil)
	}, func(t *testing.T) map[string]any {
		return s.last()
	})
}

func TestAZeroTimeIsStampedWithTheCurrentTimeAndAGivenTimeIsKept(t *testing.T) {
	s := startFile(t, "")
	h := NewHandler(nil)
	before := time.Now()
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "zero", 0)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	given := time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC)
	r = slog.NewRecord(given, slog.LevelInfo, "given", 0)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	rs := s.records()
	ts, err := time.Parse(time.RFC3339Nano, rs[0]["ts"].(string))
	if err != nil || ts.Before(before.Add(-time.Second)) {
		t.Errorf("zero time written as %v (%v), want about %v", rs[0]["ts"], err, before)
	}
	want(t, rs[1], "2024-02-29T12:30:45.123456789Z", "ts")
}

func TestTheLoggerNameIsTheOptionsName(t *testing.T) {
	s := startFile(t, "")
	slog.New(NewHandler(&HandlerOptions{Name: "http.access"})).Info("a")
	slog.New(NewHandler(nil)).Info("b")
	rs := s.records()
	want(t, rs[0], "http.access", "logger")
	want(t, rs[1], DefaultName, "logger")
}

func TestSlogLevelsMapToSeveritiesInOrder(t *testing.T) {
	cases := []struct {
		l    slog.Level
		sev  uint8
		name string
	}{
		{slog.LevelDebug - 100, 1, "trace"},
		{slog.LevelDebug - 4, 1, "trace"},
		{slog.LevelDebug - 1, 4, "trace4"},
		{slog.LevelDebug, 5, "debug"},
		{slog.LevelDebug + 1, 6, "debug2"},
		{slog.LevelInfo, 9, "info"},
		{slog.LevelInfo + 2, 11, "info3"},
		{slog.LevelWarn, 13, "warn"},
		{slog.LevelError, 17, "error"},
		{slog.LevelError + 3, 20, "error4"},
		{slog.LevelError + 4, 21, "fatal"},
		{slog.LevelError + 7, 24, "fatal4"},
		{slog.LevelError + 100, 24, "fatal4"},
	}
	s := startFile(t, "")
	l := slog.New(NewHandler(nil))
	for _, c := range cases {
		if got := Severity(c.l); got != c.sev {
			t.Errorf("Severity(%v) = %d, want %d", c.l, got, c.sev)
		}
		l.Log(context.Background(), c.l, c.name)
	}
	for i, r := range s.records() {
		want(t, r, cases[i].name, "level")
	}
	for sev := uint8(1); sev <= 24; sev++ {
		if Severity(Level(sev)) != sev {
			t.Errorf("Severity(Level(%d)) = %d", sev, Severity(Level(sev)))
		}
	}
}

func TestALevelVarChangesTheLevelWhileRunning(t *testing.T) {
	s := startFile(t, "")
	var lv slog.LevelVar
	l := slog.New(NewHandler(&HandlerOptions{Level: &lv}))
	l.Debug("hidden 1")
	l.Info("shown 1")
	lv.Set(slog.LevelDebug)
	l.Debug("shown 2")
	lv.Set(slog.LevelError)
	l.Warn("hidden 2")
	l.Error("shown 3")
	var msgs []string
	for _, r := range s.records() {
		msgs = append(msgs, r["msg"].(string))
	}
	if w := []string{"shown 1", "shown 2", "shown 3"}; !slices.Equal(msgs, w) {
		t.Errorf("written %q, want %q", msgs, w)
	}
}

func TestRinglogsConfiguredLevelsApplyAndReconfigureChangesThem(t *testing.T) {
	s := startFile(t, `"levels": {"quiet": "warn"}`)
	ctx := context.Background()
	quiet := slog.New(NewHandler(&HandlerOptions{Name: "quiet"}))
	loud := slog.New(NewHandler(&HandlerOptions{Name: "loud"}))
	if quiet.Enabled(ctx, slog.LevelInfo) || !quiet.Enabled(ctx, slog.LevelWarn) {
		t.Error("quiet: Enabled does not follow the configured level warn")
	}
	if !loud.Enabled(ctx, slog.LevelDebug) {
		t.Error("loud: Enabled does not follow the configured level trace")
	}
	quiet.Info("dropped")
	quiet.Warn("kept 1")
	if err := Reconfigure(`{"levels": {"quiet": "debug"}}`); err != nil {
		t.Fatal(err)
	}
	if !quiet.Enabled(ctx, slog.LevelDebug) {
		t.Error("quiet: Enabled does not see the level Reconfigure set")
	}
	quiet.Debug("kept 2")
	var msgs []string
	for _, r := range s.records() {
		msgs = append(msgs, r["msg"].(string))
	}
	if w := []string{"kept 1", "kept 2"}; !slices.Equal(msgs, w) {
		t.Errorf("written %q, want %q", msgs, w)
	}
}

func TestAddSourceWritesTheCallersFunctionFileAndLine(t *testing.T) {
	s := startFile(t, "")
	l := slog.New(NewHandler(&HandlerOptions{AddSource: true}))
	l.Info("here")
	slog.New(NewHandler(nil)).Info("no source")
	rs := s.records()
	want(t, rs[0], "ringlog.invalid/ringlog.TestAddSourceWritesTheCallersFunctionFileAndLine", "source", "function")
	if f, _ := get(rs[0], "source", "file"); !strings.HasSuffix(f.(string), "handler_test.go") {
		t.Errorf("source.file = %v", f)
	}
	if n, _ := get(rs[0], "source", "line"); n == nil || n.(interface{ String() string }).String() == "0" {
		t.Errorf("source.line = %v", n)
	}
	absent(t, rs[1], "source")
}

func TestRecordsHaveTheCallsMessageAndNoOtherFields(t *testing.T) {
	s := startFile(t, "")
	slog.New(NewHandler(nil)).Info("just a message")
	r := s.last()
	want(t, r, "just a message", "msg")
	want(t, r, "info", "level")
	if ks := userKeys(r); len(ks) != 0 {
		t.Errorf("unexpected fields %v", ks)
	}
}
