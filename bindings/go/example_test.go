package ringlog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"ringlog.invalid/ringlog"
)

func Example() {
	dir, _ := os.MkdirTemp("", "ringlog-example-")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "app.log")
	cfg := fmt.Sprintf(`{"ring_dir": %q, "sinks": {"app": {"type": "file", "path": %q, "json": {"keys": {"time": "", "thread": "", "ring": "", "seq": ""}}}}}`,
		filepath.Join(dir, "rings"), out)
	if err := ringlog.Init(cfg); err != nil {
		fmt.Println(err)
		return
	}
	logger := slog.New(ringlog.NewHandler(&ringlog.HandlerOptions{Name: "payments"}))
	logger.Info("charge ok", "user", "u1", "amount", 12.5)
	logger.With("request_id", "r-42").WithGroup("card").Warn("declined", "code", 51)
	ringlog.Shutdown()

	b, _ := os.ReadFile(out)
	fmt.Print(string(b))
	// Output:
	// {"level":"info","logger":"payments","msg":"charge ok","user":"u1","amount":12.5}
	// {"level":"warn","logger":"payments","msg":"declined","request_id":"r-42","card":{"code":51}}
}

func ExampleInit() {
	// An empty configuration: RINGLOG_CONFIG, or the defaults (JSON lines on
	// stderr), with the RINGLOG_LEVEL, RINGLOG_OUTPUT and RINGLOG_FORMAT
	// overrides.
	if err := ringlog.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer ringlog.Shutdown()
}

func ExampleNewHandler() {
	var level slog.LevelVar // info; level.Set(slog.LevelDebug) takes effect at once
	h := ringlog.NewHandler(&ringlog.HandlerOptions{
		Name:      "http.access",
		Level:     &level,
		AddSource: true,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == "password" {
				return slog.String(a.Key, "***")
			}
			return a
		},
	})
	slog.SetDefault(slog.New(h))
}

func ExampleContextWithTraceparent() {
	ctx, err := ringlog.ContextWithTraceparent(context.Background(),
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Records logged with ctx (logger.InfoContext(ctx, ...), LogAttrs(ctx,
	// ...)) through a Handler carry trace_id, span_id and trace_flags.
	t, _ := ringlog.TraceFromContext(ctx)
	fmt.Println(t)
	// Output: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
}

func ExampleContextWithTrace() {
	t := ringlog.TraceContext{TraceID: [16]byte{0x4b, 0xf9}, SpanID: [8]byte{0xb7}, Flags: 1}
	ctx, err := ringlog.ContextWithTrace(context.Background(), t)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _ := ringlog.TraceFromContext(ctx)
	fmt.Println(got.TraceID[0] == 0x4b, got.Flags)
	// Output: true 1
}

func ExampleFlush() {
	if err := ringlog.Flush(2 * time.Second); errors.Is(err, ringlog.CodeTimeout) {
		fmt.Println("not everything was written within 2s")
	}
}

func ExampleStats() {
	if st, err := ringlog.Stats(); err == nil {
		fmt.Println(st.Logged, st.DroppedFull, st.RingsActive)
	}
}

func ExampleReconfigure() {
	// Levels only: the global one, per logger-name prefix, per sink.
	if err := ringlog.Reconfigure(`{"level": "debug", "levels": {"db": "warn"}}`); err != nil {
		fmt.Println(err)
	}
}

func ExampleError() {
	err := ringlog.Init(`{"level": "loud"}`)
	var e *ringlog.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code == ringlog.CodeConfig, errors.Is(err, ringlog.CodeConfig))
	}
	// Output: true true
}
