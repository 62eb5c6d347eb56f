package ingress

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestProxyPassesRequestAndResponseThrough(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/base/v1/infer" || r.URL.RawQuery != "model=x" {
			http.Error(w, "unexpected target "+r.URL.String(), http.StatusTeapot)
			return
		}
		if r.Header.Get("X-Forwarded-For") == "" {
			http.Error(w, "missing X-Forwarded-For", http.StatusTeapot)
			return
		}
		w.Header().Set("X-Backend", "seen "+r.Header.Get("X-Request"))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "hello")
	}))
	defer backend.Close()
	var c collector
	p, srv := startProxy(t, Config{LeaseID: 7, Backend: backend.URL + "/base", OnRequest: c.onRequest})

	resp, body := get(t, srv.URL+"/v1/infer?model=x", http.Header{"X-Request": {"abc"}})
	if resp.StatusCode != http.StatusCreated || body != "hello" {
		t.Fatalf("got %d %q, want 201 \"hello\"", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Backend"); got != "seen abc" {
		t.Fatalf("X-Backend = %q, want %q", got, "seen abc")
	}

	st := mustSnapshot(t, p, 1)
	if st.Requests != 1 || st.Errors != 0 {
		t.Fatalf("requests=%d errors=%d, want 1 and 0", st.Requests, st.Errors)
	}
	got := c.of(1)
	if len(got) != 1 || got[0].Status != http.StatusCreated || got[0].Micros == 0 {
		t.Fatalf("samples %+v, want one with status 201 and a latency", got)
	}
	if !bytes.Equal(st.SamplesRoot, SamplesRoot(got)) {
		t.Fatal("the window's root is not over the sample handed to OnRequest")
	}
}

func TestProxyBackendDownIs502AndCountsAsError(t *testing.T) {
	backend := httptest.NewServer(http.NotFoundHandler())
	url := backend.URL
	backend.Close() // nothing listens there any more
	var c collector
	p, srv := startProxy(t, Config{Backend: url, OnRequest: c.onRequest})

	resp, _ := get(t, srv.URL+"/", nil)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	st := mustSnapshot(t, p, 1)
	if got := c.of(1); st.Requests != 1 || st.Errors != 1 || len(got) != 1 || got[0].Status != http.StatusBadGateway {
		t.Fatalf("requests=%d errors=%d samples=%+v, want one 502 error", st.Requests, st.Errors, got)
	}
}

func TestProxyBackend5xxCountsAsError(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer backend.Close()
	p, srv := startProxy(t, Config{Backend: backend.URL})

	get(t, srv.URL+"/fail", nil)
	get(t, srv.URL+"/missing", nil) // a 4xx is the client's problem
	st := mustSnapshot(t, p, 1)
	if st.Requests != 2 || st.Errors != 1 {
		t.Fatalf("requests=%d errors=%d, want 2 and 1", st.Requests, st.Errors)
	}
}

func TestProxyResponseCutOffMidBodyIsRecordedAsAborted(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
		brw.Flush()
		conn.Close()
	}))
	defer backend.Close()
	samples := make(chan Sample, 1)
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(_ uint64, s Sample) { samples <- s }})

	resp, err := http.Get(srv.URL + "/")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("client read a complete response, want it cut off")
	}
	if s := <-samples; s.Status != 0 {
		t.Fatalf("sample status %d, want 0 (aborted)", s.Status)
	}
	if st := mustSnapshot(t, p, 1); st.Errors != 1 {
		t.Fatalf("errors=%d, want 1", st.Errors)
	}
}

func TestProxyClientGoneIs499AndNotAnError(t *testing.T) {
	arrived := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	defer backend.Close()
	samples := make(chan Sample, 1)
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(_ uint64, s Sample) { samples <- s }})

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v, want context.Canceled", err)
	}
	select {
	case s := <-samples:
		if s.Status != statusClientClosed {
			t.Fatalf("sample status %d, want 499", s.Status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no sample recorded for the cancelled request")
	}
	if st := mustSnapshot(t, p, 1); st.Errors != 0 {
		t.Fatalf("errors=%d, want 0", st.Errors)
	}
}

func TestProxyClientHangingUpMidResponseIs499(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done() // stream until the proxy gives up on us
	}))
	defer backend.Close()
	samples := make(chan Sample, 1)
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(_ uint64, s Sample) { samples <- s }})

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(resp.Body).ReadString('\n'); line != "first\n" {
		t.Fatalf("first chunk %q", line)
	}
	resp.Body.Close() // hang up mid-response
	select {
	case s := <-samples:
		if s.Status != statusClientClosed {
			t.Fatalf("sample status %d, want 499", s.Status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no sample recorded after the client hung up")
	}
	if st := mustSnapshot(t, p, 1); st.Errors != 0 {
		t.Fatalf("errors=%d, want 0: the client hung up", st.Errors)
	}
}

func TestProxyUpgradeIsRecordedAs101(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString(line)
		brw.Flush()
	}))
	defer backend.Close()
	samples := make(chan Sample, 1)
	_, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(_ uint64, s Sample) { samples <- s }})

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	rwc := resp.Body.(io.ReadWriteCloser)
	io.WriteString(rwc, "ping\n")
	if line, _ := bufio.NewReader(rwc).ReadString('\n'); line != "ping\n" {
		t.Fatalf("echo %q, want %q", line, "ping\n")
	}
	rwc.Close()
	if s := <-samples; s.Status != http.StatusSwitchingProtocols {
		t.Fatalf("sample status %d, want 101", s.Status)
	}
}

func TestOnRequestCalledOncePerRequest(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	var calls atomic.Int64
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(uint64, Sample) { calls.Add(1) }})

	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			get(t, srv.URL+"/", nil)
		}()
	}
	wg.Wait()
	if got := calls.Load(); got != n {
		t.Fatalf("OnRequest called %d times, want %d", got, n)
	}
	if st := mustSnapshot(t, p, 1); st.Requests != n {
		t.Fatalf("requests=%d, want %d", st.Requests, n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Backend: "127.0.0.1:8080"},
		{Backend: "ftp://host/"},
		{Backend: "http://"},
		{Backend: "http://host", HealthPath: "healthz"},
		{Backend: "http://host", ProbeInterval: -time.Second},
	} {
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "ingress: ") {
			t.Errorf("New(%+v) error %v, want an ingress: error", cfg, err)
		}
	}
}

// TestDrainWaitsForRequestsInFlight: a request the proxy is still serving when its lease closes
// is recorded (OnRequest) before Drain returns; Drain gives up at its timeout.
func TestDrainWaitsForRequestsInFlight(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = io.WriteString(w, "late")
	}))
	defer backend.Close()
	var recorded atomic.Int64
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(uint64, Sample) { recorded.Add(1) }})
	go func() { _, _ = http.Get(srv.URL) }()
	for p.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if p.Drain(20 * time.Millisecond) {
		t.Fatal("Drain returned true while a request was in flight")
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(release)
	}()
	if !p.Drain(5 * time.Second) {
		t.Fatal("Drain timed out")
	}
	if recorded.Load() != 1 {
		t.Fatalf("%d requests recorded when Drain returned, want 1", recorded.Load())
	}
	if !p.Drain(time.Millisecond) {
		t.Fatal("Drain with nothing in flight")
	}
	// A request that reaches the proxy once it has drained is turned away, unrecorded.
	resp, _ := get(t, srv.URL, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || recorded.Load() != 1 {
		t.Fatalf("after Drain: %d, %d recorded; want 503 and still 1", resp.StatusCode, recorded.Load())
	}
}
