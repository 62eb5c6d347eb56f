package ingress

import (
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1µs to 60s at 3 significant figures (≈0.1% relative error). Longer
// requests are recorded in the histogram as 60s; the samples' root covers the true value.
const (
	histMinMicros = 1
	histMaxMicros = 60_000_000
	histSigFigs   = 3
)

// WindowStats are one window's measurements, shaped after x/sla's WindowStats.
type WindowStats struct {
	Window uint64
	// Requests counts proxied requests received in the window; Errors those that count
	// against the provider (see Sample.IsError).
	Requests, Errors uint64
	// P95Micros and P99Micros come from the HDR histogram (ValueAtQuantile): within 0.1% of
	// the exact nearest-rank percentile of the samples, never below it. 0 with no requests.
	P95Micros, P99Micros uint64
	// Probes counts health probes started in the window and ProbesOK those answered 2xx.
	Probes, ProbesOK uint64
	// AvailabilityBps is ProbesOK*10000/Probes. When no probe ran in the window (Probes == 0)
	// it is 0 and means "unknown", not "down": the caller decides how to report that.
	AvailabilityBps uint32
	// SamplesRoot is SamplesRoot of the window's samples in the order they were recorded (the
	// order their responses completed). The window keeps only what the root needs, not the
	// samples; Config.OnRequest hands each sample to the caller.
	SamplesRoot []byte
}

// window accumulates one SLA window. Once closed it only rejects late arrivals.
type window struct {
	index uint64

	mu       sync.Mutex
	closed   bool
	hist     *hdrhistogram.Histogram
	tree     samplesTree
	requests uint64
	errors   uint64
	probes   uint64
	probesOK uint64
}

func newWindow(index uint64) *window {
	return &window{
		index: index,
		hist:  hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs),
		tree:  newSamplesTree(),
	}
}

// record adds a request sample; false when the window was already closed.
func (w *window) record(s Sample) bool {
	v := int64(min(s.Micros, histMaxMicros))
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	if s.InLatency() {
		_ = w.hist.RecordValue(v) // cannot fail: v is within the histogram's range
	}
	w.tree.add(s)
	w.requests++
	if s.IsError() {
		w.errors++
	}
	w.mu.Unlock()
	return true
}

// recordProbe adds a probe result; false when the window was already closed.
func (w *window) recordProbe(ok bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.probes++
	if ok {
		w.probesOK++
	}
	return true
}

// stats reads the window; with release it also closes it and drops its histogram. The root
// takes at most 63 hashes under the lock, whatever the window's size.
func (w *window) stats(release bool) (WindowStats, bool) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return WindowStats{}, false
	}
	st := WindowStats{
		Window:      w.index,
		Requests:    w.requests,
		Errors:      w.errors,
		P95Micros:   uint64(w.hist.ValueAtQuantile(95)),
		P99Micros:   uint64(w.hist.ValueAtQuantile(99)),
		Probes:      w.probes,
		ProbesOK:    w.probesOK,
		SamplesRoot: w.tree.root(),
	}
	if release {
		w.closed = true
		w.hist = nil
		w.tree = samplesTree{}
	}
	w.mu.Unlock()

	if st.Probes > 0 {
		st.AvailabilityBps = uint32(st.ProbesOK * 10000 / st.Probes)
	}
	return st, true
}
