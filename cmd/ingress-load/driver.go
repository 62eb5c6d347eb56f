package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/computed-network/computed/provider/ingress"
)

// target is one endpoint under load and its accumulated measurements.
type target struct {
	name  string
	url   string
	total *recorder
}

// sliceResult is one slice's figures, printed as a row.
type sliceResult struct {
	n          int
	target     string
	rec        *recorder
	backendP95 int64  // µs, the backend's own handler time
	inProxyP95 uint64 // µs, the proxy's own measurement (proxied slices only)
}

// drive starts the backend and proxy processes and runs the measurement.
func drive(o options) error {
	if o.rate <= 0 || o.duration <= 0 || o.slices < 2 || o.slices%2 != 0 {
		return errors.New("need -rate > 0, -duration > 0 and an even -slices >= 2")
	}
	if o.arrivals != "constant" && o.arrivals != "poisson" {
		return fmt.Errorf("unknown -arrivals %q (constant or poisson)", o.arrivals)
	}
	plan, err := planPin(o.pin)
	if err != nil {
		return err
	}
	placement := "unpinned"
	if plan != nil {
		if err := pinTo(plan.client, o.gomaxprocs); err != nil {
			return err
		}
		o.cpus = formatCPUs(plan.servers) // passed to the children
		placement = fmt.Sprintf("client on CPU %s, backend and proxy on %s", formatCPUs(plan.client), o.cpus)
	}
	backend, err := startChild(o, roleBackend)
	if err != nil {
		return err
	}
	defer backend.stop()
	o.backend = backend.url
	proxy, err := startChild(o, roleProxy)
	if err != nil {
		return err
	}
	defer proxy.stop()

	gen := &generator{client: newClient(o.client), rate: o.rate, maxInFlight: o.maxInFlight, pacing: o.pacing, arrivals: o.arrivals}
	targets := []*target{
		{name: "direct", url: backend.url + "/work", total: newRecorder()},
		{name: "proxied", url: proxy.url + "/work", total: newRecorder()},
	}
	// Warm connection pools and heaps; the proxy counts this in window 0.
	for _, t := range targets {
		if err := gen.run(t.url, o.warmup, 0, newRecorder()); err != nil {
			return err
		}
	}
	if err := proxy.control("profile", nil); err != nil {
		return err
	}
	if err := backend.control("stats", nil); err != nil { // resets the backend's histogram
		return err
	}

	slice := o.duration / time.Duration(o.slices)
	proxyProcs := runtime.GOMAXPROCS(0)
	if plan != nil && o.gomaxprocs <= 0 {
		proxyProcs = len(plan.servers)
	}
	if o.proxyProcs > 0 {
		proxyProcs = o.proxyProcs
	}
	fmt.Printf("ingress-load: %.0f req/s per target, %d alternating slices of %v (%v per target), backend work %v, body %d B, %s arrivals paced by %s, %d CPUs (%s), GOMAXPROCS %d (proxy %d)\n\n",
		o.rate, o.slices, slice, o.duration/2, o.work, o.bodySize, o.arrivals, o.pacing, runtime.NumCPU(), placement, runtime.GOMAXPROCS(0), proxyProcs)
	rows := o.verbose || o.slices <= 20
	if rows {
		printSliceHeader()
	}
	var results []sliceResult
	for i := range o.slices {
		// ABBA order, so drift in the machine's state over the run favours neither target.
		t := targets[(i+i/2)%2]
		window := i + 1
		if err := proxy.control(fmt.Sprintf("window?n=%d", window), nil); err != nil {
			return err
		}
		rec := newRecorder()
		cpu0 := [numProcs]time.Duration{processCPU(os.Getpid()), backend.cpu(), proxy.cpu()}
		if err := gen.run(t.url, slice, uint64(i/2+1), rec); err != nil {
			return err
		}
		cpu1 := [numProcs]time.Duration{processCPU(os.Getpid()), backend.cpu(), proxy.cpu()}
		for p := range rec.cpu {
			rec.cpu[p] = cpu1[p] - cpu0[p]
		}
		t.total.merge(rec)

		res := sliceResult{n: window, target: t.name, rec: rec}
		var bs backendStats
		if err := backend.control("stats", &bs); err != nil {
			return err
		}
		res.backendP95 = bs.P95
		var ps proxyStats
		if err := proxy.control(fmt.Sprintf("stats?window=%d", window), &ps); err != nil {
			return err
		}
		res.inProxyP95 = ps.P95Micros
		results = append(results, res)
		if rows {
			printSliceRow(res)
		}
	}

	printSummary(o, targets, results)
	return printProxyWindows(proxy, o.slices)
}

// newClient is the one client both targets are loaded with, so they differ only by the proxy.
// "direct" is the proxy's own keep-alive transport (no per-connection goroutines): the load
// generator shares the two cores with what it measures, so its own cost matters.
func newClient(kind string) *http.Client {
	if kind == "direct" {
		return &http.Client{Transport: ingress.NewHTTP1Transport()}
	}
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		// Beyond this, requests queue for a connection (still timed from their due time)
		// instead of exhausting file descriptors when the machine stalls.
		MaxConnsPerHost:    1024,
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
	}}
}

// drain reads and closes a response body so its connection is reused.
func drain(resp *http.Response) error {
	_, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}
