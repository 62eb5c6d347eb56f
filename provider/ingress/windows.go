package ingress

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Errors returned by Proxy.Close.
var (
	ErrUnknownWindow = errors.New("ingress: no data for window")
	ErrWindowClosed  = errors.New("ingress: window already closed")
)

// closedKept is how many closed windows are remembered, so that requests still in flight when
// their window was closed are dropped instead of reopening it. Only a request that outlives
// this many later windows can reopen an old one; it then shows up in Windows() again.
const closedKept = 64

// windowSet holds the open windows and the tombstones of recently closed ones.
type windowSet struct {
	// cur caches the newest window so the request path usually skips the map lock.
	cur atomic.Pointer[window]

	mu     sync.Mutex
	all    map[uint64]*window // open windows and tombstones
	closed []uint64           // tombstones, oldest first

	// dropped counts samples and probes that arrived for a window already closed.
	dropped atomic.Uint64
}

func (s *windowSet) get(index uint64) *window {
	if w := s.cur.Load(); w != nil && w.index == index {
		return w
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.all[index]
	if w == nil {
		if s.all == nil {
			s.all = make(map[uint64]*window)
		}
		w = newWindow(index)
		s.all[index] = w
	}
	// Only move forward, so stragglers from the previous window do not evict the current one.
	if c := s.cur.Load(); c == nil || index > c.index {
		s.cur.Store(w)
	}
	return w
}

func (s *windowSet) lookup(index uint64) *window {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all[index]
}

// Snapshot returns the current figures of a window without closing it; false when the window
// has no data or was closed.
func (p *Proxy) Snapshot(window uint64) (WindowStats, bool) {
	w := p.windows.lookup(window)
	if w == nil {
		return WindowStats{}, false
	}
	return w.stats(false)
}

// Close finalises a window: it returns the window's figures and drops its histogram. Requests or probes that arrive
// for the window afterwards are dropped and counted by Dropped.
func (p *Proxy) Close(window uint64) (WindowStats, error) {
	s := &p.windows
	w := s.lookup(window)
	if w == nil {
		return WindowStats{}, ErrUnknownWindow
	}
	st, ok := w.stats(true)
	if !ok {
		return WindowStats{}, ErrWindowClosed
	}
	s.mu.Lock()
	s.closed = append(s.closed, window)
	if len(s.closed) > closedKept {
		delete(s.all, s.closed[0])
		s.closed = slices.Delete(s.closed, 0, 1)
	}
	s.mu.Unlock()
	return st, nil
}

// Restore puts back a window's samples that an earlier run of the sidecar recorded (and kept
// through OnRequest), ahead of any the window gets from now on. It neither counts them in the
// metrics nor passes them to OnRequest again. A closed window refuses them.
func (p *Proxy) Restore(window uint64, samples []Sample) error {
	w := p.windows.get(window)
	for _, s := range samples {
		if !w.record(s) {
			return ErrWindowClosed
		}
	}
	return nil
}

// RestoreProbes adds probes of an earlier run of the sidecar (ok of them answered) to a window,
// or probes it could not run, when ok is 0: the time the sidecar was down. A closed window
// refuses them.
func (p *Proxy) RestoreProbes(window, probes, ok uint64) error {
	if ok > probes {
		return fmt.Errorf("ingress: %d of %d probes ok", ok, probes)
	}
	w := p.windows.get(window)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrWindowClosed
	}
	w.probes += probes
	w.probesOK += ok
	return nil
}

// Windows lists the open windows that have data, in ascending order.
func (p *Proxy) Windows() []uint64 {
	s := &p.windows
	s.mu.Lock()
	ws := make([]*window, 0, len(s.all))
	for _, w := range s.all {
		ws = append(ws, w)
	}
	s.mu.Unlock()

	out := make([]uint64, 0, len(ws))
	for _, w := range ws {
		w.mu.Lock()
		if !w.closed {
			out = append(out, w.index)
		}
		w.mu.Unlock()
	}
	slices.Sort(out)
	return out
}

// Dropped counts the requests and probes that arrived for a window already closed.
func (p *Proxy) Dropped() uint64 {
	return p.windows.dropped.Load()
}
