package main

import (
	"net/http"
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

// run loads url for d and records into rec.
func (g *generator) run(url string, d time.Duration, rec *recorder) {
	interval := time.Duration(float64(time.Second) / g.rate)
	n := int(d / interval)
	var (
		wg       sync.WaitGroup
		inFlight atomic.Int64
	)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		// Go timers may wake up to ~1 ms late; the requests that fell due meanwhile then go
		// out back to back, each still timed from its own due time.
		sleepUntil(due)
		if inFlight.Load() >= int64(g.maxInFlight) {
			rec.failed()
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			g.send(url, due, rec)
		}()
	}
	wg.Wait()
	rec.wall += time.Since(start)
}

func (g *generator) send(url string, due time.Time, rec *recorder) {
	sent := time.Now()
	resp, err := g.client.Get(url)
	if err == nil {
		err = drain(resp)
	}
	done := time.Now()
	if err != nil || resp.StatusCode != http.StatusOK {
		rec.failed()
		return
	}
	rec.ok(due, sent, done)
}

func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}
