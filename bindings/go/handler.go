package ringlog

// #include "ringlog.h"
import "C"

import (
	"context"
	"log/slog"
	"runtime"
)

// DefaultName is the logger name of a Handler whose options name none.
const DefaultName = "slog"

// HandlerOptions configure a Handler. The zero value (or nil) is valid.
type HandlerOptions struct {
	// Name is the ringlog logger name the records carry ("logger" in the
	// output), which ringlog's per-prefix "levels" and the sinks'
	// include/exclude filters select on. Default DefaultName.
	Name string

	// Level, when set, is the minimum level the handler lets through, read
	// on every call, so a *slog.LevelVar changes it at run time. ringlog's
	// own configured levels ("level", "levels"; default info) apply as
	// well: a record is written only when it passes both. To let a
	// LevelVar alone decide, start ringlog with a level as low as the
	// LevelVar will go, e.g. `"level": "trace"`. When Level is nil, only
	// ringlog's levels apply (so RINGLOG_LEVEL and Reconfigure decide).
	Level slog.Leveler

	// AddSource adds a "source" group with the caller's function, file
	// and line, as slog's JSONHandler writes it.
	AddSource bool

	// ReplaceAttr rewrites each non-group attr before it is written, as
	// slog.HandlerOptions.ReplaceAttr does: its value is resolved first,
	// groups lists the enclosing groups, and a zero Attr removes it. The
	// built-ins are passed too, with groups nil, for each record: "time"
	// (unless the record's time is zero), "level", "source" (with
	// AddSource) and "msg". ringlog writes its own ts, level and msg keys,
	// so for those:
	//   - a "time" attr that is still a time sets the record's timestamp;
	//   - a "level" attr that is still a slog.Level sets its severity;
	//   - a "msg" attr that is still a string sets its message;
	//   - removing "time" or "level" leaves them as they were (ringlog
	//     always writes both), removing "msg" writes an empty message;
	//   - anything else (another key, another kind of value) is written
	//     as a field of its own, named by the collision rule if it keeps
	//     a reserved key (a string "level" becomes "level#2").
	ReplaceAttr func(groups []string, a slog.Attr) slog.Attr
}

// Handler is a slog.Handler that logs through ringlog: each record is
// handed to the C library in one call, from the calling goroutine's OS
// thread into that thread's ring; encoding and I/O happen on ringlog's
// flusher thread. Handlers are safe for concurrent use.
//
// Handlers bind their ringlog logger lazily, on the first record (or the
// first Enabled call), and again after Init or Shutdown through this
// package, so a handler made before Init logs to the runtime Init starts.
//
// How slog values are written:
//
//	String, Int64, Uint64, Float64, Bool  the same JSON type (NaN and the infinities
//	                                      as "NaN", "Infinity", "-Infinity")
//	Duration                              integer nanoseconds
//	Time                                  RFC 3339 text with nanoseconds
//	Group                                 a nested object; an empty key inlines it
//	LogValuer                             its resolved value (a panic in LogValue
//	                                      becomes an error text, as slog does)
//	Any: nil                              null
//	Any: []byte                           base64 text
//	Any: error (not a json.Marshaler)     its Error() text
//	Any: *slog.Source                     {"function", "file", "line"}
//	Any: anything else                    encoding/json's encoding, as fields:
//	                                      objects as objects, lists as arrays;
//	                                      if encoding/json fails, fmt's %+v text
//
// Groups and JSON values nested deeper than 30 levels are written as text
// below that depth (ringlog refuses records nested over 32 deep).
type Handler struct {
	opts   *HandlerOptions
	bind   *binding
	groups []string
	// pre[i] holds the attrs given to WithAttrs while groups[:i+1] were
	// open, frozen; nil when there were none.
	pre []*frozen
}

// NewHandler returns a handler with the given options (nil for the
// defaults). It makes no C call; the ringlog logger is bound on first use.
func NewHandler(opts *HandlerOptions) *Handler {
	o := &HandlerOptions{}
	if opts != nil {
		*o = *opts
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	return &Handler{opts: o, bind: &binding{name: o.Name}}
}

// Enabled reports whether a record at level l would be written: l passes
// the handler's Level (if set) and the ringlog logger's configured level.
// The latter is cached and probed again after Init, Shutdown or
// Reconfigure through this package; a level changed by other means (C
// code in the same process calling ringlog_reconfigure) is seen by Handle
// at once, and by Enabled after the next such call.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	if h.opts.Level != nil && l < h.opts.Level.Level() {
		return false
	}
	st, err := h.bind.get()
	if err != nil {
		return false
	}
	return Severity(l) >= st.min
}

// Handle writes r with one C call, carrying the trace context of ctx (see
// ContextWithTrace). A zero r.Time is stamped by ringlog with the current
// time: the C ABI has no record without a timestamp.
//
// # Errors
//
// An *Error for a record ringlog refused (CodeFull: dropped because the
// ring was full; CodeShutdown: after Shutdown; CodeField); each is counted
// in Stats. For CodeTooLarge the record is written again with every text
// and bytes value over 1 KiB (and the message) cut to 1 KiB and a
// "ringlog.truncated": true field, and the error is still returned.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	st, err := h.bind.get()
	if err != nil {
		return err
	}
	if h.opts.ReplaceAttr == nil && !h.opts.AddSource && len(h.groups) == 0 {
		if ok, err := h.handleSite(st, &r, traceFrom(ctx)); ok {
			return err
		}
	}
	f := getFrame()
	// Deferred, so that a panic in ReplaceAttr still unpins: the Go
	// runtime treats a Pinner dropped with pins as a fatal error.
	defer f.release()
	f.rep = h.opts.ReplaceAttr
	sev, ts, msg := Severity(r.Level), unixNano(r.Time), r.Message
	if f.rep != nil {
		sev, ts, msg = h.builtins(f, &r, sev, ts, msg)
	} else if h.opts.AddSource && r.PC != 0 {
		f.attr(slog.Any(slog.SourceKey, sourceOf(r.PC)), false)
	}
	h.body(f, &r, 0)
	start, n := f.flush(0)
	f.finish()
	var tc *C.ringlog_trace_context
	if t := traceFrom(ctx); t != nil {
		tc = f.setTrace(t)
	}
	rc := cLog(st.h.p, sev, ts, tc, msg, f.fields(start, n), n, f.err)
	if rc == int32(CodeTooLarge) {
		err = newError("Handle", rc, f.errString())
		if f.cut() || len(msg) > cutLimit {
			n = f.markCut(start, n)
			msg = msg[:utf8Cut([]byte(msg), cutLimit)]
			rc = cLog(st.h.p, sev, ts, tc, msg, f.fields(start, n), n, f.err)
		}
	}
	if rc != 0 && err == nil {
		err = newError("Handle", rc, f.errString())
	}
	// The C logger and the frozen attrs the fields point into must outlive
	// the call.
	runtime.KeepAlive(st)
	runtime.KeepAlive(h)
	return err
}

// body adds the record's attrs inside the handler's groups, starting at
// group i: each group holds the attrs frozen for it and the next group,
// and is elided when all of that is empty.
func (h *Handler) body(f *frame, r *slog.Record, i int) {
	if i == len(h.groups) {
		r.Attrs(func(a slog.Attr) bool {
			f.attr(a, true)
			return true
		})
		return
	}
	mark := len(f.stack)
	f.copyFrozen(h.pre[i])
	if f.rep != nil {
		f.groups = append(f.groups, h.groups[i])
	}
	f.depth++
	h.body(f, r, i+1)
	f.depth--
	if f.rep != nil {
		f.groups = f.groups[:len(f.groups)-1]
	}
	start, n := f.flush(mark)
	if n > 0 {
		f.push(h.groups[i], C.RINGLOG_FIELD_GROUP)
		f.setGroup(start, n)
	}
}

// builtins passes the built-in attrs through ReplaceAttr (see
// HandlerOptions.ReplaceAttr), in slog's order: time, level, source, msg.
func (h *Handler) builtins(f *frame, r *slog.Record, sev uint8, ts uint64, msg string) (uint8, uint64, string) {
	rep := f.rep
	if !r.Time.IsZero() {
		a := rep(nil, slog.Time(slog.TimeKey, r.Time.Round(0)))
		a.Value = resolve(a.Value)
		switch {
		case a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime:
			ts = unixNano(a.Value.Time())
		case !isEmpty(a):
			f.attr(a, false)
		}
	}
	a := rep(nil, slog.Any(slog.LevelKey, r.Level))
	a.Value = resolve(a.Value)
	if l, ok := a.Value.Any().(slog.Level); ok && a.Key == slog.LevelKey && a.Value.Kind() == slog.KindAny {
		sev = Severity(l)
	} else if !isEmpty(a) {
		f.attr(a, false)
	}
	if h.opts.AddSource && r.PC != 0 {
		gs := f.groups
		f.groups = nil
		f.attr(slog.Any(slog.SourceKey, sourceOf(r.PC)), true)
		f.groups = gs
	}
	a = rep(nil, slog.String(slog.MessageKey, msg))
	a.Value = resolve(a.Value)
	if a.Key == slog.MessageKey && a.Value.Kind() == slog.KindString {
		msg = a.Value.String()
	} else {
		msg = ""
		if !isEmpty(a) {
			f.attr(a, false)
		}
	}
	return sev, ts, msg
}

// WithAttrs returns a handler whose records carry attrs, inside the groups
// opened so far. The attrs are resolved and passed through ReplaceAttr
// now, as slog's handlers do, and copied into C memory once. Outside any
// group they become the bound fields of a ringlog child logger (encoded
// once by ringlog); inside a group their copy is added to each record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	f := getFrame()
	defer f.release() // see Handle
	f.rep = h.opts.ReplaceAttr
	if f.rep != nil {
		f.groups = append(f.groups[:0], h.groups...)
	}
	f.depth = len(h.groups)
	for _, a := range attrs {
		f.attr(a, true)
	}
	start, n := f.flush(0)
	f.finish()
	if n == 0 {
		return h
	}
	h2 := *h
	run := span{f.fields(start, n), n}
	if len(h.groups) == 0 {
		h2.bind = &binding{name: h.bind.name, bound: freeze(h.bind.bound.span(), run)}
	} else {
		i := len(h.groups) - 1
		h2.pre = append([]*frozen(nil), h.pre...)
		h2.pre[i] = freeze(h.pre[i].span(), run)
	}
	runtime.KeepAlive(h)
	return &h2
}

// WithGroup returns a handler that nests the attrs of later WithAttrs
// calls and of every record in a group called name; an empty name
// returns h. The group is written only for records that put something in
// it.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	h2.pre = append(h.pre[:len(h.pre):len(h.pre)], nil)
	return &h2
}
