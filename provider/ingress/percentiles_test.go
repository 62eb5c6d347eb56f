package ingress

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// nearestRank is the exact percentile HDR's ValueAtQuantile approximates: the value at rank
// round(q% of n) in sorted order.
func nearestRank(sorted []uint64, q float64) uint64 {
	rank := max(int(q/100*float64(len(sorted))+0.5), 1)
	return sorted[rank-1]
}

// withinHDRPrecision: HDR reports the top of the exact value's bucket, at most 0.1% above it
// with 3 significant figures.
func withinHDRPrecision(got, exact uint64) bool {
	return got >= exact && got <= exact+exact/1000+1
}

func TestWindowPercentilesMatchExactValuesWithinPrecision(t *testing.T) {
	w := newWindow(1)
	var values []uint64
	for i := uint64(1); i <= 10000; i++ {
		v := i * 37 // 37µs .. 370ms: spans many HDR buckets
		values = append(values, v)
		w.record(Sample{Micros: v, Status: 200})
	}
	st, _ := w.stats(false)
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"P95", st.P95Micros, nearestRank(values, 95)},
		{"P99", st.P99Micros, nearestRank(values, 99)},
	} {
		if !withinHDRPrecision(c.got, c.want) {
			t.Errorf("%s = %dµs, want %dµs within 0.1%%", c.name, c.got, c.want)
		}
	}
}

// Requests the client abandoned (499) and upgraded sessions (101) are counted but not timed:
// their duration is the client's choice, and slow uploads or reads would otherwise let a buyer
// push the provider's P95 over its SLA.
func TestClientTimeKeptOutOfPercentiles(t *testing.T) {
	w := newWindow(1)
	for range 90 {
		w.record(Sample{Micros: 1_000, Status: 200})
	}
	for range 8 {
		w.record(Sample{Micros: 30_000_000, Status: statusClientClosed})
	}
	for range 2 {
		w.record(Sample{Micros: 60_000_000, Status: http.StatusSwitchingProtocols})
	}
	st, _ := w.stats(false)
	if st.Requests != 100 {
		t.Fatalf("requests %d, want all 100 counted", st.Requests)
	}
	if !withinHDRPrecision(st.P95Micros, 1_000) || !withinHDRPrecision(st.P99Micros, 1_000) {
		t.Fatalf("P95 %d µs, P99 %d µs: the client's time was counted", st.P95Micros, st.P99Micros)
	}
}

func TestProxyPercentilesFromKnownDelays(t *testing.T) {
	// 180 fast requests and 20 that sleep 30ms: P95 (rank 190) and P99 (rank 198) fall in
	// the slow group.
	const fast, slow, delay = 180, 20, 30 * time.Millisecond
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.Header.Get("X-Delay-Ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}))
	defer backend.Close()
	var (
		mu   sync.Mutex
		lats []uint64
	)
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(_ uint64, s Sample) {
		mu.Lock()
		lats = append(lats, s.Micros)
		mu.Unlock()
	}})

	var wg sync.WaitGroup
	sem := make(chan struct{}, 20)
	for i := range fast + slow {
		h := http.Header{}
		if i < slow {
			h.Set("X-Delay-Ms", strconv.Itoa(int(delay/time.Millisecond)))
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			get(t, srv.URL+"/", h)
		}()
	}
	wg.Wait()

	st := mustSnapshot(t, p, 1)
	if st.Requests != fast+slow {
		t.Fatalf("requests=%d, want %d", st.Requests, fast+slow)
	}
	mu.Lock()
	slices.Sort(lats)
	mu.Unlock()
	lo, hi := uint64(delay/time.Microsecond), uint64((delay+time.Second)/time.Microsecond)
	for _, c := range []struct {
		name string
		got  uint64
		q    float64
	}{{"P95", st.P95Micros, 95}, {"P99", st.P99Micros, 99}} {
		if c.got < lo || c.got > hi {
			t.Errorf("%s = %dµs, want within [%d, %d]: the slow requests' delay", c.name, c.got, lo, hi)
		}
		if exact := nearestRank(lats, c.q); !withinHDRPrecision(c.got, exact) {
			t.Errorf("%s = %dµs, exact from samples %dµs: beyond HDR precision", c.name, c.got, exact)
		}
	}
	if median := nearestRank(lats, 50); median >= lo {
		t.Errorf("median %dµs, want below the slow delay %dµs", median, lo)
	}
}

func TestLatencyBeyondHistogramRangeIsClamped(t *testing.T) {
	w := newWindow(1)
	w.record(Sample{Micros: 2 * histMaxMicros, Status: 200})
	st, _ := w.stats(false)
	if !withinHDRPrecision(st.P99Micros, histMaxMicros) {
		t.Fatalf("P99=%d, want the histogram clamped to %d", st.P99Micros, histMaxMicros)
	}
	if want := SamplesRoot([]Sample{{Micros: 2 * histMaxMicros, Status: 200}}); !bytes.Equal(st.SamplesRoot, want) {
		t.Fatal("the samples' root does not cover the true latency")
	}
}
