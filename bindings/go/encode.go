package ringlog

// The encoder: slog attributes to ringlog fields, following the rules the
// log/slog documentation gives handlers (and that slog's JSONHandler
// follows): values are resolved, ReplaceAttr sees every non-group attr,
// empty attrs and empty groups are elided, a group with an empty key is
// inlined.

// #include "ringlog.h"
import "C"

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"time"
	"unsafe"
)

// maxDepth is how deep groups (and JSON objects and arrays from Any
// values) are nested as fields; ringlog refuses records nested over 32
// deep. A deeper value is written as text.
const maxDepth = 30

// isEmpty reports slog's "empty Attr": a zero key and a zero value.
func isEmpty(a slog.Attr) bool {
	return a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil
}

// resolve is Value.Resolve for LogValuers only (Resolve recovers a
// panicking LogValue and returns an error value, as slog specifies).
func resolve(v slog.Value) slog.Value {
	if v.Kind() == slog.KindLogValuer {
		return v.Resolve()
	}
	return v
}

// attr adds a to the entries of the group being built. replace says
// whether ReplaceAttr applies (false for built-ins it has seen already).
func (f *frame) attr(a slog.Attr, replace bool) {
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
	}
	if replace && f.rep != nil && a.Value.Kind() != slog.KindGroup {
		a = f.rep(f.groups, a)
		a.Value = resolve(a.Value)
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		f.push(a.Key, C.RINGLOG_FIELD_STR)
		f.setStr(v.String())
	case slog.KindInt64:
		f.push(a.Key, C.RINGLOG_FIELD_I64).setI64(v.Int64())
	case slog.KindUint64:
		f.push(a.Key, C.RINGLOG_FIELD_U64).setU64(v.Uint64())
	case slog.KindFloat64:
		f.push(a.Key, C.RINGLOG_FIELD_F64).setF64(v.Float64())
	case slog.KindBool:
		f.push(a.Key, C.RINGLOG_FIELD_BOOL).setBool(v.Bool())
	case slog.KindDuration:
		// As slog's JSONHandler: an integer number of nanoseconds.
		f.push(a.Key, C.RINGLOG_FIELD_I64).setI64(int64(v.Duration()))
	case slog.KindTime:
		// As slog's JSONHandler: RFC 3339 with nanoseconds.
		off := len(f.text)
		f.text = v.Time().AppendFormat(f.text, time.RFC3339Nano)
		f.push(a.Key, C.RINGLOG_FIELD_STR)
		f.setText(off, len(f.text)-off)
	case slog.KindGroup:
		f.group(a.Key, v.Group())
	case slog.KindAny:
		x := v.Any()
		if x == nil && a.Key == "" {
			return // slog's empty Attr
		}
		f.anyValue(a.Key, x)
	default:
		// A LogValuer that resolved to a LogValuer too many times was
		// turned into an error by Resolve; nothing else is left.
		f.pushText(a.Key, v.String())
	}
}

// group adds a group attr: its attrs inline when key is empty, otherwise
// as a nested group, elided when nothing in it is written.
func (f *frame) group(key string, attrs []slog.Attr) {
	if len(attrs) == 0 {
		return
	}
	if key == "" {
		for _, a := range attrs {
			f.attr(a, true)
		}
		return
	}
	if f.depth >= maxDepth {
		f.pushText(key, slog.GroupValue(attrs...).String())
		return
	}
	mark := len(f.stack)
	f.depth++
	if f.rep != nil {
		f.groups = append(f.groups, key)
	}
	for _, a := range attrs {
		f.attr(a, true)
	}
	if f.rep != nil {
		f.groups = f.groups[:len(f.groups)-1]
	}
	f.depth--
	start, n := f.flush(mark)
	if n > 0 {
		f.push(key, C.RINGLOG_FIELD_GROUP)
		f.setGroup(start, n)
	}
}

// anyValue writes a KindAny value: nil as null, []byte as bytes (base64
// in JSON), a *slog.Source as its group, an error that is not a
// json.Marshaler as its message (as slog's JSONHandler does), anything
// else through encoding/json, converted back into fields so objects are
// groups and lists are arrays; a value encoding/json cannot encode is
// written as text with fmt's %+v.
func (f *frame) anyValue(key string, v any) {
	switch x := v.(type) {
	case nil:
		f.push(key, C.RINGLOG_FIELD_NULL)
		return
	case []byte:
		f.push(key, C.RINGLOG_FIELD_BYTES)
		f.setBytes(x)
		return
	case *slog.Source:
		if x == nil {
			f.push(key, C.RINGLOG_FIELD_NULL)
			return
		}
		f.group(key, sourceAttrs(x))
		return
	case json.Marshaler:
	case error:
		f.safeText(key, x)
		return
	}
	f.jsonOrFmt(key, v)
}

// sourceAttrs is a Source as slog's JSONHandler writes it.
func sourceAttrs(s *slog.Source) []slog.Attr {
	return []slog.Attr{
		slog.String("function", s.Function),
		slog.String("file", s.File),
		slog.Int("line", s.Line),
	}
}

// safeText writes err.Error(), or, if that panics, what the panic said.
func (f *frame) safeText(key string, err error) {
	off := len(f.text)
	func() {
		defer func() {
			if r := recover(); r != nil {
				f.text = append(f.text[:off], fmt.Sprintf("!PANIC in Error: %v", r)...)
			}
		}()
		f.text = append(f.text, err.Error()...)
	}()
	f.push(key, C.RINGLOG_FIELD_STR)
	f.setText(off, len(f.text)-off)
}

// jsonOrFmt is the documented fallback for Any values.
func (f *frame) jsonOrFmt(key string, v any) {
	data, err := marshalJSON(v)
	if err == nil {
		f.jsonField(key, data)
		return
	}
	off := len(f.text)
	f.text = fmt.Appendf(f.text, "%+v", v)
	f.push(key, C.RINGLOG_FIELD_STR)
	f.setText(off, len(f.text)-off)
}

// marshalJSON is json.Marshal that turns a panic in a MarshalJSON method
// into an error.
func marshalJSON(v any) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("json: panic: %v", r)
		}
	}()
	return json.Marshal(v)
}

// sourceOf is the Source for a program counter, as slog.Record.Source
// gives it.
func sourceOf(pc uintptr) *slog.Source {
	fs := runtime.CallersFrames([]uintptr{pc})
	fr, _ := fs.Next()
	return &slog.Source{Function: fr.Function, File: fr.File, Line: fr.Line}
}

// unixNano is t in ns since the epoch for ringlog, 0 (now) for a zero
// time, and at least 1 for a time before 1970 ringlog cannot represent.
func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	ns := t.UnixNano()
	if ns <= 0 {
		return 1
	}
	return uint64(ns)
}

// cutLimit is the length long text and bytes values are cut to when a
// record was refused as too large.
const cutLimit = 1024

// cut shortens, in place, every text and bytes value longer than
// cutLimit among the fields the frame built, and reports whether it cut
// any. Members of a handler's frozen attrs are outside the frame's array
// and are never touched; the frame's copies of their top-level fields are
// its own.
func (f *frame) cut() bool {
	cutAny := false
	for i := 0; i < f.n; i++ {
		p := f.at(i)
		if p._type != C.RINGLOG_FIELD_STR && p._type != C.RINGLOG_FIELD_BYTES {
			continue
		}
		b := (*C.ringlog_bytes)(unsafe.Pointer(&p.value))
		if int(b.len) <= cutLimit {
			continue
		}
		n := cutLimit
		if p._type == C.RINGLOG_FIELD_STR {
			n = utf8Cut(unsafe.Slice((*byte)(unsafe.Pointer(b.ptr)), int(b.len)), cutLimit)
		}
		b.len = C.size_t(n)
		cutAny = true
	}
	return cutAny
}

// utf8Cut is the largest length <= max at which s can be cut without
// splitting a UTF-8 sequence.
func utf8Cut(s []byte, max int) int {
	if len(s) <= max {
		return len(s)
	}
	n := max
	for n > 0 && n > max-4 && s[n]&0xC0 == 0x80 {
		n--
	}
	return n
}

// markCut appends a "ringlog.truncated": true field to the top-level run
// (start, n), which is the last run in the C array (flush kept a spare
// slot after it).
func (f *frame) markCut(start, n int) int {
	const key = "ringlog.truncated"
	p := f.at(start + n)
	*p = C.ringlog_field{}
	p.key = (*C.char)(unsafe.Pointer(unsafe.StringData(key)))
	p.key_len = C.size_t(len(key))
	p._type = C.RINGLOG_FIELD_BOOL
	*(*C.bool)(unsafe.Pointer(&p.value)) = true
	return n + 1
}
