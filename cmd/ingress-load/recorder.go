package main

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// recorder accumulates one target's results over one or more slices.
type recorder struct {
	mu sync.Mutex
	// latency is from each request's due time to the end of its response body (µs).
	latency *hdrhistogram.Histogram
	// lag is how late the generator actually sent (µs): the precision of the schedule.
	lag      *hdrhistogram.Histogram
	oks      int64
	failures int64
	wall     time.Duration
	// cpu is the CPU time each process spent while this target was loaded.
	cpu [numProcs]time.Duration
}

// The processes whose CPU time is accounted.
const (
	procClient = iota
	procBackend
	procProxy
	numProcs
)

func newRecorder() *recorder {
	return &recorder{
		latency: hdrhistogram.New(1, 60_000_000, 3),
		lag:     hdrhistogram.New(1, 60_000_000, 3),
	}
}

func (r *recorder) ok(due, sent, done time.Time) {
	r.mu.Lock()
	r.latency.RecordValue(done.Sub(due).Microseconds())
	r.lag.RecordValue(sent.Sub(due).Microseconds())
	r.oks++
	r.mu.Unlock()
}

func (r *recorder) failed() {
	r.mu.Lock()
	r.failures++
	r.mu.Unlock()
}

func (r *recorder) merge(o *recorder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency.Merge(o.latency)
	r.lag.Merge(o.lag)
	r.oks += o.oks
	r.failures += o.failures
	r.wall += o.wall
	for i := range r.cpu {
		r.cpu[i] += o.cpu[i]
	}
}

// achieved is the rate of successful responses over the slices' wall time (send schedule
// plus draining the last responses).
func (r *recorder) achieved() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(r.oks) / r.wall.Seconds()
}

// cpuPerRequest is a process's CPU time per sent request, in µs.
func (r *recorder) cpuPerRequest(proc int) float64 {
	n := r.oks + r.failures
	if n == 0 {
		return 0
	}
	return float64(r.cpu[proc].Microseconds()) / float64(n)
}

func (r *recorder) p(q float64) float64 { return ms(r.latency.ValueAtQuantile(q)) }

func ms(micros int64) float64 { return float64(micros) / 1000 }
