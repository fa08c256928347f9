// Package ringlog is the Go binding of ringlog, a structured-logging
// runtime with per-thread, file-backed ring buffers and a flusher thread
// that encodes and writes records off the caller's thread.
//
// The binding is a cgo package over ringlog's C ABI (include/ringlog.h),
// linked with the static library (build/lib/libringlog.a, made by `make
// lib` in the repository), so a Go binary carries ringlog with no shared
// library to install. Its main type is a slog.Handler:
//
//	func main() {
//		if err := ringlog.Init(`{"sinks": {"app": {"type": "file", "path": "app.log"}}}`); err != nil {
//			log.Fatal(err)
//		}
//		defer ringlog.Shutdown() // os.Exit skips the atexit handler that would write the rest
//
//		logger := slog.New(ringlog.NewHandler(&ringlog.HandlerOptions{Name: "payments"}))
//		logger.Info("charge ok", "user", "u1", "amount", 12.5)
//	}
//
// Each record costs one C call, made on the calling goroutine's OS thread:
// the record goes into that thread's ring, and ringlog's flusher writes it.
// Keys and strings of up to 64 bytes are copied into C memory of the
// call; longer ones are passed to C by pointer and length, pinned for the
// call (runtime.Pinner). The C side copies them into the ring and keeps
// no pointer. Logging allocates nothing once the handler's pool of
// call frames is warm.
//
// Rings are per OS thread, not per goroutine: goroutines share the ring of
// the thread they run on, and a Go program has as many rings as OS threads
// that have logged, each ring_capacity bytes (1 MiB by default) of shared
// memory. See README.md in this directory.
//
// Trace context comes from the context.Context given to slog's ...Context
// methods and LogAttrs: see ContextWithTraceparent and ContextWithTrace.
// The rest of the C ABI is here as functions: Init, Reconfigure, Flush,
// Shutdown, Stats, Recover, Version. Their errors are *Error values that
// unwrap to a Code.
package ringlog
