// Command ingress-load measures what the ingress proxy adds to request latency. In one process
// it starts a local backend, the proxy in front of it, and an open-loop load generator that
// sends the same constant-rate load straight to the backend and through the proxy, in short
// alternating slices so both see the same machine state, then prints both latency
// distributions and the proxy's P95 overhead.
//
//	go run ./cmd/ingress-load -rate 5000 -duration 20s
//	go run ./cmd/ingress-load -work 0 -cpuprofile cpu.out   # backend answers immediately
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/computed-network/computed/provider/ingress"
)

type options struct {
	rate        float64
	duration    time.Duration
	slices      int
	warmup      time.Duration
	work        time.Duration
	bodySize    int
	maxInFlight int
	cpuProfile  string
	memProfile  string
	gomaxprocs  int
}

func main() {
	var o options
	flag.Float64Var(&o.rate, "rate", 5000, "requests per second sent to each target while it is loaded")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "total measured time, shared equally by the direct and proxied targets")
	flag.IntVar(&o.slices, "slices", 10, "number of alternating slices the duration is cut into (even; order direct,proxied,proxied,direct,...)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load per target before measuring")
	flag.DurationVar(&o.work, "work", time.Millisecond, "simulated work per backend request (0: answer immediately)")
	flag.IntVar(&o.bodySize, "body", 64, "response body size in bytes")
	flag.IntVar(&o.maxInFlight, "max-inflight", 10000, "requests in flight per target beyond which the generator counts a send as failed instead of sending")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile taken at the end of the run to this file")
	flag.IntVar(&o.gomaxprocs, "gomaxprocs", 0, "GOMAXPROCS for the whole process (0: runtime default)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ingress-load:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.rate <= 0 || o.duration <= 0 || o.slices < 2 || o.slices%2 != 0 {
		return fmt.Errorf("need -rate > 0, -duration > 0 and an even -slices >= 2")
	}
	if o.gomaxprocs > 0 {
		runtime.GOMAXPROCS(o.gomaxprocs)
	}

	backendURL, stopBackend, err := serve(newBackend(o.work, o.bodySize))
	if err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	defer stopBackend()

	proxy, err := ingress.New(ingress.Config{LeaseID: 1, Backend: backendURL, Registerer: prometheus.NewRegistry()})
	if err != nil {
		return err
	}
	if err := proxy.Start(); err != nil {
		return err
	}
	defer proxy.Release()
	proxyURL, stopProxy, err := serve(proxy)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	defer stopProxy()

	client := newClient()
	targets := []*target{
		{name: "direct", url: backendURL + "/work"},
		{name: "proxied", url: proxyURL + "/work"},
	}
	gen := &generator{client: client, rate: o.rate, maxInFlight: o.maxInFlight}

	for _, t := range targets {
		gen.run(t, o.warmup, newRecorder()) // warm connection pools and the heap; not measured
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	slice := o.duration / time.Duration(o.slices)
	fmt.Printf("ingress-load: %.0f req/s per target, %d alternating slices of %v (%v per target), backend work %v, body %d B, GOMAXPROCS %d, %d CPUs\n\n",
		o.rate, o.slices, slice, o.duration/2, o.work, o.bodySize, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("%-6s %-8s %10s %8s %8s %8s %11s\n", "slice", "target", "achieved", "p50_ms", "p95_ms", "p99_ms", "cpu_us/req")
	// pairP95 holds each adjacent direct/proxied pair's P95 difference: a pair ran within a
	// few seconds, so its difference is less exposed to other load on the machine.
	var pairP95 []float64
	var p95 [2]float64
	for i := range o.slices {
		// ABBA order, so drift in the machine's state over the run favours neither target.
		which := (i + i/2) % 2
		t := targets[which]
		rec := newRecorder()
		gen.run(t, slice, rec)
		t.total.merge(rec)
		p95[which] = ms(rec.latency.ValueAtQuantile(95))
		if i%2 == 1 {
			pairP95 = append(pairP95, p95[1]-p95[0])
		}
		fmt.Printf("%-6d %-8s %10.1f %8.3f %8.3f %8.3f %11.1f\n", i+1, t.name, rec.achieved(),
			ms(rec.latency.ValueAtQuantile(50)), p95[which], ms(rec.latency.ValueAtQuantile(99)), rec.cpuPerRequest())
	}

	printSummary(o, targets, pairP95)
	printProxyView(proxy)
	if o.memProfile != "" {
		return writeHeapProfile(o.memProfile)
	}
	return nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// serve runs h on a loopback port and returns its base URL.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// newClient is the one client both targets are loaded with, so they differ only by the proxy.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		// Beyond this, requests queue for a connection (still timed from their due time)
		// instead of exhausting file descriptors when the machine stalls.
		MaxConnsPerHost:    1024,
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
	}}
}

// newBackend answers /work with a small body after the simulated work, and /healthz with 200.
func newBackend(work time.Duration, bodySize int) http.Handler {
	body := make([]byte, bodySize)
	for i := range body {
		body[i] = 'x'
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		if work > 0 {
			time.Sleep(work)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	})
	return mux
}

// drain reads and closes a response body so its connection is reused.
func drain(resp *http.Response) error {
	_, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}
