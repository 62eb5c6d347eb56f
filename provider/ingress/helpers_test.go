package ingress

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fixedWindow puts everything in window 1, for tests that do not care about windows.
func fixedWindow(time.Time) uint64 { return 1 }

// startProxy builds a proxy for cfg and serves it; both are torn down with the test.
func startProxy(t testing.TB, cfg Config) (*Proxy, *httptest.Server) {
	t.Helper()
	if cfg.WindowOf == nil {
		cfg.WindowOf = fixedWindow
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		p.Release()
	})
	return p, srv
}

// get fetches url and returns the response with its body read.
func get(t testing.TB, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, string(body)
}

// mustSnapshot returns the stats of a window that must exist.
func mustSnapshot(t testing.TB, p *Proxy, window uint64) WindowStats {
	t.Helper()
	st, ok := p.Snapshot(window)
	if !ok {
		t.Fatalf("Snapshot(%d): no data", window)
	}
	return st
}

// collector keeps what the proxy hands to OnRequest, as the sidecar does: the window keeps
// only the samples' root.
type collector struct {
	mu      sync.Mutex
	windows []uint64
	samples []Sample
}

func (c *collector) onRequest(window uint64, s Sample) {
	c.mu.Lock()
	c.windows, c.samples = append(c.windows, window), append(c.samples, s)
	c.mu.Unlock()
}

// of returns the samples handed over for window, in order.
func (c *collector) of(window uint64) []Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Sample
	for i, w := range c.windows {
		if w == window {
			out = append(out, c.samples[i])
		}
	}
	return out
}
