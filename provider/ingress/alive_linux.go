//go:build linux

package ingress

import (
	"net"
	"syscall"
)

// alive reports whether an idle pooled connection can carry a request: the backend has not
// closed it (uvicorn and Node close idle keep-alive connections after a few seconds) and sent
// nothing unasked. A non-blocking peek costs one syscall; without it a request with a body,
// which cannot be sent again, would fail on a dead connection and count as a 502.
func alive(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read yet: open and quiet. Anything else is a close by the peer (0 bytes),
		// data nobody asked for, or an error.
		ok = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true // never wait for readiness
	})
	return err == nil && ok
}
