package ingress

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// directTransport is the proxy's RoundTripper for plain-HTTP/1.1 backends. It writes the
// request and reads the response on the calling goroutine over a pooled keep-alive connection.
// http.Transport hands every request to two goroutines per connection (read and write loops);
// on a 2-core machine at thousands of requests a second those handoffs are most of the proxy's
// added latency. Upgrades and non-http schemes go to the standard transport.
type directTransport struct {
	addr     string
	dialer   net.Dialer
	fallback http.RoundTripper

	mu   sync.Mutex
	idle []*directConn
}

type directConn struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	peek *peeker
}

const maxIdleDirect = 1024

// maxInformational bounds the 1xx answers skipped before a request's answer (http.Transport's
// bound too).
const maxInformational = 5

func newDirectTransport(addr string, fallback http.RoundTripper) *directTransport {
	return &directTransport{addr: addr, dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}, fallback: fallback}
}

func (t *directTransport) get(ctx context.Context) (*directConn, bool, error) {
	for {
		t.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		if c.br.Buffered() == 0 && c.peek.alive() {
			return c, true, nil
		}
		c.conn.Close()
	}
	conn, err := t.dialer.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, false, err
	}
	return &directConn{conn: conn, br: bufio.NewReaderSize(conn, 16<<10), bw: bufio.NewWriterSize(conn, 16<<10), peek: newPeeker(conn)}, false, nil
}

func (t *directTransport) put(c *directConn) {
	t.mu.Lock()
	if len(t.idle) < maxIdleDirect {
		t.idle = append(t.idle, c)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	c.conn.Close()
}

// CloseIdleConnections closes the pooled connections.
func (t *directTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, c := range idle {
		c.conn.Close()
	}
	if ci, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func isUpgrade(h http.Header) bool {
	for _, v := range h["Connection"] {
		if strings.Contains(strings.ToLower(v), "upgrade") {
			return true
		}
	}
	return false
}

// RoundTrip implements http.RoundTripper.
func (t *directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || isUpgrade(req.Header) {
		return t.fallback.RoundTrip(req)
	}
	replayable := req.Body == nil || req.Body == http.NoBody
	for attempt := 0; ; attempt++ {
		c, reused, err := t.get(req.Context())
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(c, req)
		if err == nil {
			return resp, nil
		}
		c.conn.Close()
		// A pooled connection the backend closed while idle fails at once; retry on a fresh
		// one when the request can be sent again.
		if reused && replayable && attempt == 0 && req.Context().Err() == nil {
			continue
		}
		return nil, err
	}
}

// exchange sends req on c and reads the response header; the body is read by the caller.
func (t *directTransport) exchange(c *directConn, req *http.Request) (*http.Response, error) {
	// Cancellation (the client went away) unblocks the connection by expiring its deadline;
	// AfterFunc costs nothing until the context ends.
	stop := context.AfterFunc(req.Context(), func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	if err := req.Write(c.bw); err != nil {
		stop()
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		stop()
		return nil, err
	}
	var resp *http.Response
	for informational := 0; ; informational++ {
		var err error
		if resp, err = http.ReadResponse(c.br, req); err != nil {
			stop()
			if ctxErr := req.Context().Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, err
		}
		// An informational answer (100 Continue, 103 Early Hints) comes before the real one on
		// the same connection: skipped, as http.Transport does; taken for the answer, it would
		// leave the real one queued for the next request on the connection, another client's.
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if informational == maxInformational {
			stop()
			return nil, errors.New("backend sent too many 1xx responses")
		}
	}
	body := &directBody{t: t, c: c, rc: resp.Body, stop: stop, reuse: !resp.Close && !req.Close}
	if resp.Body == http.NoBody || resp.ContentLength == 0 && resp.Body != nil && req.Method == http.MethodHead {
		body.release(true)
		resp.Body = http.NoBody
		return resp, nil
	}
	resp.Body = body
	return resp, nil
}

// directBody returns the connection to the pool once the body was read to its end.
type directBody struct {
	t     *directTransport
	c     *directConn
	rc    io.ReadCloser
	stop  func() bool
	reuse bool
	done  bool
}

func (b *directBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if errors.Is(err, io.EOF) {
		b.release(true)
	} else if err != nil {
		b.release(false)
	}
	return n, err
}

func (b *directBody) Close() error {
	if !b.done {
		b.release(false) // not read to the end: the connection's position is unknown
	}
	return nil
}

func (b *directBody) release(complete bool) {
	if b.done {
		return
	}
	b.done = true
	if !b.stop() || !complete || !b.reuse {
		// stop() false: the context ended and the deadline fired; the connection is spent.
		b.c.conn.Close()
		return
	}
	b.t.put(b.c)
}

// HTTP1Transport is a RoundTripper for plain-HTTP/1.1 servers that does each exchange on the
// caller's goroutine over pooled keep-alive connections, one pool per host: what the proxy
// uses towards its backend, offered to clients (the load generator) that want the same cost.
type HTTP1Transport struct {
	mu       sync.Mutex
	hosts    map[string]*directTransport
	fallback *http.Transport
}

// NewHTTP1Transport returns an empty transport.
func NewHTTP1Transport() *HTTP1Transport {
	return &HTTP1Transport{hosts: map[string]*directTransport{}, fallback: newTransport()}
}

// RoundTrip implements http.RoundTripper.
func (t *HTTP1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	d, ok := t.hosts[req.URL.Host]
	if !ok {
		d = newDirectTransport(hostPort(req.URL), t.fallback)
		t.hosts[req.URL.Host] = d
	}
	t.mu.Unlock()
	return d.RoundTrip(req)
}

// CloseIdleConnections closes every pooled connection.
func (t *HTTP1Transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.hosts {
		d.CloseIdleConnections()
	}
}
