package ringlog

// A frame is the scratch space of one call into ringlog: the C array the
// record's fields are laid out in, the text generated for them, a C copy
// of the short strings, and the Pinner that keeps the longer Go strings
// they point at in place.
//
// Why this shape (cgo's pointer rules):
//   - Fields live in C memory, so the field array passed to C is not Go
//     memory that contains Go pointers (which cgocheck refuses).
//   - Short strings (keys and values up to copyMax bytes, nearly all of
//     them) are copied into the frame's C text buffer while it has room
//     (cText bytes, never moved, so a field points into it at once): a
//     copy of a few bytes costs less than a pin and an unpin
//     (runtime.Pinner checks the span of every pointer, even of a literal
//     that is not in the heap).
//   - Longer strings, and short ones once the C text buffer is full, are
//     not copied: the field points at the Go string's bytes. Storing a Go
//     pointer in C memory is allowed only for a pinned object, so every
//     such string is pinned before it is stored, and unpinned after the
//     call.
//   - Text the binding makes itself (a formatted time, an error's message,
//     the JSON fallback) goes into one Go byte slice, pinned once per call.
//
// A group's members must be contiguous. Members are first collected on a
// Go-side stack; when a group is complete its members are copied to the
// end of the C array in one run, and the group field refers to them by
// index. Indexes become pointers in finish, once the C array and the text
// slice have stopped growing.
//
// Frames are reused through a sync.Pool, so a call allocates nothing once
// the pool is warm; a frame's C memory is freed by a cleanup when the pool
// drops it.

/*
#include <stdlib.h>
#include "ringlog.h"
*/
import "C"

import (
	"log/slog"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

const fieldSize = int(C.sizeof_ringlog_field)

// Frames that grew past these sizes are shrunk before going back to the
// pool, so one huge record does not keep its memory.
const (
	keepFields = 256
	keepText   = 16 << 10
)

// copyMax is the longest string copied into the C text buffer rather
// than pinned where it is.
const copyMax = 64

// cText is the size of a frame's C text buffer.
const cText = 4096

// fixKind says what an index in a fixup refers to.
type fixKind uint8

const (
	fixGroup fixKind = iota + 1 // value.group.fields = &fields[off]
	fixText                     // value.str.ptr = &text[off]
	fixKey                      // key = &text[off]
)

// fixup is an index-to-pointer conversion applied in finish. On the
// stack (frame.pending) idx is a stack index; flush turns it into an
// index of the C array.
type fixup struct {
	idx  int32
	off  int32
	kind fixKind
}

// entry is a ringlog_field, byte for byte, as the stack holds it: its
// addresses are integers, so the stack has no pointers for the garbage
// collector to scan or write barriers to record. What they address is C
// memory, or Go memory pinned until the call returns (and kept alive by
// the Pinner meanwhile).
type entry struct {
	key    uintptr
	keyLen uintptr
	typ    uint32
	_      uint32
	v0     uint64 // a number, or the address of a string or a group's fields
	v1     uint64 // a string's length or a group's count
}

// The layout of entry is the C struct's; these fail to compile otherwise.
var (
	_ [unsafe.Sizeof(entry{}) - C.sizeof_ringlog_field]byte
	_ [C.sizeof_ringlog_field - unsafe.Sizeof(entry{})]byte
	_ [unsafe.Offsetof(entry{}.typ) - unsafe.Offsetof(C.ringlog_field{}._type)]byte
	_ [unsafe.Offsetof(C.ringlog_field{}._type) - unsafe.Offsetof(entry{}.typ)]byte
	_ [unsafe.Offsetof(entry{}.v0) - unsafe.Offsetof(C.ringlog_field{}.value)]byte
	_ [unsafe.Offsetof(C.ringlog_field{}.value) - unsafe.Offsetof(entry{}.v0)]byte
	_ [unsafe.Offsetof(C.ringlog_bytes{}.len) - 8]byte
	_ [8 - unsafe.Offsetof(C.ringlog_bytes{}.len)]byte
	_ [unsafe.Offsetof(C.ringlog_group{}.n) - 8]byte
	_ [8 - unsafe.Offsetof(C.ringlog_group{}.n)]byte
)

// cmem is a frame's C memory; it is a separate object so the cleanup that
// frees it does not keep the frame itself reachable.
type cmem struct {
	fields unsafe.Pointer // cap ringlog_field entries
	extra  unsafe.Pointer // a ringlog_trace_context, then the error buffer
	ctext  unsafe.Pointer // cText bytes: the copied strings
}

// frame is the scratch space of one call (see the top of this file).
type frame struct {
	// mem owns the C allocations; base and the trace context and error
	// buffer below point into it.
	mem *cmem
	// base is the C field array, cap fields long, n of them used.
	base *C.ringlog_field
	cap  int
	n    int
	// stack holds the entries of the groups being built, innermost last.
	stack []entry
	// pending are the fixups of entries still on the stack, in stack order.
	pending []fixup
	// text holds the text the binding made (see pushText).
	text []byte
	// ctextLen bytes of the C text buffer (mem.ctext) hold the short
	// strings copied so far.
	ctextLen int
	// fix are the fixups of fields already in the C array.
	fix []fixup
	// pin pins every Go string a field points at, until release.
	pin runtime.Pinner
	// ctx is the C trace context passed with the record.
	ctx *C.ringlog_trace_context
	// err receives the C error message of a failed call (errCap bytes).
	err *C.char

	// rep is the handler's ReplaceAttr (nil for none).
	rep func(groups []string, a slog.Attr) slog.Attr
	// groups are the names of the groups around the attr being added,
	// kept only when rep is set (it is ReplaceAttr's argument).
	groups []string
	// depth is how many groups deep the attr being added is.
	depth int
}

var framePool = sync.Pool{New: func() any { return newFrame() }}

func newFrame() *frame {
	const ctxSize = int(C.sizeof_ringlog_trace_context)
	m := &cmem{
		fields: C.malloc(C.size_t(16 * fieldSize)),
		extra:  C.malloc(C.size_t(ctxSize + errCap)),
		ctext:  C.malloc(C.size_t(cText)),
	}
	if m.fields == nil || m.extra == nil || m.ctext == nil {
		panic("ringlog: out of C memory")
	}
	f := &frame{
		mem:     m,
		base:    (*C.ringlog_field)(m.fields),
		cap:     16,
		ctx:     (*C.ringlog_trace_context)(m.extra),
		err:     (*C.char)(unsafe.Add(m.extra, ctxSize)),
		stack:   make([]entry, 0, 16),
		pending: make([]fixup, 0, 8),
		fix:     make([]fixup, 0, 8),
	}
	runtime.AddCleanup(f, func(m *cmem) {
		C.free(m.fields)
		C.free(m.extra)
		C.free(m.ctext)
	}, m)
	return f
}

func getFrame() *frame { return framePool.Get().(*frame) }

// release unpins everything and returns f to the pool.
func (f *frame) release() {
	f.pin.Unpin()
	f.reset()
	f.rep = nil
	f.groups = f.groups[:0]
	if f.cap > keepFields {
		p := C.realloc(f.mem.fields, C.size_t(keepFields*fieldSize))
		if p != nil {
			f.mem.fields, f.base, f.cap = p, (*C.ringlog_field)(p), keepFields
		}
	}
	if cap(f.text) > keepText {
		f.text = nil
	}
	if cap(f.stack) > keepFields {
		f.stack = make([]entry, 0, 16)
	}
	if cap(f.pending) > keepFields {
		f.pending = make([]fixup, 0, 8)
	}
	if cap(f.fix) > keepFields {
		f.fix = make([]fixup, 0, 8)
	}
	framePool.Put(f)
}

// reset forgets the fields and text built so far (the pins stay until
// release).
func (f *frame) reset() {
	f.n = 0
	f.stack = f.stack[:0]
	f.pending = f.pending[:0]
	f.text = f.text[:0]
	f.ctextLen = 0
	f.fix = f.fix[:0]
	f.depth = 0
}

// at is the address of field i of the C array.
func (f *frame) at(i int) *C.ringlog_field {
	return (*C.ringlog_field)(unsafe.Add(unsafe.Pointer(f.base), i*fieldSize))
}

// ensure grows the C array to hold at least n fields.
func (f *frame) ensure(n int) {
	if n <= f.cap {
		return
	}
	c := f.cap * 2
	for c < n {
		c *= 2
	}
	p := C.realloc(f.mem.fields, C.size_t(c*fieldSize))
	if p == nil {
		panic("ringlog: out of C memory")
	}
	f.mem.fields, f.base, f.cap = p, (*C.ringlog_field)(p), c
}

// next returns a new entry on top of the stack, zeroed but for its type.
// (Its fields are stored one by one: building an entry value and copying
// it in made overlapping stores that stalled the copy's loads.)
func (f *frame) next(typ C.ringlog_field_type) *entry {
	n := len(f.stack)
	if n == cap(f.stack) {
		f.stack = append(f.stack, entry{})
	} else {
		f.stack = f.stack[:n+1]
	}
	e := &f.stack[n]
	e.key, e.keyLen, e.typ, e.v0, e.v1 = 0, 0, uint32(typ), 0, 0
	return e
}

// strPtr is the address to give C for s: a copy in the C text buffer
// when s is short and the buffer has room, else s's bytes, pinned.
func (f *frame) strPtr(s string) uintptr {
	n := len(s)
	if n <= copyMax && f.ctextLen+n <= cText {
		dst := unsafe.Add(f.mem.ctext, f.ctextLen)
		copy(unsafe.Slice((*byte)(dst), n), s)
		f.ctextLen += n
		return uintptr(dst)
	}
	p := unsafe.StringData(s)
	f.pin.Pin(p)
	return uintptr(unsafe.Pointer(p))
}

// push adds an entry with a Go string key (see strPtr).
func (f *frame) push(key string, typ C.ringlog_field_type) *entry {
	e := f.next(typ)
	if n := len(key); n > 0 {
		e.key, e.keyLen = f.strPtr(key), uintptr(n)
	}
	return e
}

// pushTextKey adds an entry whose key is text[off:off+n].
func (f *frame) pushTextKey(off, n int, typ C.ringlog_field_type) *entry {
	e := f.next(typ)
	e.keyLen = uintptr(n)
	if n > 0 {
		f.pending = append(f.pending, fixup{idx: int32(len(f.stack) - 1), off: int32(off), kind: fixKey})
	}
	return e
}

func (e *entry) setI64(v int64) { e.v0 = uint64(v) }

func (e *entry) setU64(v uint64) { e.v0 = v }

func (e *entry) setF64(v float64) { e.v0 = math.Float64bits(v) }

func (e *entry) setBool(v bool) { *(*C.bool)(unsafe.Pointer(&e.v0)) = C.bool(v) }

// setStr makes s the value of the entry on top of the stack (see
// strPtr).
func (f *frame) setStr(s string) {
	e := &f.stack[len(f.stack)-1]
	e.v1 = uint64(len(s))
	if len(s) > 0 {
		e.v0 = uint64(f.strPtr(s))
	}
}

// setBytes makes v the value of the entry on top of the stack, as
// setStr does.
func (f *frame) setBytes(v []byte) {
	f.setStr(unsafe.String(unsafe.SliceData(v), len(v)))
}

// setText makes the value of the entry on top of the stack text[off:off+n].
func (f *frame) setText(off, n int) {
	e := &f.stack[len(f.stack)-1]
	e.v1 = uint64(n)
	if n > 0 {
		f.pending = append(f.pending, fixup{idx: int32(len(f.stack) - 1), off: int32(off), kind: fixText})
	}
}

// setGroup makes the value of the entry on top of the stack the n fields
// at index start of the C array.
func (f *frame) setGroup(start, n int) {
	e := &f.stack[len(f.stack)-1]
	e.v1 = uint64(n)
	if n > 0 {
		f.pending = append(f.pending, fixup{idx: int32(len(f.stack) - 1), off: int32(start), kind: fixGroup})
	}
}

// pushText adds a text field with a Go string key, holding s copied into
// the text buffer (for text the binding made, not the caller's strings).
func (f *frame) pushText(key string, s string) {
	off := len(f.text)
	f.text = append(f.text, s...)
	f.push(key, C.RINGLOG_FIELD_STR)
	f.setText(off, len(s))
}

// flush moves the entries above mark to the end of the C array, in one
// contiguous run, and returns where they start and how many there are.
func (f *frame) flush(mark int) (start, n int) {
	n = len(f.stack) - mark
	start = f.n
	// One spare slot after the run, even an empty one: see markCut.
	f.ensure(f.n + n + 1)
	if n == 0 {
		return start, 0
	}
	copy(unsafe.Slice((*entry)(unsafe.Pointer(f.at(start))), n), f.stack[mark:])
	k := len(f.pending)
	for k > 0 && int(f.pending[k-1].idx) >= mark {
		k--
	}
	for _, x := range f.pending[k:] {
		x.idx += int32(start - mark)
		f.fix = append(f.fix, x)
	}
	f.pending = f.pending[:k]
	f.n += n
	f.stack = f.stack[:mark]
	return start, n
}

// finish turns the fixups' indexes into pointers. Nothing may be added
// to the C array or the text after it.
func (f *frame) finish() {
	if len(f.fix) == 0 {
		return
	}
	var text unsafe.Pointer
	if len(f.text) > 0 {
		text = unsafe.Pointer(unsafe.SliceData(f.text))
		f.pin.Pin(text)
	}
	for _, x := range f.fix {
		p := f.at(int(x.idx))
		switch x.kind {
		case fixGroup:
			(*C.ringlog_group)(unsafe.Pointer(&p.value)).fields = f.at(int(x.off))
		case fixText:
			(*C.ringlog_bytes)(unsafe.Pointer(&p.value)).ptr = (*C.char)(unsafe.Add(text, x.off))
		case fixKey:
			p.key = (*C.char)(unsafe.Add(text, x.off))
		}
	}
}

// fields returns the C pointer for n fields at start (NULL for none).
func (f *frame) fields(start, n int) *C.ringlog_field {
	if n == 0 {
		return nil
	}
	return f.at(start)
}

// setTrace copies t into the frame's C trace context and returns it.
func (f *frame) setTrace(t *TraceContext) *C.ringlog_trace_context {
	c := f.ctx
	for i, b := range t.TraceID {
		c.trace_id[i] = C.uint8_t(b)
	}
	for i, b := range t.SpanID {
		c.span_id[i] = C.uint8_t(b)
	}
	c.flags = C.uint8_t(t.Flags)
	return c
}

// errString is the message the last failed call copied.
func (f *frame) errString() string { return C.GoString(f.err) }
