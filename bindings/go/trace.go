package ringlog

import (
	"context"
	"encoding/hex"
)

// TraceContext is a W3C trace context: the ids a record carries as
// trace_id, span_id and trace_flags.
type TraceContext struct {
	// TraceID is the 16-byte trace id (not all zero).
	TraceID [16]byte
	// SpanID is the 8-byte id of the current span (not all zero).
	SpanID [8]byte
	// Flags are the trace flags (bit 0: sampled).
	Flags byte
}

// IsValid reports whether neither id is all zeros.
func (t TraceContext) IsValid() bool {
	return t.TraceID != [16]byte{} && t.SpanID != [8]byte{}
}

// String formats t as a version 00 traceparent header value:
// "00-<trace id>-<span id>-<flags>", lowercase hex.
func (t TraceContext) String() string {
	var b [55]byte
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], t.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], t.SpanID[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{t.Flags})
	return string(b[:])
}

// ParseTraceparent parses a W3C traceparent header value,
// "<version>-<32 hex trace id>-<16 hex span id>-<2 hex flags>". Version
// 00 must have exactly these four parts; a later version may add parts
// after a '-', which are ignored, as the W3C recommendation says. Hex
// digits must be lowercase.
//
// # Errors
//
// An *Error with CodeTrace naming the part that is wrong.
func ParseTraceparent(tp string) (TraceContext, error) {
	var t TraceContext
	bad := func(what string) (TraceContext, error) {
		return TraceContext{}, &Error{Op: "ParseTraceparent", Code: CodeTrace, Msg: what}
	}
	if len(tp) < 55 {
		return bad("traceparent is shorter than 55 characters")
	}
	if tp[2] != '-' || tp[35] != '-' || tp[52] != '-' {
		return bad("traceparent parts are not separated by '-'")
	}
	var ver [1]byte
	if !lowerHex(ver[:], tp[0:2]) || ver[0] == 0xff {
		return bad("invalid version")
	}
	if ver[0] == 0 && len(tp) != 55 {
		return bad("version 00 has exactly 55 characters")
	}
	if len(tp) > 55 && tp[55] != '-' {
		return bad("traceparent has trailing characters")
	}
	if !lowerHex(t.TraceID[:], tp[3:35]) {
		return bad("trace id is not 32 lowercase hex digits")
	}
	if !lowerHex(t.SpanID[:], tp[36:52]) {
		return bad("span id (parent id) is not 16 lowercase hex digits")
	}
	var fl [1]byte
	if !lowerHex(fl[:], tp[53:55]) {
		return bad("trace flags are not 2 lowercase hex digits")
	}
	t.Flags = fl[0]
	if t.TraceID == [16]byte{} {
		return bad("trace id is all zeros")
	}
	if t.SpanID == [8]byte{} {
		return bad("span id is all zeros")
	}
	return t, nil
}

// lowerHex decodes len(dst)*2 lowercase hex digits of s into dst.
func lowerHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := hexVal(s[2*i])
		lo, ok2 := hexVal(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// traceKey is the context key of a *TraceContext.
type traceKey struct{}

// ContextWithTrace returns a copy of ctx that carries t. Every record the
// Handler logs with that context (slog's InfoContext, LogAttrs, ...)
// carries t's trace_id, span_id and trace_flags.
//
// # Errors
//
// An *Error with CodeTrace when an id is all zeros.
func ContextWithTrace(ctx context.Context, t TraceContext) (context.Context, error) {
	if !t.IsValid() {
		return ctx, &Error{Op: "ContextWithTrace", Code: CodeTrace, Msg: "trace id or span id is all zeros"}
	}
	return context.WithValue(ctx, traceKey{}, &t), nil
}

// ContextWithTraceIDs is ContextWithTrace from the raw ids and flags.
func ContextWithTraceIDs(ctx context.Context, traceID [16]byte, spanID [8]byte, flags byte) (context.Context, error) {
	return ContextWithTrace(ctx, TraceContext{TraceID: traceID, SpanID: spanID, Flags: flags})
}

// ContextWithTraceparent returns a copy of ctx that carries the trace
// context of a W3C traceparent header value (see ParseTraceparent).
//
// # Errors
//
// As ParseTraceparent; ctx is returned unchanged.
func ContextWithTraceparent(ctx context.Context, traceparent string) (context.Context, error) {
	t, err := ParseTraceparent(traceparent)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, traceKey{}, &t), nil
}

// TraceFromContext returns the trace context ctx carries, if any.
func TraceFromContext(ctx context.Context) (TraceContext, bool) {
	if t := traceFrom(ctx); t != nil {
		return *t, true
	}
	return TraceContext{}, false
}

func traceFrom(ctx context.Context) *TraceContext {
	if ctx == nil {
		return nil
	}
	t, _ := ctx.Value(traceKey{}).(*TraceContext)
	return t
}
