package exec

import "sync"

// TailBuffer keeps the last Max bytes written to it, so a chatty workload's logs cost the sidecar
// a fixed amount of memory. It is safe for concurrent use.
type TailBuffer struct {
	mu    sync.Mutex
	max   int
	buf   []byte // ring storage, len(buf) == max once full
	start int    // index of the oldest byte once full
	full  bool
}

// DefaultLogBytes is how much output drivers keep per task.
const DefaultLogBytes = 1 << 20

// NewTailBuffer keeps the last max bytes (DefaultLogBytes if max <= 0).
func NewTailBuffer(max int) *TailBuffer {
	if max <= 0 {
		max = DefaultLogBytes
	}
	return &TailBuffer{max: max}
}

// Write never fails: what falls out of the window is dropped.
func (t *TailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		t.start, t.full = 0, true
		return n, nil
	}
	if !t.full {
		if room := t.max - len(t.buf); len(p) <= room {
			t.buf = append(t.buf, p...)
			t.full = len(t.buf) == t.max
			return n, nil
		}
		room := t.max - len(t.buf)
		t.buf = append(t.buf, p[:room]...)
		p = p[room:]
		t.full = true
	}
	for len(p) > 0 {
		c := copy(t.buf[t.start:], p)
		p = p[c:]
		t.start = (t.start + c) % t.max
	}
	return n, nil
}

// Tail returns a copy of up to the last n bytes kept (all of them if n <= 0).
func (t *TailBuffer) Tail(n int) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	var all []byte
	if t.full {
		all = make([]byte, 0, len(t.buf))
		all = append(all, t.buf[t.start:]...)
		all = append(all, t.buf[:t.start]...)
	} else {
		all = append([]byte(nil), t.buf...)
	}
	if n > 0 && n < len(all) {
		all = all[len(all)-n:]
	}
	return all
}
