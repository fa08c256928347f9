// Command service is a small net/http service that logs through ringlog's
// slog handler:
//
//   - every request gets a request-scoped logger (slog's With: request_id,
//     method, path) and ends with one "request handled" record with
//     status, latency_ms and bytes (info, warn for 4xx, error for 5xx);
//   - an incoming W3C traceparent header becomes the request's trace
//     context (ringlog.ContextWithTraceparent), so every record of the
//     request, the inventory's included, carries trace_id, span_id and
//     trace_flags;
//   - GET /fail takes the error path: the error is logged at error level
//     with an err field, and answered with 500;
//   - main starts ringlog and defers ringlog.Shutdown, and exits through a
//     return from run, never os.Exit with records in flight.
//
// Run it with `go run .` to serve on 127.0.0.1:8080 until Ctrl-C, or with
// `go run . -self-test` to serve on a free port, send itself a few
// requests, check the answers, stop and exit (0 when all were as
// expected). The output is configured by RINGLOG_CONFIG, RINGLOG_OUTPUT,
// RINGLOG_FORMAT and RINGLOG_LEVEL; by default JSON lines on stderr at
// level info (RINGLOG_LEVEL=debug shows the inventory's lookups too).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"ringlog.invalid/ringlog"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is main without os.Exit, so its deferred ringlog.Shutdown runs.
func run(args []string) int {
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	selfTest := fs.Bool("self-test", false, "serve on a free port, send a few requests, stop")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	// From RINGLOG_CONFIG or the defaults, with the RINGLOG_* overrides.
	if err := ringlog.Init(""); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		return 1
	}
	// os.Exit skips the atexit handler that would write what is left in
	// the rings; this does it on every return from run.
	defer ringlog.Shutdown()

	// Levels are ringlog's (RINGLOG_LEVEL, default info; the configuration's
	// "levels" per logger name): the handlers set none of their own.
	slog.SetDefault(slog.New(ringlog.NewHandler(&ringlog.HandlerOptions{Name: "inventory"})))
	log := slog.New(ringlog.NewHandler(&ringlog.HandlerOptions{Name: "http"}))

	ln, err := net.Listen("tcp", listenAddr(*addr, *selfTest))
	if err != nil {
		log.Error("cannot listen", "addr", *addr, "err", err)
		return 1
	}
	srv := &http.Server{
		Handler:           newService(log),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("service started", "addr", ln.Addr().String(), "ringlog", ringlog.Version())

	code := 0
	if *selfTest {
		code = selfTestRequests(log, "http://"+ln.Addr().String())
	} else {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		select {
		case s := <-stop:
			log.Info("stopping", "signal", s.String())
		case err := <-served:
			log.Error("server failed", "err", err)
			code = 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("requests still running at shutdown", "err", err)
	}
	log.Info("service stopped", "exit_code", code)
	return code
}

func listenAddr(addr string, selfTest bool) string {
	if selfTest {
		return "127.0.0.1:0"
	}
	return addr
}

// service is the HTTP handler: routes, with logging around each request.
type service struct {
	log *slog.Logger
	mux *http.ServeMux
}

func newService(log *slog.Logger) *service {
	s := &service{log: log, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /items/{sku}", s.item)
	s.mux.HandleFunc("GET /fail", s.fail)
	return s
}

// requestID accepts a client's X-Request-Id when it looks like one.
var requestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

type loggerKey struct{}

// logger is the request-scoped logger that ServeHTTP put in ctx.
func logger(ctx context.Context) *slog.Logger {
	return ctx.Value(loggerKey{}).(*slog.Logger)
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !requestID.MatchString(id) {
		id = newID()
	}
	log := s.log.With("request_id", id, "method", r.Method, "path", r.URL.Path)
	ctx := r.Context()
	if tp := r.Header.Get("traceparent"); tp != "" {
		tctx, err := ringlog.ContextWithTraceparent(ctx, tp)
		if err != nil {
			log.WarnContext(ctx, "ignoring malformed traceparent", "traceparent", tp, "err", err)
		}
		ctx = tctx
	}
	ctx = context.WithValue(ctx, loggerKey{}, log)
	w.Header().Set("X-Request-Id", id)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r.WithContext(ctx))

	level := slog.LevelInfo
	switch {
	case rec.status >= 500:
		level = slog.LevelError
	case rec.status >= 400:
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "request handled",
		slog.Int("status", rec.status),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int("bytes", rec.bytes))
}

func (s *service) index(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": []string{"/health", "/items/{sku}", "/fail"}})
}

func (s *service) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *service) item(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	it, err := lookup(ctx, r.PathValue("sku"))
	if errors.Is(err, errNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	logger(ctx).DebugContext(ctx, "item found", "item", it)
	writeJSON(w, http.StatusOK, it)
}

// errUpstream is what the error path fails with.
var errUpstream = errors.New("payment gateway timed out")

func (s *service) fail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := fmt.Errorf("charging order 42: %w", errUpstream)
	logger(ctx).ErrorContext(ctx, "request failed", "err", err, slog.Group("order", "id", 42, "amount", 99.5))
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status, bytes int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// selfTestTraceparent is the trace context the self-test sends.
const selfTestTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// selfTestRequests sends the service a few requests and checks the
// answers; it returns 0 when all were as expected.
func selfTestRequests(log *slog.Logger, base string) int {
	cases := []struct {
		path, traceparent string
		want              int
	}{
		{"/health", "", 200},
		{"/items/sku-1", selfTestTraceparent, 200},
		{"/items/sku-2", "", 200},
		{"/items/nope", "", 404},
		{"/fail", "", 500},
		{"/health", "not-a-traceparent", 200},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	failed := 0
	for i, c := range cases {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		req.Header.Set("X-Request-Id", fmt.Sprintf("self-test-%d", i+1))
		if c.traceparent != "" {
			req.Header.Set("traceparent", c.traceparent)
		}
		resp, err := client.Do(req)
		if err != nil {
			log.Error("self-test request failed", "path", c.path, "err", err)
			failed++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			log.Error("self-test: unexpected status", "path", c.path, "status", resp.StatusCode, "want", c.want)
			failed++
		}
	}
	fmt.Printf("self-test: %d requests, %d as expected\n", len(cases), len(cases)-failed)
	if failed > 0 {
		return 1
	}
	return 0
}
