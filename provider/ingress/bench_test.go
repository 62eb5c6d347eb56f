package ingress

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var benchBody = strings.Repeat("x", 64)

func benchBackend(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, benchBody)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchGet drives parallel keep-alive GETs at url. The reported allocations include the
// client's and the backend's, so compare against BenchmarkDirect.
func benchGet(b *testing.B, url string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkProxy measures requests through the proxy (with metrics) to a local backend.
func BenchmarkProxy(b *testing.B) {
	backend := benchBackend(b)
	_, srv := startProxy(b, Config{LeaseID: 1, Backend: backend.URL, Registerer: prometheus.NewRegistry()})
	benchGet(b, srv.URL+"/")
}

// BenchmarkDirect is the baseline: the same requests straight to the backend.
func BenchmarkDirect(b *testing.B) {
	benchGet(b, benchBackend(b).URL+"/")
}

// BenchmarkRecord measures the proxy's own bookkeeping per request, without the network.
func BenchmarkRecord(b *testing.B) {
	p, err := New(Config{Backend: "http://127.0.0.1:1", Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	start := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sw := p.writers.Get().(*statusWriter)
			sw.status, sw.completed = http.StatusOK, true
			p.finish(sw, req, start)
		}
	})
}
