package ingress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// waitProbes waits until window 1 has seen at least n probes.
func waitProbes(t *testing.T, p *Proxy, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := p.Snapshot(1); ok && st.Probes >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d probes after 10s", n)
}

func TestAvailabilityFromHealthFailingHalfTheTime(t *testing.T) {
	var calls atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			t.Errorf("probe of %s, want /ready", r.URL.Path)
		}
		if calls.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer backend.Close()
	p, _ := startProxy(t, Config{Backend: backend.URL, HealthPath: "/ready", ProbeInterval: time.Millisecond, ProbeTimeout: 5 * time.Second})

	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil {
		t.Error("second Start succeeded, want an error")
	}
	waitProbes(t, p, 100)
	p.Stop()

	st := mustSnapshot(t, p, 1)
	if st.ProbesOK == 0 || st.ProbesOK == st.Probes {
		t.Fatalf("probes=%d ok=%d, want a mix", st.Probes, st.ProbesOK)
	}
	if st.AvailabilityBps < 4900 || st.AvailabilityBps > 5100 {
		t.Fatalf("availability %d bps over %d probes, want ~5000", st.AvailabilityBps, st.Probes)
	}
	if want := uint32(st.ProbesOK * 10000 / st.Probes); st.AvailabilityBps != want {
		t.Fatalf("availability %d bps, want ok*10000/probes = %d", st.AvailabilityBps, want)
	}
}

func TestProbeSlowerThanTimeoutFails(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
	}))
	defer backend.Close()
	p, _ := startProxy(t, Config{Backend: backend.URL, ProbeInterval: time.Hour, ProbeTimeout: 10 * time.Millisecond})

	p.probe(context.Background())
	if st := mustSnapshot(t, p, 1); st.Probes != 1 || st.ProbesOK != 0 || st.AvailabilityBps != 0 {
		t.Fatalf("probes=%d ok=%d bps=%d, want one failed probe", st.Probes, st.ProbesOK, st.AvailabilityBps)
	}
}

func TestWindowWithoutProbesReportsZeroProbes(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()
	p, srv := startProxy(t, Config{Backend: backend.URL})

	get(t, srv.URL+"/", nil)
	if st := mustSnapshot(t, p, 1); st.Probes != 0 || st.AvailabilityBps != 0 || st.Requests != 1 {
		t.Fatalf("probes=%d bps=%d requests=%d, want 0, 0, 1", st.Probes, st.AvailabilityBps, st.Requests)
	}
}

func TestRunReturnsWhenContextDone(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()
	p, _ := startProxy(t, Config{Backend: backend.URL, ProbeInterval: time.Millisecond, ProbeTimeout: 5 * time.Second})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		p.Run(ctx)
		close(done)
	}()
	waitProbes(t, p, 3)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	if st := mustSnapshot(t, p, 1); st.ProbesOK != st.Probes {
		t.Fatalf("probes=%d ok=%d: cancelling must not record a failed probe", st.Probes, st.ProbesOK)
	}
}

// TestOnProbeAndRestoreProbes: OnProbe hears each recorded probe with its window and outcome,
// and probes restored from an earlier run (or missed while the sidecar was down) add to the
// window's availability; a closed window refuses them.
func TestOnProbeAndRestoreProbes(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()
	var heard, heardOK atomic.Uint64
	// The timeout is generous: a 1 ms one (the default, the interval) fails probes on a busy host.
	p, _ := startProxy(t, Config{Backend: backend.URL, ProbeInterval: time.Millisecond, ProbeTimeout: time.Second, OnProbe: func(w uint64, ok bool) {
		if w != 1 {
			t.Errorf("OnProbe window %d, want 1", w)
		}
		heard.Add(1)
		if ok {
			heardOK.Add(1)
		}
	}})
	if p.ProbeInterval() != time.Millisecond {
		t.Fatalf("ProbeInterval = %v", p.ProbeInterval())
	}
	if err := p.RestoreProbes(1, 10, 6); err != nil { // 6 of 10 answered before the restart
		t.Fatal(err)
	}
	if err := p.RestoreProbes(1, 4, 0); err != nil { // 4 missed while the sidecar was down
		t.Fatal(err)
	}
	if err := p.RestoreProbes(1, 1, 2); err == nil {
		t.Fatal("more probes ok than probes accepted")
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	waitProbes(t, p, 34)
	p.Stop()
	st, err := p.Close(1)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := heard.Load(), heardOK.Load()
	if n != ok || st.Probes != 14+n || st.ProbesOK != 6+ok {
		t.Fatalf("window: %d probes, %d ok; heard %d, %d ok; want 14+heard and 6+ok", st.Probes, st.ProbesOK, n, ok)
	}
	if want := uint32((6 + ok) * 10000 / (14 + n)); st.AvailabilityBps != want {
		t.Fatalf("availability %d bps, want %d", st.AvailabilityBps, want)
	}
	if err := p.RestoreProbes(1, 1, 1); !errors.Is(err, ErrWindowClosed) {
		t.Fatalf("RestoreProbes into a closed window = %v", err)
	}
}
