package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/computed-network/computed/provider/ingress"
)

// overheadTargetMs is the budget the proxy must stay within at P95.
const overheadTargetMs = 0.5

func printSummary(o options, targets []*target, pairP95 []float64) {
	fmt.Printf("\n%-8s %10s %12s %8s %7s %8s %8s %8s %8s %12s %11s\n",
		"target", "target_rps", "achieved_rps", "ok", "errors", "p50_ms", "p95_ms", "p99_ms", "max_ms", "send_lag_p99", "cpu_us/req")
	for _, t := range targets {
		r := t.total
		fmt.Printf("%-8s %10.0f %12.1f %8d %7d %8.3f %8.3f %8.3f %8.3f %12.3f %11.1f\n",
			t.name, o.rate, r.achieved(), r.oks, r.failures,
			ms(r.latency.ValueAtQuantile(50)), ms(r.latency.ValueAtQuantile(95)),
			ms(r.latency.ValueAtQuantile(99)), ms(r.latency.Max()), ms(r.lag.ValueAtQuantile(99)), r.cpuPerRequest())
	}
	direct, proxied := targets[0].total, targets[1].total
	p95 := ms(proxied.latency.ValueAtQuantile(95)) - ms(direct.latency.ValueAtQuantile(95))
	p50 := ms(proxied.latency.ValueAtQuantile(50)) - ms(direct.latency.ValueAtQuantile(50))
	p99 := ms(proxied.latency.ValueAtQuantile(99)) - ms(direct.latency.ValueAtQuantile(99))
	verdict := "met"
	if p95 > overheadTargetMs {
		verdict = "MISSED"
	}
	fmt.Printf("\nproxy overhead: P50 %+.3f ms, P95 %+.3f ms, P99 %+.3f ms (target P95 <= %.1f ms: %s)\n",
		p50, p95, p99, overheadTargetMs, verdict)
	sorted := slices.Clone(pairP95)
	slices.Sort(sorted)
	parts := make([]string, len(pairP95))
	for i, d := range pairP95 {
		parts[i] = fmt.Sprintf("%+.3f", d)
	}
	fmt.Printf("P95 overhead per slice pair: median %+.3f ms [%s]\n", median(sorted), strings.Join(parts, " "))
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// printProxyView shows the proxy's own windows: what it would report on chain.
func printProxyView(p *ingress.Proxy) {
	fmt.Printf("\nproxy's windows (its own measurement, receipt to last byte; includes warm-up):\n")
	fmt.Printf("%-8s %9s %7s %8s %8s %7s %10s\n", "window", "requests", "errors", "p95_ms", "p99_ms", "probes", "avail_bps")
	for _, w := range p.Windows() {
		st, ok := p.Snapshot(w)
		if !ok {
			continue
		}
		fmt.Printf("%-8d %9d %7d %8.3f %8.3f %7d %10d\n", st.Window, st.Requests, st.Errors,
			ms(int64(st.P95Micros)), ms(int64(st.P99Micros)), st.Probes, st.AvailabilityBps)
	}
}
