//go:build linux

package ingress

import (
	"net"
	"syscall"
)

// peeker tells whether an idle pooled connection can carry a request: the backend has not
// closed it (uvicorn and Node close idle keep-alive connections after a few seconds) and sent
// nothing unasked. A non-blocking peek costs one syscall; without it a request with a body,
// which cannot be sent again, would fail on a dead connection and count as a 502. Made once per
// connection, so a peek allocates nothing.
type peeker struct {
	raw  syscall.RawConn
	buf  [1]byte
	ok   bool
	peek func(fd uintptr) bool
}

func newPeeker(conn net.Conn) *peeker {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &peeker{raw: raw}
	p.peek = func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read yet: open and quiet. Anything else is a close by the peer (0 bytes),
		// data nobody asked for, or an error.
		p.ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true // never wait for readiness
	}
	return p
}

// alive reports whether the connection is open and quiet; one that cannot be peeked at is
// taken as alive, and a request that fails on it says otherwise.
func (p *peeker) alive() bool {
	if p == nil {
		return true
	}
	p.ok = false
	return p.raw.Read(p.peek) == nil && p.ok
}
