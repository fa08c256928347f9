package ringlog

// #include "ringlog.h"
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// binding is a handler's ringlog logger: the root logger of its name, or a
// child of it with the handler's top-level attrs bound. The C logger is
// made on first use and made again when the runtime changed.
type binding struct {
	name  string
	bound *frozen
	// mu serializes refresh.
	mu sync.Mutex
	// cur is the current state; nil before first use.
	cur atomic.Pointer[bindState]
}

// bindState is a C logger with the epochs it is valid for and its cached
// minimum severity.
type bindState struct {
	h      *cHandle
	rt, lv uint64
	min    uint8
}

// cHandle owns a C logger handle; a cleanup frees it once unreachable.
// sites are the call sites registered on it (site.go).
type cHandle struct {
	p     *C.ringlog_logger
	sites *sites
}

func newCHandle(p *C.ringlog_logger, sightings int) *cHandle {
	h := &cHandle{p: p, sites: newSites(sightings)}
	runtime.AddCleanup(h, cLoggerFree, p)
	return h
}

// get returns the current state, refreshing it when the runtime or the
// levels changed since it was made.
func (b *binding) get() (*bindState, error) {
	s := b.cur.Load()
	if s != nil && s.rt == runtimeEpoch.Load() && s.lv == levelEpoch.Load() {
		return s, nil
	}
	return b.refresh()
}

func (b *binding) refresh() (*bindState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rt, lv := runtimeEpoch.Load(), levelEpoch.Load()
	s := b.cur.Load()
	if s != nil && s.rt == rt && s.lv == lv {
		return s, nil
	}
	var h *cHandle
	if s != nil && s.rt == rt {
		h = s.h
	} else {
		p, rc, msg := cLoggerGet(b.name)
		if rc != 0 {
			return nil, newError("logger", rc, msg)
		}
		if b.bound != nil {
			child, rc, msg := cLoggerWith(p, b.bound.top, b.bound.n)
			runtime.KeepAlive(b.bound)
			cLoggerFree(p)
			if rc != 0 {
				return nil, newError("logger", rc, msg)
			}
			p = child
		}
		// A handler with bound attrs is often made per request: its
		// shapes must come more often before they get sites of their own.
		sightings := rootSightings
		if b.bound != nil {
			sightings = childSightings
		}
		h = newCHandle(p, sightings)
	}
	ns := &bindState{h: h, rt: rt, lv: lv, min: cMinLevel(h.p)}
	runtime.KeepAlive(h)
	b.cur.Store(ns)
	return ns, nil
}
