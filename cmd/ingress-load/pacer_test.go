package main

import (
	"math"
	"runtime"
	"testing"
	"time"
)

func TestConstantScheduleIsEvenlySpaced(t *testing.T) {
	g := &generator{rate: 5000, arrivals: "constant"}
	next := g.schedule(1)
	for i := 1; i <= 10_000; i++ {
		if got, want := next(), time.Duration(i)*200*time.Microsecond; got != want {
			t.Fatalf("due time %d = %v, want %v", i, got, want)
		}
	}
}

func TestPoissonScheduleHasTheRateAndRepeatsPerSeed(t *testing.T) {
	g := &generator{rate: 5000, arrivals: "poisson"}
	a, b, c := g.schedule(7), g.schedule(7), g.schedule(8)
	const n = 200_000
	var last, gapSq float64
	differs := false
	for range n {
		x, y, z := a(), b(), c()
		if x != y {
			t.Fatalf("same seed gave %v and %v", x, y)
		}
		if x != z {
			differs = true
		}
		if float64(x) < last {
			t.Fatalf("due times go backwards: %v after %v", x, last)
		}
		gap := float64(x) - last
		gapSq += gap * gap
		last = float64(x)
	}
	if !differs {
		t.Fatal("seeds 7 and 8 gave the same schedule")
	}
	// n exponential gaps of mean 200 µs: the mean is within 1% (≈4.5 standard errors) and the
	// coefficient of variation near 1, where a constant schedule's is 0.
	mean := last / n
	if math.Abs(mean-200e3) > 2e3 {
		t.Fatalf("mean gap %.0f ns, want 200000 ± 2000", mean)
	}
	cv := math.Sqrt(gapSq/n-mean*mean) / mean
	if cv < 0.95 || cv > 1.05 {
		t.Fatalf("coefficient of variation of the gaps %.3f, want about 1", cv)
	}
}

func TestPacersNeverReturnEarly(t *testing.T) {
	for _, kind := range []string{"timerfd", "sleep"} {
		t.Run(kind, func(t *testing.T) {
			if kind == "timerfd" && runtime.GOOS != "linux" {
				t.Skip("timerfd is Linux's")
			}
			p, err := newPacer(kind)
			if err != nil {
				t.Fatal(err)
			}
			defer p.close()
			start := time.Now()
			for i := 1; i <= 50; i++ {
				due := start.Add(time.Duration(i) * 300 * time.Microsecond)
				if err := p.until(due); err != nil {
					t.Fatal(err)
				}
				if now := time.Now(); now.Before(due) {
					t.Fatalf("returned %v before the due time", due.Sub(now))
				}
			}
			// A time already past returns at once rather than blocking.
			done := make(chan error, 1)
			go func() { done <- p.until(start) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("until blocked on a past time")
			}
		})
	}
	if _, err := newPacer("busy"); err == nil {
		t.Fatal("an unknown pacing was accepted")
	}
}

func TestQuantileAndMedian(t *testing.T) {
	xs := []float64{0.9, -0.1, 0.3, 0.5, 0.2, 0.4, 0.1, 0.8, 0.6, 0.7, 0.0}
	for _, c := range []struct{ q, want float64 }{{0, -0.1}, {0.25, 0.1}, {0.5, 0.4}, {0.75, 0.7}, {1, 0.9}} {
		if got := quantile(xs, c.q); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := median(xs); got != 0.4 {
		t.Errorf("median = %v, want 0.4", got)
	}
	if got := median([]float64{1, 2, 3, 4}); got != 2.5 {
		t.Errorf("median of an even count = %v, want 2.5", got)
	}
	if xs[0] != 0.9 {
		t.Error("quantile sorted its input in place")
	}
	if quantile(nil, 0.5) != 0 || median(nil) != 0 {
		t.Error("empty input should give 0")
	}
}

func TestPinPlan(t *testing.T) {
	if p, err := planPin(""); p != nil || err != nil {
		t.Fatalf("no pinning: %v %v", p, err)
	}
	if _, err := planPin("server"); err == nil {
		t.Fatal("an unknown placement was accepted")
	}
	cpus, err := parseCPUs("1, 3,2")
	if err != nil || len(cpus) != 3 || cpus[0] != 1 || cpus[1] != 3 || cpus[2] != 2 {
		t.Fatalf("parseCPUs = %v, %v", cpus, err)
	}
	if formatCPUs(cpus) != "1,3,2" {
		t.Fatalf("formatCPUs = %q", formatCPUs(cpus))
	}
	for _, bad := range []string{"", "a", "1,-2", "1,,2"} {
		if _, err := parseCPUs(bad); err == nil {
			t.Errorf("parseCPUs(%q) accepted", bad)
		}
	}
}
