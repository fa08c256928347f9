package ringlog

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInitReportsConfigurationErrorsNamingTheKey(t *testing.T) {
	err := Init(`{"sinks": {"out": {"type": "file"}}}`)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeConfig || !strings.Contains(e.Msg, "sinks.out.path") {
		t.Fatalf("Init = %v, want a CodeConfig error naming sinks.out.path", err)
	}
	if !errors.Is(err, CodeConfig) || errors.Is(err, CodeIO) {
		t.Error("errors.Is does not match the code")
	}
	if !strings.Contains(err.Error(), "Init") || !strings.Contains(err.Error(), "invalid configuration") {
		t.Errorf("message %q", err)
	}
	if err := Init(`{"level": "loud"}`); !errors.Is(err, CodeConfig) {
		t.Errorf("bad level: %v", err)
	}
}

func TestASecondInitFailsWithCodeStateUntilShutdown(t *testing.T) {
	s := startFile(t, "")
	if err := Init(s.config("", "")); !errors.Is(err, CodeState) {
		t.Errorf("second Init = %v, want CodeState", err)
	}
}

func TestReconfigureAcceptsOnlyLevels(t *testing.T) {
	startFile(t, "")
	if err := Reconfigure(`{"level": "warn"}`); err != nil {
		t.Error(err)
	}
	err := Reconfigure(`{"ring_capacity": 4096}`)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeConfig || !strings.Contains(e.Msg, "ring_capacity") {
		t.Errorf("Reconfigure = %v", err)
	}
}

func TestStatsCountWhatWasLoggedAndWritten(t *testing.T) {
	s := startFile(t, "")
	l := slog.New(NewHandler(nil))
	for i := range 10 {
		l.Info("n", "i", i)
	}
	s.records()
	st, err := Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Logged != 10 || st.Written != 10 || st.BytesWritten == 0 || st.RingsActive == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestAfterShutdownRecordsAreRefusedAndHandlersMoveToTheNextRuntime(t *testing.T) {
	dir := t.TempDir()
	h := NewHandler(&HandlerOptions{Name: "moves"})
	l := slog.New(h.WithAttrs([]slog.Attr{slog.Int("bound", 1)}))
	first := &started{tb: t, dir: filepath.Join(dir, "1"), path: filepath.Join(dir, "1", "out.log")}
	second := &started{tb: t, dir: filepath.Join(dir, "2"), path: filepath.Join(dir, "2", "out.log")}
	for _, s := range []*started{first, second} {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := Init(first.config("", "")); err != nil {
		t.Fatal(err)
	}
	l.Info("one")
	if err := Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), record("refused")); !errors.Is(err, CodeShutdown) {
		t.Errorf("Handle after Shutdown = %v, want CodeShutdown", err)
	}
	if err := Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := Flush(time.Second); err == nil {
		t.Error("Flush after Shutdown succeeded")
	}
	if err := Init(second.config("", "")); err != nil {
		t.Fatal(err)
	}
	defer Shutdown()
	l.Info("two")
	r1 := readRecords(t, first.path)
	r2 := second.records()
	if len(r1) != 1 || r1[0]["msg"] != "one" || len(r2) != 1 || r2[0]["msg"] != "two" {
		t.Fatalf("first runtime wrote %v, second %v", r1, r2)
	}
	want(t, r2[0], 1, "bound")
	want(t, r2[0], "moves", "logger")
}

func TestFlushAndShutdownWriteEverythingLogged(t *testing.T) {
	s := startFile(t, `"flush_interval_ms": 60000, "idle_interval_ms": 60000`)
	l := slog.New(NewHandler(nil))
	for i := range 1000 {
		l.Info("r", "i", i)
	}
	if n := len(s.records()); n != 1000 {
		t.Errorf("after Flush: %d records, want 1000", n)
	}
	for i := range 500 {
		l.Info("r", "i", i)
	}
	if err := Shutdown(); err != nil {
		t.Fatal(err)
	}
	if n := len(readRecords(t, s.path)); n != 1500 {
		t.Errorf("after Shutdown: %d records, want 1500", n)
	}
}

func TestVersionIsTheLibrarys(t *testing.T) {
	if v := Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Errorf("Version() = %q", v)
	}
}

func TestCodesHaveNames(t *testing.T) {
	for c := CodeNull; c <= CodePanic; c++ {
		if strings.HasPrefix(c.String(), "code ") {
			t.Errorf("code %d has no name", c)
		}
	}
	if Code(99).String() != "code 99" {
		t.Error(Code(99).String())
	}
}
