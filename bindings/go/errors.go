package ringlog

import "fmt"

// Code is a ringlog result code from the C ABI (the RINGLOG_E_* values in
// include/ringlog.h). It implements error, so errors.Is can test an
// error this package returns against one of the constants:
//
//	if errors.Is(err, ringlog.CodeTimeout) { ... }
type Code int32

// The result codes, with the meanings include/ringlog.h gives them.
const (
	// CodeNull: a required pointer was NULL (a bug in this package).
	CodeNull Code = 1
	// CodeConfig: the configuration is invalid; the message names the key.
	CodeConfig Code = 2
	// CodeIO: a file or directory could not be created or opened.
	CodeIO Code = 3
	// CodeState: the call does not fit the runtime's state (Init while one
	// runs, Stats before any start).
	CodeState Code = 4
	// CodeShutdown: the runtime was shut down; the record was refused.
	CodeShutdown Code = 5
	// CodeFull: the thread's ring was full; the record was dropped and
	// counted, and the output carries a drop report.
	CodeFull Code = 6
	// CodeTooLarge: the record is larger than half a ring.
	CodeTooLarge Code = 7
	// CodeField: a field could not be read (key over 65535 bytes, groups
	// nested over 32 deep).
	CodeField Code = 8
	// CodeTimeout: the flusher did not finish within the timeout.
	CodeTimeout Code = 9
	// CodeTrace: a traceparent or trace id is malformed.
	CodeTrace Code = 10
	// CodeLevel: the level is not a severity number 1..24.
	CodeLevel Code = 11
	// CodeNotImplemented: the feature is not available yet.
	CodeNotImplemented Code = 12
	// CodePanic: a panic inside ringlog was caught at the C boundary.
	CodePanic Code = 13
)

var codeNames = [...]string{
	0:                  "ok",
	CodeNull:           "null pointer",
	CodeConfig:         "invalid configuration",
	CodeIO:             "i/o error",
	CodeState:          "wrong state",
	CodeShutdown:       "shut down",
	CodeFull:           "ring full",
	CodeTooLarge:       "record too large",
	CodeField:          "invalid field",
	CodeTimeout:        "timeout",
	CodeTrace:          "invalid trace context",
	CodeLevel:          "invalid level",
	CodeNotImplemented: "not implemented",
	CodePanic:          "internal panic",
}

// String names the code ("timeout", "ring full", ...).
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code %d", int32(c))
}

// Error makes a bare Code usable as an error and as an errors.Is target.
func (c Code) Error() string { return "ringlog: " + c.String() }

// Error is a failed ringlog call: the operation, the C result code and
// the message ringlog gave for it. It unwraps to its Code.
type Error struct {
	// Op is the Go function that failed ("Init", "Flush", "Handle", ...).
	Op string
	// Code is the C result code.
	Code Code
	// Msg is ringlog_last_error's message for the call (may be empty).
	Msg string
}

// Error formats the error as "ringlog: Op: message (code name)".
func (e *Error) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("ringlog: %s: %s", e.Op, e.Code.String())
	}
	return fmt.Sprintf("ringlog: %s: %s (%s)", e.Op, e.Msg, e.Code.String())
}

// Unwrap returns the Code, for errors.Is.
func (e *Error) Unwrap() error { return e.Code }

// newError wraps a non-zero result code and the message copied with it.
func newError(op string, rc int32, msg string) error {
	return &Error{Op: op, Code: Code(rc), Msg: msg}
}
