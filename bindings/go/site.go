package ringlog

// Call sites. A record whose attrs are all plain values (string, integers,
// float, bool, duration) has a shape: its message, its severity, and its
// keys with their kinds. The second time a handler's C logger sees a
// shape (the 16th for a logger with bound attrs, which a handler made per
// request has: registering writes the site's definition to the instance's
// metadata file, so a site must be used more than once to pay), it registers
// a ringlog call site for it (message and keys interned once,
// `ringlog_site_new`); from then on a record of that shape
// crosses into C as its values only (`ringlog_log_site_ctx`): no keys are
// copied, the core writes a few words instead of keyed fields, and the
// line written is the same.
//
// The table of a C logger's sites is read with one atomic load and a
// scan for the first site with the record's message, level and attr
// count (message strings from one place in the code are the same string,
// so comparing them usually stops at the pointer); one walk over the
// attrs then checks them against that site's keys and kinds while it
// stores their values. Only a record that no site matches this way has
// its whole shape built and looked up. Registering takes a mutex and
// copies the table. A logger stops looking for new shapes after
// seeing maxShapes different ones (a message built per record, say):
// those records take the keyed path, as every record with a group, a
// time, an Any or a LogValuer does, and every record of a handler with
// groups, ReplaceAttr or AddSource.

/*
#include <stdlib.h>
#include <string.h>
#include "ringlog.h"
*/
import "C"

import (
	"log/slog"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	// siteMax is the most attrs a record may have to go through a site.
	siteMax = 8
	// maxSites is the most sites one C logger registers.
	maxSites = 32
	// maxShapes is how many different shapes a C logger counts before it
	// stops looking for new ones.
	maxShapes = 256
	// rootSightings and childSightings are how many records of a shape a
	// logger without and with bound attrs sees before it registers a site.
	rootSightings  = 2
	childSightings = 16
	// siteTextMax bounds the text of a record that may go through a site:
	// its message, keys and text values together. A site record holds
	// only the values, but the same record keyed holds all of it, and
	// with this bound neither can be too large for the smallest ring
	// (4 KiB, so 2 KiB frames): the too-large path (cut and retry) is
	// the keyed path's alone, and both paths write the same line.
	siteTextMax = 1024
)

// shape is what makes two records the same call site. Places past n are
// zero, so == compares two shapes (and a map keys on them).
type shape struct {
	msg   string
	sev   uint8
	n     uint8
	kinds [siteMax]uint8
	keys  [siteMax]string
}

type site struct {
	shape shape
	p     *C.ringlog_site
}

// sites is a C logger's call sites.
type sites struct {
	// list is the registered sites; replaced whole, never changed.
	list atomic.Pointer[[]*site]
	// done is set once the logger stopped looking for new shapes.
	done atomic.Bool
	mu   sync.Mutex
	// need is how many records of a shape come before it gets a site.
	need int
	// seen counts the records of shapes without a site, under mu.
	seen map[shape]int
	// owned holds the C handles for the cleanup that frees them.
	owned *siteHandles
}

// siteHandles is separate from sites so the cleanup that frees the
// handles does not keep the table reachable.
type siteHandles struct {
	mu sync.Mutex
	ps []*C.ringlog_site
}

func newSites(need int) *sites {
	s := &sites{owned: &siteHandles{}, need: need}
	runtime.AddCleanup(s, func(h *siteHandles) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, p := range h.ps {
			cSiteFree(p)
		}
		h.ps = nil
	}, s.owned)
	return s
}

// find returns the site registered for sh, or nil.
func (s *sites) find(sh *shape) *site {
	l := s.list.Load()
	if l == nil {
		return nil
	}
	for _, e := range *l {
		if e.shape.same(sh) {
			return e
		}
	}
	return nil
}

// same is a == b, comparing only the n keys in use (the places past n are
// zero in both when the counts match) rather than all siteMax.
func (a *shape) same(b *shape) bool {
	if a.n != b.n || a.sev != b.sev || a.kinds != b.kinds || a.msg != b.msg {
		return false
	}
	for i := 0; i < int(a.n); i++ {
		if a.keys[i] != b.keys[i] {
			return false
		}
	}
	return true
}

// saw notes a record of shape sh that has no site: when it is the
// need-th, a site is registered for it on logger l.
func (s *sites) saw(l *C.ringlog_logger, sh *shape) {
	if s.done.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.find(sh) != nil {
		return
	}
	c, ok := s.seen[*sh]
	if !ok && len(s.seen) >= maxShapes {
		s.stop()
		return
	}
	if c+1 < s.need {
		if s.seen == nil {
			s.seen = make(map[shape]int)
		}
		s.seen[*sh] = c + 1
		return
	}
	delete(s.seen, *sh)
	var cur []*site
	if l := s.list.Load(); l != nil {
		cur = *l
	}
	if len(cur) >= maxSites {
		s.stop()
		return
	}
	p := cSiteNew(l, sh)
	if p == nil {
		// Refused (a runtime shut down meanwhile, say): the keyed path
		// reports whatever is wrong. Asking again would fail again, for a
		// malloc and a C call each time: this logger stops registering.
		s.stop()
		return
	}
	s.owned.mu.Lock()
	s.owned.ps = append(s.owned.ps, p)
	s.owned.mu.Unlock()
	// The list only changes under s.mu, held here.
	next := append(append(make([]*site, 0, len(cur)+1), cur...), &site{shape: *sh, p: p})
	s.list.Store(&next)
}

// stop makes the logger stop looking for new shapes (s.mu held).
func (s *sites) stop() {
	s.done.Store(true)
	s.seen = nil
}

// siteKind is the C field type a site stores a value of kind k as, and
// false for the kinds that take the keyed path.
func siteKind(k slog.Kind) (uint8, bool) {
	switch k {
	case slog.KindString:
		return C.RINGLOG_FIELD_STR, true
	case slog.KindInt64, slog.KindDuration:
		return C.RINGLOG_FIELD_I64, true
	case slog.KindUint64:
		return C.RINGLOG_FIELD_U64, true
	case slog.KindFloat64:
		return C.RINGLOG_FIELD_F64, true
	case slog.KindBool:
		return C.RINGLOG_FIELD_BOOL, true
	}
	return 0, false
}

// handleSite writes r through a call site when it has a plain shape whose
// site st's logger has registered; ok is false when the record must take
// the keyed path (it may have registered the shape's site for the next
// record).
//
// The usual record is matched in one walk over its attrs: the first site
// with its message, level and attr count is taken as the candidate, and
// each attr, checked against the candidate's key and kind, is stored
// straight into the C values. Only when that fails (no candidate, or one
// whose keys differ) is the record's whole shape built, looked up among
// all the sites, and counted towards a new one.
func (h *Handler) handleSite(st *bindState, r *slog.Record, tc *TraceContext) (ok bool, err error) {
	n := r.NumAttrs()
	tbl := st.h.sites
	if n > siteMax {
		return false, nil
	}
	sev := Severity(r.Level)
	var s *site
	if l := tbl.list.Load(); l != nil {
		for _, e := range *l {
			if int(e.shape.n) == n && e.shape.sev == sev && e.shape.msg == r.Message {
				s = e
				break
			}
		}
	} else if tbl.done.Load() {
		return false, nil
	}
	if s == nil {
		if s = tbl.lookup(st.h.p, r, n, sev); s == nil {
			return false, nil
		}
	}
	f := getFrame()
	defer f.release() // see Handle
	if !f.siteValues(&s.shape, r) {
		// The candidate's keys or kinds are not r's: r may have another
		// site with the same message, level and count.
		other := tbl.lookup(st.h.p, r, n, sev)
		if other == nil || other == s {
			return false, nil
		}
		s = other
		f.ctextLen = 0 // the strings the failed pass copied
		if !f.siteValues(&s.shape, r) {
			return false, nil
		}
	}
	var ctx *C.ringlog_trace_context
	if tc != nil {
		ctx = f.setTrace(tc)
	}
	var vp unsafe.Pointer
	if n > 0 {
		vp = unsafe.Pointer(f.base)
	}
	rc := cLogSite(s.p, unixNano(r.Time), ctx, vp, n, f.err)
	if rc != 0 {
		err = newError("Handle", rc, f.errString())
	}
	runtime.KeepAlive(st)
	return true, err
}

// siteValues stores r's attrs in f's C values as site sh takes them, and
// reports whether r has sh's shape (its message, level and attr count
// are the caller's to check): each attr's key and kind are sh's, and the
// text is within siteTextMax. Registered shapes have no empty key, so an
// empty one never matches.
func (f *frame) siteValues(sh *shape, r *slog.Record) bool {
	n := int(sh.n)
	vs := f.values(n)
	i, match, text := 0, true, len(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		t, plain := siteKind(a.Value.Kind())
		if !plain || t != sh.kinds[i] || a.Key != sh.keys[i] {
			match = false
			return false
		}
		text += len(a.Key)
		v := &vs[i]
		switch t {
		case C.RINGLOG_FIELD_STR:
			str := a.Value.String()
			text += len(str)
			v.v1 = uint64(len(str))
			if len(str) > 0 && text <= siteTextMax {
				v.v0 = uint64(f.strPtr(str))
			}
		case C.RINGLOG_FIELD_I64:
			if a.Value.Kind() == slog.KindDuration {
				v.v0 = uint64(int64(a.Value.Duration()))
			} else {
				v.v0 = uint64(a.Value.Int64())
			}
		case C.RINGLOG_FIELD_U64:
			v.v0 = a.Value.Uint64()
		case C.RINGLOG_FIELD_F64:
			v.v0 = math.Float64bits(a.Value.Float64())
		case C.RINGLOG_FIELD_BOOL:
			if a.Value.Bool() {
				v.v0 = 1
			}
		}
		i++
		return true
	})
	return match && i == n && text <= siteTextMax
}

// lookup builds r's shape and returns its registered site, or nil when r
// is not plain or its shape has no site yet (a sighting is counted then,
// which may register one on logger l for the next record).
func (s *sites) lookup(l *C.ringlog_logger, r *slog.Record, n int, sev uint8) *site {
	var sh shape
	sh.msg, sh.sev, sh.n = r.Message, sev, uint8(n)
	i, plain, text := 0, true, len(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		t, ok := siteKind(a.Value.Kind())
		if !ok || a.Key == "" {
			plain = false
			return false
		}
		text += len(a.Key)
		if t == C.RINGLOG_FIELD_STR {
			text += len(a.Value.String())
		}
		sh.kinds[i], sh.keys[i] = t, a.Key
		i++
		return true
	})
	if !plain || text > siteTextMax {
		return nil
	}
	found := s.find(&sh)
	if found == nil {
		s.saw(l, &sh)
	}
	return found
}

// value is a ringlog_value, byte for byte, with integer addresses as in
// entry.
type value struct {
	v0 uint64
	v1 uint64
}

var (
	_ [unsafe.Sizeof(value{}) - C.sizeof_ringlog_value]byte
	_ [C.sizeof_ringlog_value - unsafe.Sizeof(value{})]byte
)

// values returns the frame's C field array, which nothing else uses in a
// site call, as n zeroed values.
func (f *frame) values(n int) []value {
	f.ensure(n)
	vs := unsafe.Slice((*value)(unsafe.Pointer(f.base)), n)
	clear(vs)
	return vs
}

// cSiteNew registers sh as a site of l; nil when ringlog refuses it.
func cSiteNew(l *C.ringlog_logger, sh *shape) *C.ringlog_site {
	n := int(sh.n)
	size := len(sh.msg)
	for i := 0; i < n; i++ {
		size += len(sh.keys[i])
	}
	// One C block: the key array, then the message and key bytes.
	keysSize := n * int(C.sizeof_ringlog_site_key)
	block := C.malloc(C.size_t(keysSize + size + 1))
	if block == nil {
		return nil
	}
	defer C.free(block)
	keys := unsafe.Slice((*C.ringlog_site_key)(block), n)
	text := unsafe.Add(block, keysSize)
	put := func(s string) *C.char {
		p := (*C.char)(text)
		copy(unsafe.Slice((*byte)(text), len(s)), s)
		text = unsafe.Add(text, len(s))
		return p
	}
	msg := put(sh.msg)
	for i := 0; i < n; i++ {
		keys[i].key = put(sh.keys[i])
		keys[i].key_len = C.size_t(len(sh.keys[i]))
		keys[i]._type = C.ringlog_field_type(sh.kinds[i])
	}
	var out *C.ringlog_site
	var k *C.ringlog_site_key
	if n > 0 {
		k = &keys[0]
	}
	if C.ringlog_site_new(l, C.ringlog_level(sh.sev), msg, C.size_t(len(sh.msg)), k, C.size_t(n), &out) != C.RINGLOG_OK {
		return nil
	}
	return out
}
