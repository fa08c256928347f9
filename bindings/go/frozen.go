package ringlog

// Frozen attrs: fields deep-copied into one block of C memory, keys and
// strings included, so they hold no Go pointer and can be kept for the
// life of a handler. WithAttrs freezes the attrs it is given (after
// resolving them and applying ReplaceAttr, as slog's handlers do at
// WithAttrs time); a record then copies only the top-level field structs.

/*
#include <stdlib.h>
#include <string.h>
#include "ringlog.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// frozen is a block of C memory: n top-level fields at top, their members
// after them, then the bytes of every key and string.
type frozen struct {
	top *C.ringlog_field
	n   int
}

// span is a run of fields to freeze.
type span struct {
	p *C.ringlog_field
	n int
}

func fieldAt(p *C.ringlog_field, i int) *C.ringlog_field {
	return (*C.ringlog_field)(unsafe.Add(unsafe.Pointer(p), i*fieldSize))
}

// measure counts the fields and key and string bytes under p[0:n].
func measure(p *C.ringlog_field, n int) (fields, bytes int) {
	for i := 0; i < n; i++ {
		q := fieldAt(p, i)
		fields++
		bytes += int(q.key_len)
		switch q._type {
		case C.RINGLOG_FIELD_STR, C.RINGLOG_FIELD_BYTES:
			bytes += int((*C.ringlog_bytes)(unsafe.Pointer(&q.value)).len)
		case C.RINGLOG_FIELD_GROUP, C.RINGLOG_FIELD_ARRAY:
			g := (*C.ringlog_group)(unsafe.Pointer(&q.value))
			nf, nb := measure(g.fields, int(g.n))
			fields += nf
			bytes += nb
		}
	}
	return fields, bytes
}

// freezer copies fields into a block.
type freezer struct {
	fields *C.ringlog_field // the block's field area
	nf     int              // fields placed
	bytes  unsafe.Pointer   // the block's byte area
	nb     int              // bytes placed
}

func (z *freezer) bytesOf(p *C.char, n int) *C.char {
	if n == 0 {
		return nil
	}
	dst := unsafe.Add(z.bytes, z.nb)
	C.memcpy(dst, unsafe.Pointer(p), C.size_t(n))
	z.nb += n
	return (*C.char)(dst)
}

// copyOne copies field s to d, its key and string bytes and its members
// into the block.
func (z *freezer) copyOne(d, s *C.ringlog_field) {
	*d = *s
	d.key = z.bytesOf(s.key, int(s.key_len))
	switch s._type {
	case C.RINGLOG_FIELD_STR, C.RINGLOG_FIELD_BYTES:
		b := (*C.ringlog_bytes)(unsafe.Pointer(&d.value))
		b.ptr = z.bytesOf(b.ptr, int(b.len))
	case C.RINGLOG_FIELD_GROUP, C.RINGLOG_FIELD_ARRAY:
		g := (*C.ringlog_group)(unsafe.Pointer(&d.value))
		g.fields = z.place(g.fields, int(g.n))
	}
}

// place copies the n fields at src to the next n slots of the block, their
// members after them, and returns the first slot's address.
func (z *freezer) place(src *C.ringlog_field, n int) *C.ringlog_field {
	if n == 0 {
		return nil
	}
	first := z.nf
	z.nf += n
	for i := 0; i < n; i++ {
		z.copyOne(fieldAt(z.fields, first+i), fieldAt(src, i))
	}
	return fieldAt(z.fields, first)
}

// freeze deep-copies the runs into one new frozen block, the top-level
// fields of all runs first, contiguous and in order, and their members
// after them. It returns nil when there are no fields. The runs' strings
// must stay valid (pinned) during the call.
func freeze(runs ...span) *frozen {
	top, nf, nb := 0, 0, 0
	for _, r := range runs {
		f, b := measure(r.p, r.n)
		top += r.n
		nf += f
		nb += b
	}
	if top == 0 {
		return nil
	}
	mem := C.malloc(C.size_t(nf*fieldSize + nb))
	if mem == nil {
		panic("ringlog: out of C memory")
	}
	z := &freezer{
		fields: (*C.ringlog_field)(mem),
		bytes:  unsafe.Add(mem, nf*fieldSize),
		nf:     top,
	}
	at := 0
	for _, r := range runs {
		for i := 0; i < r.n; i++ {
			z.copyOne(fieldAt(z.fields, at), fieldAt(r.p, i))
			at++
		}
	}
	fz := &frozen{top: z.fields, n: top}
	runtime.AddCleanup(fz, func(p unsafe.Pointer) { C.free(p) }, mem)
	return fz
}

// span is the frozen block's top-level run (empty for nil).
func (fz *frozen) span() span {
	if fz == nil {
		return span{}
	}
	return span{fz.top, fz.n}
}

// copyFrozen adds fz's top-level fields to the entries of the group being
// built. Their members stay in fz, which the caller keeps alive until
// the C call returns.
func (f *frame) copyFrozen(fz *frozen) {
	if fz == nil {
		return
	}
	f.stack = append(f.stack, unsafe.Slice((*entry)(unsafe.Pointer(fz.top)), fz.n)...)
}
