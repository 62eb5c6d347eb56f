package ingress

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// proberState tracks a prober started by Start.
type proberState struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Run probes the backend's health endpoint every ProbeInterval, starting at once, until ctx
// is done. Each probe counts in the window of the time it started.
func (p *Proxy) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.ProbeInterval)
	defer t.Stop()
	for {
		p.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Start runs the prober in the background until Stop.
func (p *Proxy) Start() error {
	p.prober.mu.Lock()
	defer p.prober.mu.Unlock()
	if p.prober.cancel != nil {
		return errors.New("ingress: prober already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p.prober.cancel, p.prober.done = cancel, done
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	return nil
}

// Stop stops the prober started by Start and waits for it; a no-op when none runs.
func (p *Proxy) Stop() {
	p.prober.mu.Lock()
	cancel, done := p.prober.cancel, p.prober.done
	p.prober.cancel, p.prober.done = nil, nil
	p.prober.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (p *Proxy) probe(ctx context.Context) {
	start := time.Now()
	ok := p.healthy(ctx)
	if !ok && ctx.Err() != nil {
		return // shutting down, not a failed probe
	}
	window := p.cfg.WindowOf(start)
	if !p.windows.get(window).recordProbe(ok) {
		p.windows.dropped.Add(1)
		if p.metrics != nil {
			p.metrics.droppedCtr.Inc()
		}
	} else if p.cfg.OnProbe != nil {
		p.cfg.OnProbe(window, ok)
	}
	if p.metrics != nil {
		if ok {
			p.metrics.upGauge.Set(1)
		} else {
			p.metrics.upGauge.Set(0)
		}
	}
}

// healthy reports whether the health endpoint answered 2xx within ProbeTimeout.
func (p *Proxy) healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.healthURL, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "computed-ingress-probe")
	resp, err := p.probeClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	// Drain (bounded) so the keep-alive connection is reused by the next probe.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// ProbeInterval is the time between probes.
func (p *Proxy) ProbeInterval() time.Duration { return p.cfg.ProbeInterval }
