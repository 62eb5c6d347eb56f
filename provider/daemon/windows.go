package daemon

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/journal"
	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// windowSample is a request and the SLA window the ingress recorded it in.
type windowSample struct {
	window uint64
	s      ingress.Sample
}

// windowOf maps now to the lease's SLA window from the chain height: requests served while
// block h is the latest belong to the window holding block h+1. The latest is the chain's head,
// not the block the watcher handles: after a restart it replays older blocks, and reports the
// windows they end, while requests are served now.
func (d *Daemon) windowOf(l *leaseRun) func(time.Time) uint64 {
	return func(time.Time) uint64 {
		w := l.rec.WindowBlocks
		if w == 0 {
			return 1
		}
		next := d.head.Load() + 1 - l.rec.StartHeight
		if next <= 0 {
			return 1
		}
		return uint64(next+int64(w)-1) / w
	}
}

// windowsToKeep is what a block added to the windows after reported: the receipted requests
// (in holds their encodings, in order), in runs of one window, and the probe counts. The store
// keeps it with the receipt, so a restart reports those windows with it (restoreWindows)
// instead of with only what comes after the restart.
func windowsToKeep(samples []windowSample, in []byte, probes []state.WindowData, reported uint64) []state.WindowData {
	var out []state.WindowData
	for i := 0; i < len(samples); {
		j := i + 1
		for j < len(samples) && samples[j].window == samples[i].window {
			j++
		}
		if w := samples[i].window; w > reported {
			out = append(out, state.WindowData{Window: w, Encoded: in[i*ingress.SampleSize : j*ingress.SampleSize]})
		}
		i = j
	}
	for _, p := range probes {
		if p.Window <= reported {
			continue
		}
		if k := slices.IndexFunc(out, func(w state.WindowData) bool { return w.Window == p.Window }); k >= 0 {
			out[k].Probes, out[k].ProbesOK = out[k].Probes+p.Probes, out[k].ProbesOK+p.ProbesOK
		} else {
			out = append(out, p)
		}
	}
	return out
}

// addProbe counts one probe of window in counts.
func addProbe(counts []state.WindowData, window uint64, ok bool) []state.WindowData {
	p := state.WindowData{Window: window, Probes: 1}
	if ok {
		p.ProbesOK = 1
	}
	return addProbes(counts, p)
}

// addProbes adds p's probe counts to its window's in counts.
func addProbes(counts []state.WindowData, p state.WindowData) []state.WindowData {
	k := slices.IndexFunc(counts, func(w state.WindowData) bool { return w.Window == p.Window })
	if k < 0 {
		counts, k = append(counts, state.WindowData{Window: p.Window}), len(counts)
	}
	counts[k].Probes += p.Probes
	counts[k].ProbesOK += p.ProbesOK
	return counts
}

// restoreWindows gives a resumed lease's ingress what its windows had measured before the
// restart (kept in the store, then what the journal holds beyond it), and counts the probes the
// sidecar missed while it was down as failed: a buyer could not reach the lease through it then.
func (d *Daemon) restoreWindows(ctx context.Context, run *leaseRun, replay journal.Replay, offline bool) {
	lease := run.rec.LeaseID
	kept, lastProbe, err := d.store.PendingWindows(lease)
	if err != nil {
		d.log.Warn("window data", "lease", lease, "err", err)
		kept, lastProbe = nil, 0
	}
	for _, k := range kept {
		if done, _ := d.store.WindowReported(lease, k.Window); done {
			continue
		}
		samples, err := ingress.DecodeSamples(k.Encoded)
		if err == nil {
			err = run.proxy.Restore(k.Window, samples)
		}
		if err == nil {
			err = run.proxy.RestoreProbes(k.Window, k.Probes, k.ProbesOK)
		}
		if err != nil {
			d.log.Warn("window data", "lease", lease, "window", k.Window, "err", err)
			continue
		}
		d.log.Info("window data restored", "lease", lease, "window", k.Window, "requests", len(samples), "probes", k.Probes, "probes_ok", k.ProbesOK)
	}
	// The journal's records came after what the store kept.
	lastProbe = max(lastProbe, d.replayJournal(run, replay))
	// Gaps an earlier restart kept because the node did not answer it: that restart may have
	// been killed before it could charge them.
	gaps, err := d.store.PendingDowntime(lease)
	if err != nil {
		d.log.Warn("pending downtime", "lease", lease, "err", err)
	}
	if lastProbe != 0 {
		from, now := lastProbe, time.Now().UnixMilli()
		if n := len(gaps); n > 0 {
			from = max(from, gaps[n-1].ToUnixMs) // that restart was up from then
		}
		if now > from {
			gaps = append(gaps, state.Gap{FromUnixMs: from, ToUnixMs: now})
		}
	}
	switch {
	case len(gaps) == 0:
	case offline:
		// Which windows the downtime fell in takes the node's block times (chargeResumed).
		if err := d.store.PutPendingDowntime(lease, gaps); err != nil {
			d.log.Warn("pending downtime", "lease", lease, "err", err)
		}
		run.mu.Lock()
		run.downGaps = gaps
		run.mu.Unlock()
	default:
		d.chargeGaps(ctx, run, gaps, true)
	}
}

// chargeResumed charges a lease resumed before the node answered (resumeStored) the time the
// sidecar was down before that, now that block times can be read.
func (d *Daemon) chargeResumed(ctx context.Context, run *leaseRun) {
	run.chargeMu.Lock()
	defer run.chargeMu.Unlock()
	run.mu.Lock()
	gaps := run.downGaps
	run.downGaps = nil
	run.mu.Unlock()
	d.chargeGaps(ctx, run, gaps, true)
}

// graceRefreshBlocks is how often grace reads report_grace_blocks again, so that a governance
// change reaches a long-running sidecar.
const graceRefreshBlocks = 600

// graceUnknown stands for report_grace_blocks while the chain has not answered: every deadline
// counts as not passed. A report sent too late costs one refused transaction; one skipped as
// late is judged MISSING and taken from the bond, and a lease record closed early loses its
// last reports.
const graceUnknown = int64(1) << 40

// grace is the chain's report_grace_blocks: read once, then again every graceRefreshBlocks. A
// failed read keeps the last value, or graceUnknown before the first, and is tried again at the
// next head, not at once: callers run in the block loop, several a block, and while the node is
// down.
func (d *Daemon) grace(ctx context.Context) int64 {
	g, head := d.reportGrace.Load(), d.head.Load()
	if g > 0 && head-d.graceReadAt.Load() < graceRefreshBlocks {
		return g
	}
	if d.graceTried.Swap(head+1) == head+1 { // tried at this head already
		if g > 0 {
			return g
		}
		return graceUnknown
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := slatypes.NewQueryClient(d.chain.Context()).Params(qctx, &slatypes.QueryParamsRequest{})
	if err != nil || res.Params.ReportGraceBlocks == 0 {
		if g > 0 {
			return g
		}
		return graceUnknown
	}
	g = int64(res.Params.ReportGraceBlocks)
	d.reportGrace.Store(g)
	d.graceReadAt.Store(d.head.Load())
	return g
}

// reportWindow closes the window's stats in the ingress and reports them. The store marks it
// reported only after the chain took it, so a crash in between reports it again (the chain
// refuses the duplicate, which counts as done).
func (d *Daemon) reportWindow(ctx context.Context, run *leaseRun, win uint64) {
	if done, _ := d.store.WindowReported(run.rec.LeaseID, win); done {
		run.setReported(win)
		return
	}
	st, ok := run.proxy.Snapshot(win)
	if ok {
		if closed, err := run.proxy.Close(win); err == nil {
			st = closed
		}
	}
	avail := st.AvailabilityBps
	if st.Probes == 0 {
		avail = 10_000 // no probe ran in the window (too short); traffic errors still count
		if st.Requests > 0 {
			avail = uint32((st.Requests - st.Errors) * 10_000 / st.Requests)
		}
	}
	root := st.SamplesRoot
	if len(root) != 32 {
		root = ingress.SamplesRoot(nil)
	}
	msg := &slatypes.MsgSubmitSLAReport{
		Provider: d.provider, LeaseId: run.rec.LeaseID, Window: win, Requests: st.Requests,
		P95LatencyUs: st.P95Micros, P99LatencyUs: max(st.P99Micros, st.P95Micros), AvailabilityBps: avail, SamplesRoot: root,
	}
	// In memory only: the store learns of the report once the chain has taken it, so a crash
	// before that reports the window again after the restart.
	run.setReported(win)
	leaseID := run.rec.LeaseID
	// A report lost to a node restart is sent again until the chain takes or refuses it, or its
	// deadline has passed (the lease's close does not end it: the chain judges the windows that
	// ended by the close): a window never reported is judged MISSING.
	due := slatypes.WindowEnd(run.rec.StartHeight, run.rec.WindowBlocks, win) + d.grace(ctx)
	d.queueRetrying("sla_report", func() bool { return d.head.Load() < due }, func(_ *chain.Result, err error) {
		switch {
		case err == nil || strings.Contains(err.Error(), slatypes.ErrDuplicateReport.Error()):
			_ = d.store.MarkWindowReported(leaseID, win)
			d.metrics.Reports.Inc()
		case strings.Contains(err.Error(), slatypes.ErrReportTooLate.Error()):
			// Judged without it: keeping its samples would only carry them to the lease's end.
			_ = d.store.MarkWindowReported(leaseID, win)
		}
	}, msg)
	d.log.Info("sla report", "lease", run.rec.LeaseID, "window", win, "requests", st.Requests, "p95_us", st.P95Micros, "availability_bps", avail)
}
