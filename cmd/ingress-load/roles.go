package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/journal"
)

// backendStats is the backend's own handler time since the previous call.
type backendStats struct {
	Count int64 `json:"count"`
	P95   int64 `json:"p95_us"`
}

// runBackend answers /work with a small body after the simulated work and /healthz with 200.
func runBackend(o options) error {
	body := []byte(strings.Repeat("x", o.bodySize))
	var (
		mu    sync.Mutex
		times = hdrhistogram.New(1, 60_000_000, 3)
	)
	work := func(w http.ResponseWriter) {
		start := time.Now()
		if o.work > 0 {
			time.Sleep(o.work)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
		mu.Lock()
		times.RecordValue(time.Since(start).Microseconds())
		mu.Unlock()
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/work":
			work(w)
		case "/healthz":
		case controlPrefix + "stats":
			mu.Lock()
			st := backendStats{Count: times.TotalCount(), P95: times.ValueAtQuantile(95)}
			times.Reset()
			mu.Unlock()
			json.NewEncoder(w).Encode(st)
		default:
			http.NotFound(w, r)
		}
	})
	return serveChild(h, nil)
}

// proxyStats is the part of a window's ingress.WindowStats the driver prints.
type proxyStats struct {
	Requests, Errors     uint64
	P95Micros, P99Micros uint64
	Probes               uint64
	AvailabilityBps      uint32
}

// runProxy serves the ingress proxy. The driver numbers the windows: each slice is its own
// window, so the proxy's view of a slice can be set beside the client's.
func runProxy(o options) error {
	if o.proxyGOGC > 0 {
		debug.SetGCPercent(o.proxyGOGC)
	}
	var window atomic.Uint64
	cfg := ingress.Config{
		LeaseID:    1,
		Backend:    o.backend,
		Registerer: prometheus.NewRegistry(),
		WindowOf:   func(time.Time) uint64 { return window.Load() },
	}
	if o.journal {
		stop, err := journalLikeSidecar(&cfg, o.journalSync)
		if err != nil {
			return err
		}
		defer stop()
	}
	proxy, err := ingress.New(cfg)
	if err != nil {
		return err
	}
	if err := proxy.Start(); err != nil {
		return err
	}
	defer proxy.Release()

	var (
		profMu  sync.Mutex
		profile *os.File
	)
	control := func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, controlPrefix) {
		case "window":
			n, err := strconv.ParseUint(r.URL.Query().Get("n"), 10, 64)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			window.Store(n)
			json.NewEncoder(w).Encode(n)
		case "stats":
			n, err := strconv.ParseUint(r.URL.Query().Get("window"), 10, 64)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			st, _ := proxy.Snapshot(n)
			json.NewEncoder(w).Encode(proxyStats{st.Requests, st.Errors, st.P95Micros, st.P99Micros, st.Probes, st.AvailabilityBps})
		case "profile":
			// Started by the driver after warm-up, so the profile covers the measured slices.
			profMu.Lock()
			defer profMu.Unlock()
			if o.cpuProfile != "" && profile == nil {
				f, err := os.Create(o.cpuProfile)
				if err == nil {
					err = pprof.StartCPUProfile(f)
				}
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				profile = f
			}
			json.NewEncoder(w).Encode(profile != nil)
		default:
			http.NotFound(w, r)
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, controlPrefix) {
			control(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	return serveChild(h, func() {
		profMu.Lock()
		defer profMu.Unlock()
		if profile != nil {
			pprof.StopCPUProfile()
			profile.Close()
		}
	})
}

// journalLikeSidecar makes cfg's proxy do per request what the sidecar's does (provider/daemon's
// ingressConfig): keep the request for the next receipt and journal it, under the lease's lock.
// Once a second, a block, the requests are taken and the journal sealed and trimmed; every
// syncEvery (0: never) the journal is synced to disk, as the sidecar's receipts.journal_sync.
func journalLikeSidecar(cfg *ingress.Config, syncEvery time.Duration) (stop func(), err error) {
	dir, err := os.MkdirTemp("", "ingress-load-journal-")
	if err != nil {
		return nil, err
	}
	j, _, err := journal.Open(dir, 0)
	if err != nil {
		return nil, err
	}
	var (
		mu      sync.Mutex
		pending []ingress.Sample
	)
	cfg.OnRequest = func(window uint64, s ingress.Sample) {
		mu.Lock()
		pending = append(pending, s)
		if err := j.Request(window, s); err != nil {
			fmt.Fprintln(os.Stderr, "journal:", err)
		}
		mu.Unlock()
	}
	done := make(chan struct{})
	if syncEvery > 0 {
		go every(syncEvery, done, func() {
			if err := j.Sync(); err != nil {
				fmt.Fprintln(os.Stderr, "journal sync:", err)
			}
		})
	}
	go every(time.Second, done, func() {
		mu.Lock()
		pending = pending[:0]
		sealed := j.Seal()
		mu.Unlock()
		_ = j.Drop(sealed)
	})
	return func() {
		close(done)
		_ = j.Remove()
	}, nil
}

// every calls fn every interval until done is closed.
func every(interval time.Duration, done <-chan struct{}, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		fn()
	}
}
