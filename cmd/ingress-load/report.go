package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// overheadTargetMs is the budget the proxy must stay within at P95.
const overheadTargetMs = 0.5

// lateSendMs is the send lag (P99) in the direct slices above which the run is flagged: at
// quiet times it is 0.04–0.2 ms.
const lateSendMs = 0.5

func printSliceHeader() {
	fmt.Printf("%-5s %-8s %9s %7s %7s %7s %11s %12s   %s\n",
		"slice", "target", "achieved", "p50_ms", "p95_ms", "p99_ms", "backend_p95", "in_proxy_p95", "cpu_us/req client/backend/proxy")
}

func printSliceRow(r sliceResult) {
	inProxy := "-"
	if r.inProxyP95 > 0 {
		inProxy = fmt.Sprintf("%.3f", ms(int64(r.inProxyP95)))
	}
	fmt.Printf("%-5d %-8s %9.1f %7.3f %7.3f %7.3f %11.3f %12s   %.0f/%.0f/%.0f\n",
		r.n, r.target, r.rec.achieved(), r.rec.p(50), r.rec.p(95), r.rec.p(99), ms(r.backendP95), inProxy,
		r.rec.cpuPerRequest(procClient), r.rec.cpuPerRequest(procBackend), r.rec.cpuPerRequest(procProxy))
}

func printSummary(o options, targets []*target, results []sliceResult) {
	fmt.Printf("\n%-8s %10s %12s %7s %6s %7s %7s %7s %7s %12s %11s\n",
		"target", "target_rps", "achieved_rps", "ok", "errors", "p50_ms", "p95_ms", "p99_ms", "max_ms", "send_lag_p99", "cpu_us/req")
	for _, t := range targets {
		r := t.total
		total := r.cpuPerRequest(procClient) + r.cpuPerRequest(procBackend) + r.cpuPerRequest(procProxy)
		fmt.Printf("%-8s %10.0f %12.1f %7d %6d %7.3f %7.3f %7.3f %7.3f %12.3f %11.0f\n",
			t.name, o.rate, r.achieved(), r.oks, r.failures, r.p(50), r.p(95), r.p(99),
			ms(r.latency.Max()), ms(r.lag.ValueAtQuantile(99)), total)
	}

	direct, proxied := targets[0].total, targets[1].total
	fmt.Printf("\nproxy overhead over all slices: P50 %+.3f ms, P95 %+.3f ms, P99 %+.3f ms\n",
		proxied.p(50)-direct.p(50), proxied.p(95)-direct.p(95), proxied.p(99)-direct.p(99))

	// Each adjacent direct/proxied pair ran within a few seconds of each other, so the median
	// of the pairs' differences is less exposed to bursts of other load on the machine than
	// the totals are; the verdict uses it.
	var pairs []float64
	for i := 1; i < len(results); i += 2 {
		a, b := results[i-1], results[i]
		if a.target != "proxied" {
			a, b = b, a
		}
		pairs = append(pairs, a.rec.p(95)-b.rec.p(95))
	}
	verdict := "met"
	if median(pairs) > overheadTargetMs {
		verdict = "MISSED"
	}
	within := 0
	for _, d := range pairs {
		if d <= overheadTargetMs {
			within++
		}
	}
	var spread string
	if len(pairs) <= 10 {
		parts := make([]string, len(pairs))
		for i, d := range pairs {
			parts[i] = fmt.Sprintf("%+.3f", d)
		}
		spread = "[" + strings.Join(parts, " ") + "]"
	} else {
		spread = fmt.Sprintf("(quartiles %+.3f / %+.3f, range %+.3f to %+.3f)",
			quantile(pairs, 0.25), quantile(pairs, 0.75), quantile(pairs, 0), quantile(pairs, 1))
	}
	fmt.Printf("P95 overhead per slice pair: median %+.3f ms %s, %d of %d pairs within %.1f ms (target <= %.1f ms: %s)\n",
		median(pairs), spread, within, len(pairs), overheadTargetMs, overheadTargetMs, verdict)
	fmt.Printf("proxy process CPU: %.0f µs per proxied request\n", proxied.cpuPerRequest(procProxy))
	if lag := ms(direct.lag.ValueAtQuantile(99)); lag > lateSendMs {
		// The generator could not keep its own schedule while nothing but the backend ran
		// beside it: the machine was short of CPU, and the figures describe it more than
		// the proxy.
		fmt.Printf("WARNING: in the direct slices 1%% of sends left more than %.2f ms late (limit %.1f ms): the machine was busy; rerun when it is idle\n", lag, lateSendMs)
	}
}

// printProxyWindows prints what the proxy itself recorded in the proxied slices' windows.
func printProxyWindows(proxy *child, n int) error {
	var reqs, errs, probes, ok uint64
	for w := 1; w <= n; w++ {
		var st proxyStats
		if err := proxy.control(fmt.Sprintf("stats?window=%d", w), &st); err != nil {
			return err
		}
		reqs += st.Requests
		errs += st.Errors
		probes += st.Probes
		ok += st.Probes * uint64(st.AvailabilityBps) / 10000
	}
	fmt.Printf("proxy's own windows over the slices: %d requests, %d errors, %d/%d health probes ok\n", reqs, errs, ok, probes)
	return nil
}

// quantile is the nearest-rank q-quantile of xs (0: the minimum, 1: the maximum).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	default:
		return (s[n/2-1] + s[n/2]) / 2
	}
}
