// Command ingress-load measures what the ingress proxy adds to request latency. It starts a
// local backend and the proxy in front of it, each in its own process as in production (the
// workload runs in a container, the proxy in the provider's sidecar), and drives the same
// open-loop constant-rate load straight to the backend and through the proxy, in short
// alternating slices so both see the same machine state. It prints both latency
// distributions, the proxy's P95 overhead and the CPU each process spent per request.
//
// The load is open-loop: request i is due at start + i/rate regardless of earlier answers,
// and its latency runs from that due time to the end of its response body, so a stall counts
// against every request scheduled behind it (no coordinated omission). Sends are paced by a
// kernel high-resolution timer (timerfd), so a constant rate of 5,000 req/s means one request
// every 200 µs; Go's own timers wake an idle process only at millisecond granularity, which
// sends such a rate in bursts of five (-pacing sleep, kept for comparison). -arrivals poisson
// draws exponential gaps instead, the arrival process of many independent clients.
//
// Short slices (by default 100 over 20 s: 200 ms each) put each direct slice next to a proxied
// one under nearly the same machine state; the verdict is the median of the pairs' P95
// differences, which a burst of other load on the machine moves less than the totals.
//
//	go run ./cmd/ingress-load -rate 5000 -duration 20s
//	go run ./cmd/ingress-load -rate 5000 -duration 20s -arrivals poisson
//	go run ./cmd/ingress-load -work 0 -cpuprofile proxy.pprof   # backend answers at once
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
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
	gomaxprocs  int
	// Runtime settings of the proxy process alone: the knobs a provider has for its sidecar.
	proxyProcs int
	client     string
	pacing     string
	arrivals   string
	verbose    bool
	pin        string

	cpus      string // a child's CPUs under -pin
	proxyGOGC int
	// journal: the proxy journals each request and takes them once a second, as the sidecar
	// does (package journal); off measures the bare proxy.
	journal bool
	// journalSync: how often the proxy syncs its journal to disk (0: never).
	journalSync time.Duration

	// Set in the child processes.
	role    string
	backend string
}

func main() {
	var o options
	flag.Float64Var(&o.rate, "rate", 5000, "requests per second sent to each target while it is loaded")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "total measured time, shared equally by the direct and proxied targets")
	flag.IntVar(&o.slices, "slices", 100, "number of alternating slices the duration is cut into (even; order direct,proxied,proxied,direct,...)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load per target before measuring")
	flag.DurationVar(&o.work, "work", time.Millisecond, "simulated work (sleep) per backend request; 0 answers immediately")
	flag.IntVar(&o.bodySize, "body", 64, "response body size in bytes")
	flag.IntVar(&o.maxInFlight, "max-inflight", 10000, "requests in flight per target beyond which a due request is counted as failed instead of sent")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the proxy process over the measured slices to this file")
	flag.IntVar(&o.gomaxprocs, "gomaxprocs", 0, "GOMAXPROCS of every process (0: runtime default)")
	flag.IntVar(&o.proxyProcs, "proxy-gomaxprocs", 0, "GOMAXPROCS of the proxy process (0: as -gomaxprocs)")
	flag.StringVar(&o.client, "client", "direct", "load generator's HTTP client: direct (keep-alive, no per-connection goroutines) or std (net/http Transport)")
	flag.StringVar(&o.pacing, "pacing", "timerfd", "how sends are paced: timerfd (a kernel high-resolution timer, one send every 1/rate) or sleep (Go timers: millisecond bursts)")
	flag.StringVar(&o.arrivals, "arrivals", "constant", "arrival process: constant (one request every 1/rate) or poisson (exponential gaps of mean 1/rate)")
	flag.BoolVar(&o.verbose, "v", false, "print every slice's row (done anyway for 20 slices or fewer)")
	flag.StringVar(&o.pin, "pin", "", "CPU placement: client (load generator on CPU 0, backend and proxy on the others) or empty (no pinning)")
	flag.StringVar(&o.cpus, "cpus", "", "internal: CPUs a child process pins itself to")
	flag.IntVar(&o.proxyGOGC, "proxy-gogc", 0, "GOGC of the proxy process (0: runtime default)")
	flag.DurationVar(&o.journalSync, "journal-sync", 200*time.Millisecond, "how often the proxy syncs its journal to disk, as the sidecar's receipts.journal_sync (0: never)")
	flag.BoolVar(&o.journal, "journal", true, "the proxy journals every request to a file and takes them once a second, as the sidecar does (false: the bare proxy)")
	flag.StringVar(&o.role, "role", "", "internal: run as the backend or proxy child process")
	flag.StringVar(&o.backend, "backend", "", "internal: the proxy child's backend URL")
	flag.Parse()

	if o.gomaxprocs > 0 {
		runtime.GOMAXPROCS(o.gomaxprocs)
	}
	var err error
	if o.cpus != "" {
		var cpus []int
		if cpus, err = parseCPUs(o.cpus); err == nil {
			err = pinTo(cpus, o.gomaxprocs)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ingress-load%s: %v\n", roleSuffix(o.role), err)
			os.Exit(1)
		}
	}
	switch o.role {
	case "":
		err = drive(o)
	case roleBackend:
		err = runBackend(o)
	case roleProxy:
		err = runProxy(o)
	default:
		err = fmt.Errorf("unknown -role %q", o.role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ingress-load%s: %v\n", roleSuffix(o.role), err)
		os.Exit(1)
	}
}

func roleSuffix(role string) string {
	if role == "" {
		return ""
	}
	return " (" + role + ")"
}

// childArgs are the flags a child process needs.
func childArgs(o options, role string) []string {
	args := []string{"-role=" + role, "-gomaxprocs=" + strconv.Itoa(o.gomaxprocs)}
	if o.cpus != "" {
		args = append(args, "-cpus="+o.cpus)
	}
	switch role {
	case roleBackend:
		args = append(args, "-work="+o.work.String(), "-body="+strconv.Itoa(o.bodySize))
	case roleProxy:
		args = append(args, "-backend="+o.backend, "-proxy-gogc="+strconv.Itoa(o.proxyGOGC), "-journal="+strconv.FormatBool(o.journal), "-journal-sync="+o.journalSync.String())
		if o.proxyProcs > 0 {
			args[1] = "-gomaxprocs=" + strconv.Itoa(o.proxyProcs)
		}
		if o.cpuProfile != "" {
			args = append(args, "-cpuprofile="+o.cpuProfile)
		}
	}
	return args
}
