package ingress

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// prometheus/testutil would need github.com/kylelemons/godebug in go.mod, which this module
// does not require; these helpers read the registry directly instead.

// series returns the gathered series of a family whose labels include want, and how many
// series the family has in all.
func series(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) (*dto.Metric, int) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, want) {
				return m, len(f.GetMetric())
			}
		}
		return nil, len(f.GetMetric())
	}
	return nil, 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	matched := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			matched++
		}
	}
	return matched == len(want)
}

func TestMetricsRegisteredAndCounting(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/healthz":
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer backend.Close()
	reg := prometheus.NewRegistry()
	// Two leases' proxies share the registry, as in the sidecar.
	p7, srv7 := startProxy(t, Config{LeaseID: 7, Backend: backend.URL, Registerer: reg})
	p8, srv8 := startProxy(t, Config{LeaseID: 8, Backend: backend.URL, Registerer: reg})

	for range 3 {
		get(t, srv7.URL+"/", nil)
	}
	get(t, srv7.URL+"/missing", nil)
	get(t, srv8.URL+"/", nil)
	p7.probe(context.Background()) // health answers 503
	p8.probe(context.Background())

	for _, c := range []struct {
		lease, code string
		want        float64
	}{{"7", "2xx", 3}, {"7", "4xx", 1}, {"7", "5xx", 0}, {"8", "2xx", 1}} {
		m, _ := series(t, reg, "computed_ingress_requests_total", map[string]string{"lease": c.lease, "code": c.code})
		if got := m.GetCounter().GetValue(); m == nil || got != c.want {
			t.Errorf("requests_total{lease=%s,code=%s} = %v, want %v", c.lease, c.code, got, c.want)
		}
	}
	if m, _ := series(t, reg, "computed_ingress_request_duration_seconds", map[string]string{"lease": "7"}); m.GetHistogram().GetSampleCount() != 4 {
		t.Errorf("request_duration_seconds{lease=7} count = %d, want 4", m.GetHistogram().GetSampleCount())
	}
	m, _ := series(t, reg, "computed_ingress_probe_up", map[string]string{"lease": "7"})
	if m == nil || m.GetGauge().GetValue() != 0 {
		t.Errorf("probe_up{lease=7} = %v, want 0 after a failed probe", m)
	}

	p7.Release()
	if _, n := series(t, reg, "computed_ingress_requests_total", nil); n != len(codeClasses) {
		t.Errorf("requests_total series after releasing lease 7 = %d, want lease 8's %d", n, len(codeClasses))
	}
}

func TestMetricsGaugeFollowsProbes(t *testing.T) {
	var healthy atomic.Bool
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer backend.Close()
	reg := prometheus.NewRegistry()
	p, _ := startProxy(t, Config{LeaseID: 3, Backend: backend.URL, Registerer: reg})

	for _, h := range []bool{true, false, true} {
		healthy.Store(h)
		p.probe(context.Background())
		m, _ := series(t, reg, "computed_ingress_probe_up", map[string]string{"lease": "3"})
		if want := map[bool]float64{true: 1, false: 0}[h]; m.GetGauge().GetValue() != want {
			t.Fatalf("probe_up = %v after a probe answering healthy=%v, want %v", m.GetGauge().GetValue(), h, want)
		}
	}
}

func TestClassIndex(t *testing.T) {
	for status, want := range map[int]string{0: "aborted", 101: "1xx", 204: "2xx", 304: "3xx", 499: "4xx", 502: "5xx", 600: "other"} {
		if got := codeClasses[classIndex(status)]; got != want {
			t.Errorf("class of %d = %s, want %s", status, got, want)
		}
	}
}
