package ingress

import (
	"net"
	"net/http"
	"time"
)

// maxIdlePerHost keeps enough warm backend connections for bursts well above 5,000 req/s:
// the default of 2 makes every burst dial new connections and leaves them in TIME_WAIT.
const maxIdlePerHost = 1024

// newTransport returns the transport to the one backend a proxy serves.
func newTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true, // only matters for https backends; plain http stays HTTP/1.1
		MaxIdleConns:        maxIdlePerHost,
		MaxIdleConnsPerHost: maxIdlePerHost,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		// Workloads (inference, streaming) may take long to answer: no header timeout here;
		// the client's context bounds the request.
		ExpectContinueTimeout: time.Second,
		// Pass bodies through as the backend encoded them.
		DisableCompression: true,
	}
}

// copyBufSize is ReverseProxy's own default body-copy buffer size.
const copyBufSize = 32 << 10

// bufferPool recycles ReverseProxy's body-copy buffers. A channel rather than sync.Pool:
// putting a []byte into a sync.Pool boxes the slice header, one allocation per request.
type bufferPool chan []byte

func newBufferPool(n int) bufferPool { return make(bufferPool, n) }

func (p bufferPool) Get() []byte {
	select {
	case b := <-p:
		return b
	default:
		return make([]byte, copyBufSize)
	}
}

func (p bufferPool) Put(b []byte) {
	if cap(b) < copyBufSize {
		return
	}
	select {
	case p <- b[:copyBufSize]:
	default: // full: let the GC have it
	}
}
