package main

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// generator sends open-loop load: request i of a run is due at start + i/rate whether or not
// earlier requests have been answered, and its latency is measured from that due time, so a
// stall delays the measurement of every request scheduled behind it (no coordinated omission).
type generator struct {
	client      *http.Client
	rate        float64
	maxInFlight int
}

// target is one endpoint under load and its accumulated measurements.
type target struct {
	name  string
	url   string
	total *recorder
}

func (g *generator) run(t *target, d time.Duration, rec *recorder) {
	if t.total == nil {
		t.total = newRecorder()
	}
	interval := time.Duration(float64(time.Second) / g.rate)
	n := int(d / interval)
	var (
		wg       sync.WaitGroup
		inFlight atomic.Int64
	)

	// The scheduler sleeps on its own OS thread with nanosleep: Go's timers wake up to a
	// millisecond late on an idle runtime, which would send the load in 1 ms bursts.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	preciseSleepSetup()

	cpu0 := processCPU()
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		sleepUntil(due)
		if inFlight.Load() >= int64(g.maxInFlight) {
			rec.failed(due)
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			g.send(t.url, due, rec)
		}()
	}
	wg.Wait()
	rec.wall += time.Since(start)
	rec.cpu += processCPU() - cpu0
}

func (g *generator) send(url string, due time.Time, rec *recorder) {
	sent := time.Now()
	resp, err := g.client.Get(url)
	if err == nil {
		err = drain(resp)
	}
	done := time.Now()
	if err != nil || resp.StatusCode != http.StatusOK {
		rec.failed(due)
		return
	}
	rec.ok(due, sent, done)
}
