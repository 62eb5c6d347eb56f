package ingress

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// statusClientClosed is recorded when the client went away before the backend answered
// (nginx's convention); it does not count against the provider.
const statusClientClosed = 499

// Proxy is the measuring reverse proxy of one lease. It is safe for concurrent use.
type Proxy struct {
	cfg       Config
	transport *directTransport
	rp        *httputil.ReverseProxy
	target    *url.URL
	buffers   bufferPool
	writers   sync.Pool
	windows   windowSet
	metrics   *metrics // nil without a Registerer
	// recordMu puts each request in its window and hands it to OnRequest in one step, so the
	// window's root is over the order the caller keeps the samples in.
	recordMu sync.Mutex

	healthURL   string
	probeClient *http.Client
	prober      proberState
	// inflight counts requests inside ServeHTTP, up to their OnRequest, for Drain; once
	// draining is set, a request that comes in is turned away unrecorded.
	inflight atomic.Int64
	draining atomic.Bool
}

// New builds the proxy for cfg. It does not contact the backend; start the prober with Run
// or Start.
func New(cfg Config) (*Proxy, error) {
	cfg, target, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, transport: newDirectTransport(hostPort(target), newTransport()), target: target, buffers: newBufferPool(256)}
	p.writers.New = func() any { return new(statusWriter) }
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport:    p.transport,
		BufferPool:   p.buffers,
		ErrorHandler: p.handleError,
		// ReverseProxy logs body-copy failures per request; they are counted instead.
		ErrorLog: log.New(io.Discard, "", 0),
	}

	health := *target
	health.Path = strings.TrimSuffix(target.Path, "/") + cfg.HealthPath
	health.RawPath, health.RawQuery, health.Fragment = "", "", ""
	p.healthURL = health.String()
	p.probeClient = &http.Client{
		Transport: p.transport.fallback,
		Timeout:   cfg.ProbeTimeout,
		// A redirect is not a healthy answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	if cfg.Registerer != nil {
		if p.metrics, err = newMetrics(cfg.Registerer, cfg.LeaseID); err != nil {
			return nil, fmt.Errorf("ingress: registering metrics: %w", err)
		}
	}
	return p, nil
}

// ServeHTTP proxies req to the backend and records its latency and status in the window of
// the time it was received.
func (p *Proxy) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	p.inflight.Add(1)
	defer p.inflight.Add(-1) // runs after finish: the request is recorded and handed over
	if p.draining.Load() {
		// The lease has closed: a request its router handed over just before is not served
		// after its last receipt was taken.
		http.Error(rw, "lease closed", http.StatusServiceUnavailable)
		return
	}
	start := time.Now()
	sw := p.writers.Get().(*statusWriter)
	sw.rw = rw
	// Deferred so an aborted response (ReverseProxy panics mid-body) is still recorded.
	defer p.finish(sw, req, start)
	p.forward(sw, req)
	sw.completed = true
}

func (p *Proxy) finish(sw *statusWriter, req *http.Request, start time.Time) {
	elapsed := time.Since(start)
	status := sw.status
	switch {
	case !sw.completed && req.Context().Err() != nil:
		status = statusClientClosed // the client hung up mid-response
	case !sw.completed:
		status = 0
	case status == 0:
		status = http.StatusOK // nothing written: the server sends an empty 200
	}
	*sw = statusWriter{}
	p.writers.Put(sw)

	s := Sample{UnixMillis: start.UnixMilli(), Micros: uint64(elapsed / time.Microsecond), Status: uint16(status)}
	window := p.cfg.WindowOf(start)
	if p.metrics != nil {
		p.metrics.request(status, elapsed)
	}
	p.recordMu.Lock()
	recorded := p.windows.get(window).record(s)
	if p.cfg.OnRequest != nil {
		p.cfg.OnRequest(window, s)
	}
	p.recordMu.Unlock()
	if !recorded {
		p.windows.dropped.Add(1)
		if p.metrics != nil {
			p.metrics.droppedCtr.Inc()
		}
	}
}

// handleError answers requests the backend did not: 502, or nothing when the client is gone.
func (p *Proxy) handleError(rw http.ResponseWriter, req *http.Request, _ error) {
	if req.Context().Err() != nil {
		if sw, ok := rw.(*statusWriter); ok {
			sw.status = statusClientClosed
		}
		return
	}
	rw.WriteHeader(http.StatusBadGateway)
}

// Drain waits, up to timeout, until no request is inside the proxy, and reports whether none
// is. The lease's caller stops routing to the proxy first: a request it already routed is still
// recorded (OnRequest) before Drain returns, so the lease's last receipt can hold it, and one
// that reaches the proxy after Drain began is refused (503) unrecorded.
func (p *Proxy) Drain(timeout time.Duration) bool {
	p.draining.Store(true) // before reading the count: a request either is counted or is refused
	deadline := time.Now().Add(timeout)
	for p.inflight.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Release is for when the lease ends: it stops the prober, removes the lease's metric series
// and closes idle backend connections. Window data stays readable.
func (p *Proxy) Release() {
	p.Stop()
	if p.metrics != nil {
		p.metrics.forget()
	}
	p.transport.CloseIdleConnections()
}

// hostPort is target's host with the scheme's default port when none is given.
func hostPort(target *url.URL) string {
	if target.Port() != "" {
		return target.Host
	}
	if target.Scheme == "https" {
		return net.JoinHostPort(target.Hostname(), "443")
	}
	return net.JoinHostPort(target.Hostname(), "80")
}
