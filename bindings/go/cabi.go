package ringlog

// The cgo boundary: the library is linked statically by full path, and
// every entry point is wrapped in a small C function that also copies the
// thread's last error message when the call fails. The message has to be
// read in the same C call: between two cgo calls a goroutine may move to
// another OS thread, and ringlog_last_error is per thread.
//
// No wrapper calls back into Go and none keeps a pointer past its return,
// so all are marked noescape and nocallback (Go 1.24 and later).

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: ${SRCDIR}/../../build/lib/libringlog.a -lpthread -ldl -lm -lrt -lutil

#cgo noescape rl_init
#cgo nocallback rl_init
#cgo noescape rl_reconfigure
#cgo nocallback rl_reconfigure
#cgo noescape rl_recover
#cgo nocallback rl_recover
#cgo noescape rl_flush
#cgo nocallback rl_flush
#cgo noescape rl_shutdown
#cgo nocallback rl_shutdown
#cgo noescape rl_stats
#cgo nocallback rl_stats
#cgo noescape rl_logger_get
#cgo nocallback rl_logger_get
#cgo noescape rl_logger_with
#cgo nocallback rl_logger_with
#cgo noescape rl_min_level
#cgo nocallback rl_min_level
#cgo noescape rl_log
#cgo nocallback rl_log
#cgo noescape rl_log_site
#cgo nocallback rl_log_site
#cgo nocallback ringlog_site_new
#cgo nocallback ringlog_site_free
#cgo nocallback ringlog_logger_free
#cgo nocallback ringlog_version

#include <stdlib.h>
#include <string.h>
#include "ringlog.h"

// Copies the calling thread's last error message into err (cap bytes,
// NUL-terminated, cut to fit).
static void rl_copy_error(char *err, size_t cap) {
	if (err == NULL || cap == 0) return;
	const char *m = ringlog_last_error();
	size_t n = strlen(m);
	if (n >= cap) n = cap - 1;
	memcpy(err, m, n);
	err[n] = 0;
}

#define RL_ERR(rc, err, cap) do { if ((rc) != RINGLOG_OK) rl_copy_error((err), (cap)); } while (0)

static ringlog_result rl_init(const char *cfg, size_t len, char *err, size_t cap) {
	ringlog_result rc = ringlog_init(cfg, len);
	RL_ERR(rc, err, cap);
	return rc;
}

static ringlog_result rl_reconfigure(const char *cfg, size_t len, char *err, size_t cap) {
	ringlog_result rc = ringlog_reconfigure(cfg, len);
	RL_ERR(rc, err, cap);
	return rc;
}

static ringlog_result rl_recover(const char *dir, size_t len, char *err, size_t cap) {
	ringlog_result rc = ringlog_recover(dir, len);
	RL_ERR(rc, err, cap);
	return rc;
}

static ringlog_result rl_flush(uint64_t timeout_ms, char *err, size_t cap) {
	ringlog_result rc = ringlog_flush(timeout_ms);
	RL_ERR(rc, err, cap);
	return rc;
}

static ringlog_result rl_shutdown(char *err, size_t cap) {
	ringlog_result rc = ringlog_shutdown();
	RL_ERR(rc, err, cap);
	return rc;
}

static ringlog_result rl_stats(ringlog_stats *out, char *err, size_t cap) {
	ringlog_result rc = ringlog_stats_get(out);
	RL_ERR(rc, err, cap);
	return rc;
}

static ringlog_result rl_logger_get(const char *name, size_t len, ringlog_logger **out, char *err, size_t cap) {
	ringlog_result rc = ringlog_logger_get(name, len, out);
	RL_ERR(rc, err, cap);
	return rc;
}

static ringlog_result rl_logger_with(const ringlog_logger *parent, const ringlog_field *f, size_t n,
                                     ringlog_logger **out, char *err, size_t cap) {
	ringlog_result rc = ringlog_logger_with(parent, f, n, out);
	RL_ERR(rc, err, cap);
	return rc;
}

// The lowest severity the logger has enabled (25 when none is): a binary
// search over ringlog_logger_enabled, which is monotonic in the level.
static uint8_t rl_min_level(const ringlog_logger *l) {
	uint8_t lo = 1, hi = 25;
	while (lo < hi) {
		uint8_t mid = (uint8_t)((lo + hi) / 2);
		if (ringlog_logger_enabled(l, mid)) hi = mid; else lo = (uint8_t)(mid + 1);
	}
	return lo;
}

// One record, one call: ringlog_log_ctx plus the error message on failure.
// The logger, the trace context, the fields and the error buffer are all
// C memory; they come as integers so that cgo spends no time checking
// them for Go pointers. msg is Go memory, passed for the call only.
static ringlog_result rl_log(uintptr_t l, ringlog_level level, uint64_t ts_ns, uintptr_t ctx,
                             const char *msg, size_t msg_len, uintptr_t f, size_t n, uintptr_t err) {
	ringlog_result rc = ringlog_log_ctx((const ringlog_logger *)l, level, ts_ns,
	                                    (const ringlog_trace_context *)ctx, msg, msg_len,
	                                    (const ringlog_field *)f, n);
	RL_ERR(rc, (char *)err, 512);
	return rc;
}

// One site record, one call: ringlog_log_site_ctx plus the error message
// on failure. Everything is C memory, passed as integers as in rl_log.
static ringlog_result rl_log_site(uintptr_t site, uint64_t ts_ns, uintptr_t ctx, uintptr_t v, size_t n,
                                  uintptr_t err) {
	ringlog_result rc = ringlog_log_site_ctx((const ringlog_site *)site, ts_ns,
	                                         (const ringlog_trace_context *)ctx,
	                                         (const ringlog_value *)v, n);
	RL_ERR(rc, (char *)err, 512);
	return rc;
}
*/
import "C"

import "unsafe"

// errCap is the size of the buffers the wrappers copy error messages into.
const errCap = 512 // rl_log assumes this size too

// errBuf receives a C error message; it lives on the caller's stack (the
// wrappers are noescape).
type errBuf [errCap]byte

func (b *errBuf) ptr() *C.char { return (*C.char)(unsafe.Pointer(&b[0])) }

func (b *errBuf) String() string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b[:])
}

// cstr returns s as the pointer and length the C ABI takes. The bytes are
// Go memory passed for the duration of one call and never written.
func cstr(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// Version is the version of the linked ringlog library, e.g. "0.1.0".
func Version() string { return C.GoString(C.ringlog_version()) }

// cNop makes the cheapest C call the package can: ringlog_version returns
// a static string. What crossing into C costs by itself, the floor under
// every record's call (BenchmarkCgoCall).
func cNop() { C.ringlog_version() }

// The Go side of each wrapper. cgo makes a preamble's static functions
// visible to the Go code of the same file only, so every C call lives here.

func cInit(cfg string) (int32, string) {
	var eb errBuf
	p, n := cstr(cfg)
	if rc := C.rl_init(p, n, eb.ptr(), errCap); rc != 0 {
		return int32(rc), eb.String()
	}
	return 0, ""
}

func cReconfigure(cfg string) (int32, string) {
	var eb errBuf
	p, n := cstr(cfg)
	if rc := C.rl_reconfigure(p, n, eb.ptr(), errCap); rc != 0 {
		return int32(rc), eb.String()
	}
	return 0, ""
}

func cRecover(dir string) (int32, string) {
	var eb errBuf
	p, n := cstr(dir)
	if rc := C.rl_recover(p, n, eb.ptr(), errCap); rc != 0 {
		return int32(rc), eb.String()
	}
	return 0, ""
}

func cFlush(ms uint64) (int32, string) {
	var eb errBuf
	if rc := C.rl_flush(C.uint64_t(ms), eb.ptr(), errCap); rc != 0 {
		return int32(rc), eb.String()
	}
	return 0, ""
}

func cShutdown() (int32, string) {
	var eb errBuf
	if rc := C.rl_shutdown(eb.ptr(), errCap); rc != 0 {
		return int32(rc), eb.String()
	}
	return 0, ""
}

func cStats(out *C.ringlog_stats) (int32, string) {
	var eb errBuf
	if rc := C.rl_stats(out, eb.ptr(), errCap); rc != 0 {
		return int32(rc), eb.String()
	}
	return 0, ""
}

// cLoggerGet returns the root logger called name (starting ringlog with
// the defaults if nothing started it).
func cLoggerGet(name string) (*C.ringlog_logger, int32, string) {
	var eb errBuf
	var out *C.ringlog_logger
	p, n := cstr(name)
	if rc := C.rl_logger_get(p, n, &out, eb.ptr(), errCap); rc != 0 {
		return nil, int32(rc), eb.String()
	}
	return out, 0, ""
}

// cLoggerWith makes a child of parent with n bound fields. fields is C
// memory whose strings are C memory too (a frozen block, see frozen.go).
func cLoggerWith(parent *C.ringlog_logger, fields *C.ringlog_field, n int) (*C.ringlog_logger, int32, string) {
	var eb errBuf
	var out *C.ringlog_logger
	if rc := C.rl_logger_with(parent, fields, C.size_t(n), &out, eb.ptr(), errCap); rc != 0 {
		return nil, int32(rc), eb.String()
	}
	return out, 0, ""
}

func cLoggerFree(l *C.ringlog_logger) { C.ringlog_logger_free(l) }

func cMinLevel(l *C.ringlog_logger) uint8 { return uint8(C.rl_min_level(l)) }

// cLog logs one record. ctx, fields and err are C memory; the strings
// the fields point at are pinned by the caller; msg is Go memory passed
// for the call.
func cLog(l *C.ringlog_logger, sev uint8, ts uint64, ctx *C.ringlog_trace_context, msg string,
	fields *C.ringlog_field, n int, err *C.char) int32 {
	p, pn := cstr(msg)
	return int32(C.rl_log(C.uintptr_t(uintptr(unsafe.Pointer(l))), C.ringlog_level(sev), C.uint64_t(ts),
		C.uintptr_t(uintptr(unsafe.Pointer(ctx))), p, pn,
		C.uintptr_t(uintptr(unsafe.Pointer(fields))), C.size_t(n), C.uintptr_t(uintptr(unsafe.Pointer(err)))))
}

// cLogSite logs one record of site s with n values at v. ctx, v and err
// are C memory; the strings the values point at are C memory or pinned
// by the caller.
func cLogSite(s *C.ringlog_site, ts uint64, ctx *C.ringlog_trace_context, v unsafe.Pointer, n int, err *C.char) int32 {
	return int32(C.rl_log_site(C.uintptr_t(uintptr(unsafe.Pointer(s))), C.uint64_t(ts),
		C.uintptr_t(uintptr(unsafe.Pointer(ctx))), C.uintptr_t(uintptr(v)), C.size_t(n),
		C.uintptr_t(uintptr(unsafe.Pointer(err)))))
}

func cSiteFree(s *C.ringlog_site) { C.ringlog_site_free(s) }
