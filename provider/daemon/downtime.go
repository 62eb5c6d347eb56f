package daemon

import (
	"context"
	"time"

	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// chargeDowntime counts the probes the sidecar could not run while it was down (from the last
// one it kept to now) as failed, each in the SLA window it was due in: a buyer could not reach
// the lease through the ingress then. A window that ended while the sidecar was down is
// reported after the restart, and without this would read as fully available. Windows already
// reported, or whose report deadline has passed, get nothing.
func (d *Daemon) chargeDowntime(ctx context.Context, run *leaseRun, last, now time.Time) {
	d.chargeGaps(ctx, run, []state.Gap{{FromUnixMs: last.UnixMilli(), ToUnixMs: now.UnixMilli()}}, false)
}

// chargeGaps charges each gap as chargeDowntime does, in one write to the store; with pending,
// the gaps are those the store kept for a restart that could not charge them
// (PutPendingDowntime), and that write drops them.
func (d *Daemon) chargeGaps(ctx context.Context, run *leaseRun, gaps []state.Gap, pending bool) {
	if len(gaps) == 0 {
		return
	}
	lease, interval := run.rec.LeaseID, run.proxy.ProbeInterval()
	var charged []state.WindowData
	for _, g := range gaps {
		last, now := time.UnixMilli(g.FromUnixMs), time.UnixMilli(g.ToUnixMs)
		cur := d.windowOf(run)(now)
		c, err := d.downtimeByWindow(ctx, run, last, now, interval, cur)
		if err != nil {
			// Without the chain's block times the windows cannot be told apart: the restart
			// window takes it all, at most a window's worth.
			d.log.Warn("block times unavailable: downtime charged to the current window", "lease", lease, "err", err)
			c = nil
			if n := missedProbes(now.Sub(last), interval, run.rec.WindowBlocks, d.cfg.Pricing.BlockSeconds); n > 0 {
				c = []state.WindowData{{Window: cur, Probes: n}}
			}
		}
		for _, w := range c {
			charged = addProbes(charged, w)
			d.log.Warn("sidecar was down: its missed probes count as failed", "lease", lease, "window", w.Window,
				"down", now.Sub(last).Round(time.Millisecond), "probes", w.Probes)
		}
	}
	end := time.UnixMilli(gaps[len(gaps)-1].ToUnixMs)
	// Kept before the ingress counts them, and with the end as the last probe time: a crash
	// soon after the restart neither loses this downtime nor charges it twice.
	if err := d.store.KeepWindows(lease, state.Measured{Windows: charged, LastProbeUnixMs: end.UnixMilli(), DowntimeCharged: pending}); err != nil {
		d.log.Warn("window data", "lease", lease, "err", err)
	}
	run.mu.Lock()
	if end.After(run.probeClock) { // a charge made late (chargeResumed) comes after probes ran
		run.probeClock = end
	}
	run.mu.Unlock()
	for _, c := range charged {
		if err := run.proxy.RestoreProbes(c.Window, c.Probes, 0); err != nil {
			d.log.Warn("window data", "lease", lease, "window", c.Window, "err", err)
			continue
		}
		d.metrics.DowntimeProbes.Add(float64(c.Probes))
	}
}

// downtimeByWindow finds when each window that can still be reported began, from the header
// time of the block that opened it, and spreads the missed probes over them.
func (d *Daemon) downtimeByWindow(ctx context.Context, run *leaseRun, last, now time.Time, interval time.Duration, cur uint64) ([]state.WindowData, error) {
	start, w := run.rec.StartHeight, run.rec.WindowBlocks
	if w == 0 {
		return nil, nil // no SLA windows: nothing is reported
	}
	first := min(max(run.lastReported()+1, firstReportable(start, w, d.head.Load(), d.grace(ctx))), cur)
	bounds := make([]time.Time, 0, cur-first+1)
	for win := first; win <= cur; win++ {
		// Requests served while block h is the latest belong to the window holding h+1
		// (windowOf), so window win opens when block WindowEnd(win-1) is made.
		h := slatypes.WindowEnd(start, w, win-1)
		t, err := ask(ctx, d, "block_time", func() (time.Time, error) { return d.watcher.BlockTime(ctx, h) })
		if err != nil {
			return nil, err
		}
		bounds = append(bounds, t)
	}
	return missedByWindow(last, now, interval, first, bounds), nil
}

// firstReportable is the first window whose report deadline has not passed at head: the
// chain takes a window's report until grace blocks after its end.
func firstReportable(start int64, w uint64, head, grace int64) uint64 {
	past := head - grace - start // windows ending before start+past are closed to reports
	if past <= 0 {
		return 1
	}
	return uint64(past+int64(w)-1) / w
}

// missedByWindow spreads the probes due every interval after last and before now (the one due
// at now runs now) over the windows first, first+1, …: bounds[i] is when window first+i began,
// and the last of them runs on past now. Probes due before bounds[0] fell in windows that can
// no longer be reported and are not counted.
func missedByWindow(last, now time.Time, interval time.Duration, first uint64, bounds []time.Time) []state.WindowData {
	if interval <= 0 || len(bounds) == 0 {
		return nil
	}
	n := int64(now.Sub(last) / interval) // probes due in (last, now]; the n-th runs now
	if n < 2 {
		return nil
	}
	// from(t) is the first probe, counted from 1, due at or after t.
	from := func(t time.Time) int64 {
		if !t.After(last) {
			return 1
		}
		d := t.Sub(last)
		return int64((d + interval - 1) / interval)
	}
	var out []state.WindowData
	for i, b := range bounds {
		lo, hi := from(b), n // probes lo … hi-1 fall in this window
		if i+1 < len(bounds) {
			hi = min(hi, from(bounds[i+1]))
		}
		if hi > lo {
			out = append(out, state.WindowData{Window: first + uint64(i), Probes: uint64(hi - lo)})
		}
	}
	return out
}

// missedProbes is how many probes, one every interval, did not run in down (the one due at
// the end of it runs now), at most one window's worth: a window of windowBlocks blocks of
// blockSeconds each.
func missedProbes(down, interval time.Duration, windowBlocks uint64, blockSeconds int64) uint64 {
	if interval <= 0 || down < 2*interval {
		return 0
	}
	missed := uint64(down/interval) - 1
	if blockSeconds > 0 && windowBlocks > 0 {
		window := time.Duration(windowBlocks) * time.Duration(blockSeconds) * time.Second
		missed = min(missed, uint64(window/interval))
	}
	return missed
}

// stallAfter is the gap between probes that only a stalled sidecar leaves: a probe may take up
// to its timeout (the interval, by default) and the next is then due at once, so gaps up to
// about two intervals are normal.
func stallAfter(interval time.Duration) time.Duration { return 3 * interval }

// stalledAt says whether run's prober has been silent for longer than it can be while the
// sidecar runs (call with run.mu held).
func stalledAt(run *leaseRun, now time.Time) bool {
	return run.proxy != nil && !run.probeClock.IsZero() && now.Sub(run.probeClock) > stallAfter(run.proxy.ProbeInterval())
}

// chargeStall charges the probes missed while the whole sidecar stood still (a paused VM or
// container, SIGSTOP, a swap storm) as failed, as a restart does for the time it was down:
// without it the windows that ended meanwhile had no probes and read as fully available. The
// prober or the watcher, whichever runs first after the stall, charges it; the other waits
// (chargeMu) and finds nothing left to charge.
func (d *Daemon) chargeStall(ctx context.Context, run *leaseRun, now time.Time) {
	run.chargeMu.Lock()
	defer run.chargeMu.Unlock()
	run.mu.Lock()
	stalled, last := stalledAt(run, now), run.probeClock
	run.mu.Unlock()
	if !stalled {
		return
	}
	// Bounded: the prober waits on this, and a node that does not answer must not hold it
	// (without block times the charge falls back to the current window).
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The watcher stood still too: the head it last saw is behind, and with it the windows
	// that ended meanwhile.
	// Asked again on failure: the first request after a stall often meets a connection the
	// node closed meanwhile.
	h, err := ask(ctx, d, "node_status", func() (int64, error) { return d.watcher.Latest(ctx) })
	if err != nil {
		d.log.Warn("chain head unknown after a stall: windows that ended meanwhile may go uncharged", "lease", run.rec.LeaseID, "err", err)
	} else {
		d.raiseHead(h)
	}
	d.metrics.Stalls.Inc()
	d.log.Warn("sidecar stalled: no probe ran", "lease", run.rec.LeaseID, "for", now.Sub(last).Round(time.Millisecond))
	d.chargeDowntime(ctx, run, last, now)
}
