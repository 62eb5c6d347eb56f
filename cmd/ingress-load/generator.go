package main

import (
	"math/rand/v2"
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
	pacing      string // see newPacer
	arrivals    string // constant or poisson
}

// run loads url for d and records into rec. seed picks the Poisson schedule, so the slices
// of both targets can be given the same arrivals.
func (g *generator) run(url string, d time.Duration, seed uint64, rec *recorder) error {
	next := g.schedule(seed)
	var (
		wg       sync.WaitGroup
		inFlight atomic.Int64
	)
	pace, err := newPacer(g.pacing)
	if err != nil {
		return err
	}
	defer pace.close()
	start := time.Now()
	for at := next(); at < d; at = next() {
		due := start.Add(at)
		// When the generator was descheduled past several due times, those requests go out
		// back to back, each still timed from its own due time.
		if err := pace.until(due); err != nil {
			return err
		}
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
	return nil
}

// schedule returns successive due times as offsets from the start of a run: every 1/rate
// for constant arrivals; for Poisson arrivals, exponentially distributed gaps of mean
// 1/rate, the arrival process of many independent clients.
func (g *generator) schedule(seed uint64) func() time.Duration {
	interval := float64(time.Second) / g.rate
	var i int
	if g.arrivals == "poisson" {
		rng := rand.New(rand.NewPCG(seed, 0x1ce55))
		var t float64
		return func() time.Duration {
			t += rng.ExpFloat64() * interval
			return time.Duration(t)
		}
	}
	return func() time.Duration {
		i++
		return time.Duration(float64(i) * interval)
	}
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
