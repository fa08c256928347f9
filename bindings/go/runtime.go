package ringlog

import (
	"sync/atomic"
	"time"
)

// Epochs let handlers notice, with one atomic load, that the runtime they
// bound their C logger to was replaced, or that levels changed.
var (
	// runtimeEpoch changes on every Init and Shutdown made through this
	// package: a handler's C logger from an older epoch is re-made.
	// Ordering: Go's atomics are sequentially consistent; the C call that
	// changed the runtime happens before the Add, and a handler that loads
	// the new value re-binds afterwards.
	runtimeEpoch atomic.Uint64
	// levelEpoch changes on Init, Shutdown and Reconfigure: a handler's
	// cached minimum level from an older epoch is probed again.
	levelEpoch atomic.Uint64
)

// Init starts ringlog with a JSON configuration (see the configuration
// table in the repository's README.md). An empty string means: from
// RINGLOG_CONFIG, or the defaults. The RINGLOG_LEVEL, RINGLOG_OUTPUT and
// RINGLOG_FORMAT overrides apply either way.
//
// Call it before the first record: a handler that logs first starts
// ringlog with the defaults, and Init then fails with CodeState. After
// Shutdown, Init may start a new runtime; handlers made before move to
// it on their next record.
//
// Init also registers ringlog's atexit handler, but os.Exit (and so
// log.Fatal) skips atexit handlers: use
//
//	defer ringlog.Shutdown()
//
// in main, and return from main instead of calling os.Exit. Records a
// process leaves behind are still recovered at the next start with the
// same ring directory ("recover_on_start", on by default).
//
// # Errors
//
// An *Error with CodeConfig (the message names the key), CodeIO or
// CodeState (already running).
func Init(configJSON string) error {
	if rc, msg := cInit(configJSON); rc != 0 {
		return newError("Init", rc, msg)
	}
	runtimeEpoch.Add(1)
	levelEpoch.Add(1)
	return nil
}

// Reconfigure changes levels at run time from a JSON document:
//
//	{"level": "debug", "levels": {"db": "warn"}, "sinks": {"file": {"level": "info"}}}
//
// # Errors
//
// An *Error with CodeConfig (only levels can change at run time; the
// message names the key) or CodeState (not running).
func Reconfigure(configJSON string) error {
	rc, msg := cReconfigure(configJSON)
	levelEpoch.Add(1)
	if rc != 0 {
		return newError("Reconfigure", rc, msg)
	}
	return nil
}

// Recover writes out the records of dead ringlog instances under ringDir
// (empty: the running runtime's own ring directory) through the configured
// sinks, marked "recovered": true, and waits for it. Init already does this
// for its own ring directory unless "recover_on_start" is false.
//
// # Errors
//
// An *Error with CodeState (not running), CodeConfig (a path with a NUL
// byte), CodeTimeout (the recovery still finishes) or CodeShutdown.
func Recover(ringDir string) error {
	if rc, msg := cRecover(ringDir); rc != 0 {
		return newError("Recover", rc, msg)
	}
	return nil
}

// Flush waits until every record logged before the call is written (and
// synced, for sinks with a sync policy), at most timeout (rounded up to a
// millisecond; 0 or less waits 1 ms).
//
// # Errors
//
// An *Error with CodeTimeout, CodeShutdown or CodeState (never started).
func Flush(timeout time.Duration) error {
	ms := (timeout + time.Millisecond - 1) / time.Millisecond
	if ms < 1 {
		ms = 1
	}
	if rc, msg := cFlush(uint64(ms)); rc != 0 {
		return newError("Flush", rc, msg)
	}
	return nil
}

// Shutdown writes everything logged, stops the flusher and removes the
// instance directory (waiting at most the configured
// "shutdown_timeout_ms", default 5 s). Later records are refused with
// CodeShutdown until the next Init. It is safe to call more than once and
// before Init. Use it as
//
//	func main() {
//		if err := ringlog.Init(cfg); err != nil { ... }
//		defer ringlog.Shutdown()
//		...
//	}
//
// because os.Exit skips the atexit handler that would otherwise do it.
//
// # Errors
//
// An *Error with CodeTimeout: the instance directory is left for recovery.
func Shutdown() error {
	rc, msg := cShutdown()
	runtimeEpoch.Add(1)
	levelEpoch.Add(1)
	if rc != 0 {
		return newError("Shutdown", rc, msg)
	}
	return nil
}
