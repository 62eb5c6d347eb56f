package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/journal"
	"github.com/computed-network/computed/provider/state"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// journalDir is where lease's ingress journals what it measures between two blocks.
func (d *Daemon) journalDir(lease uint64) string {
	return filepath.Join(d.cfg.DataDir, "journal", fmt.Sprintf("lease-%d", lease))
}

// openJournal opens a lease's journal and returns what it holds beyond what the store took: the
// requests and probes of the block the sidecar was killed in. Without a journal (the disk
// refused it) the lease runs, as before journals, with that block at risk.
func (d *Daemon) openJournal(lease uint64) (*journal.Journal, journal.Replay) {
	sealed, err := d.store.Journaled(lease)
	if err != nil {
		d.log.Warn("journal: the store's mark is unreadable; running without a journal", "lease", lease, "err", err)
		return nil, journal.Replay{}
	}
	j, rep, err := journal.Open(d.journalDir(lease), sealed)
	if err != nil {
		d.log.Warn("running without a journal", "lease", lease, "err", err)
		return nil, journal.Replay{}
	}
	if rep.Dropped > 0 {
		d.log.Warn("journal: damaged records skipped", "lease", lease, "records", rep.Dropped)
	}
	return j, rep
}

// replayJournal gives a resumed lease back what it measured after the store last took its
// measurements: the requests go to the next receipt and, like the probes, to their SLA windows
// (unless reported already). Both are kept in the store, with the journal's seal, at the next
// block. It returns when the last replayed probe ran (0 if none), for chargeDowntime, which then
// keeps the restart as the last probe time.
func (d *Daemon) replayJournal(run *leaseRun, rep journal.Replay) (lastProbe int64) {
	if len(rep.Entries) == 0 {
		return 0
	}
	lease := run.rec.LeaseID
	reported := map[uint64]bool{}
	isReported := func(w uint64) bool {
		if r, ok := reported[w]; ok {
			return r
		}
		r, _ := d.store.WindowReported(lease, w)
		reported[w] = r || w <= run.rec.LastReportedWindow
		return reported[w]
	}
	var requests, probes int
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, e := range rep.Entries {
		var err error
		if e.Probe {
			probes++
			lastProbe = max(lastProbe, e.AtUnixMs)
			run.probes = addProbe(run.probes, e.Window, e.OK)
			if !isReported(e.Window) {
				ok := uint64(0)
				if e.OK {
					ok = 1
				}
				err = run.proxy.RestoreProbes(e.Window, 1, ok)
			}
		} else {
			requests++
			run.pending = append(run.pending, windowSample{e.Window, e.Sample})
			if !isReported(e.Window) {
				err = run.proxy.Restore(e.Window, []ingress.Sample{e.Sample})
			}
		}
		if err != nil {
			d.log.Warn("journal replay", "lease", lease, "window", e.Window, "err", err)
		}
	}
	d.metrics.JournalReplayed.Add(float64(requests + probes))
	d.log.Info("journal replayed: measured after the last block before the restart", "lease", lease, "requests", requests, "probes", probes)
	return lastProbe
}

// journalRequest and journalProbe keep a measurement in the lease's journal; they run under
// run.mu, so a seal falls between two of them, never inside one.
func (d *Daemon) journalRequest(run *leaseRun, window uint64, s ingress.Sample) {
	if run.journal != nil {
		d.journalFailed(run, run.journal.Request(window, s))
	}
}

func (d *Daemon) journalProbe(run *leaseRun, window uint64, ok bool, at int64) {
	if run.journal != nil {
		d.journalFailed(run, run.journal.Probe(window, ok, at))
	}
}

// journalFailed logs the first failure of a run of them (a full disk fails every request).
func (d *Daemon) journalFailed(run *leaseRun, err error) {
	if err == nil {
		run.journalBroken = false
		return
	}
	d.metrics.JournalErrors.Inc()
	if !run.journalBroken {
		run.journalBroken = true
		d.log.Error("journal write failed: a crash before the next block loses what it measured", "lease", run.rec.LeaseID, "err", err)
	}
}

// syncJournals syncs the running leases' journals to disk every interval (Journal.Sync), off
// the request path, so a power cut loses at most that much of what was served since the last
// block.
func (d *Daemon) syncJournals(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, r := range d.runningLeases() {
			if r.journal == nil {
				continue
			}
			if err := r.journal.Sync(); err != nil {
				r.mu.Lock()
				d.journalFailed(r, err)
				r.mu.Unlock()
			}
		}
	}
}

// sealJournal ends the journal's current segment as the caller takes its records (under
// run.mu); 0 when there is no journal.
func sealJournal(run *leaseRun) uint64 {
	if run.journal == nil {
		return 0
	}
	return run.journal.Seal()
}

// dropJournal deletes the segments the store now holds.
func (d *Daemon) dropJournal(run *leaseRun, sealed uint64) {
	if run.journal == nil || sealed == 0 {
		return
	}
	if err := run.journal.Drop(sealed); err != nil {
		d.log.Warn("journal", "lease", run.rec.LeaseID, "err", err)
	}
}

// closedRun is what finishLease needs of a lease that closed while the sidecar was down and
// that resumeStored did not serve again: an ingress that serves nothing holds its windows,
// rebuilt from the store and journal and charged the downtime, so that those that ended by the
// close are reported (a window never reported is judged MISSING); the journal's requests are
// pending for a last receipt while a batch sent now can still be anchored (the chain takes a
// closed lease's batches for report_grace_blocks after its close). It is nil for a replicated
// lease (no ingress) or when the order is unreadable; removeJournal then counts the requests in
// the log.
func (d *Daemon) closedRun(ctx context.Context, rec state.LeaseRecord, l markettypes.Lease) *leaseRun {
	if rec.Replicated {
		return nil
	}
	o, err := d.orderOf(ctx, rec, l)
	if err != nil {
		d.log.Warn("closed lease's order unreadable", "lease", rec.LeaseID, "order", l.OrderId, "err", err)
		return nil
	}
	run, err := d.offlineRun(rec, o, l)
	if err != nil {
		d.log.Warn("closed lease's windows cannot be rebuilt", "lease", rec.LeaseID, "err", err)
		return nil
	}
	var rep journal.Replay
	if _, err := os.Stat(d.journalDir(rec.LeaseID)); err == nil {
		run.journal, rep = d.openJournal(rec.LeaseID)
	}
	d.restoreWindows(ctx, run, rep, false)
	d.closedWhileDown(ctx, run, l)
	return run
}

// orderOf is the order of rec's lease l: the one the record kept, else the chain's.
func (d *Daemon) orderOf(ctx context.Context, rec state.LeaseRecord, l markettypes.Lease) (markettypes.Order, error) {
	if o, _, err := unsnapshot(rec); err == nil {
		return o, nil
	}
	mq := markettypes.NewQueryClient(d.chain.Context())
	res, err := ask(ctx, d, "query_order", func() (*markettypes.QueryOrderResponse, error) {
		return mq.Order(ctx, &markettypes.QueryOrderRequest{Id: l.OrderId})
	})
	if err != nil {
		return markettypes.Order{}, err
	}
	return res.Order, nil
}

// offlineRun is lease l, not served: its ingress never starts and its backend is never asked,
// but it holds the lease's windows so that they can be rebuilt and reported.
func (d *Daemon) offlineRun(rec state.LeaseRecord, o markettypes.Order, l markettypes.Lease) (*leaseRun, error) {
	run := &leaseRun{rec: rec, order: o, lease: l}
	_, _, digest := d.workloadOf(o.Workload)
	run.info = d.leaseInfo(o, l, digest)
	var err error
	if run.proxy, err = ingress.New(d.ingressConfig(run, "http://127.0.0.1:9/")); err != nil {
		return nil, err
	}
	return run, nil
}

// removeJournal deletes an ended lease's journal. One of a lease that closed while the sidecar
// was down, which closedRun did not take, may hold requests that no receipt will: they are
// counted in the log.
func (d *Daemon) removeJournal(lease uint64, run *leaseRun) {
	if run != nil && run.journal != nil {
		if err := run.journal.Remove(); err != nil {
			d.log.Warn("journal", "lease", lease, "err", err)
		}
		return
	}
	dir := d.journalDir(lease)
	if _, err := os.Stat(dir); err != nil {
		return
	}
	if j, rep := d.openJournal(lease); j != nil {
		if n := countRequests(rep); n > 0 {
			d.log.Warn("lease closed while the sidecar was down: requests of its last block stay without a receipt", "lease", lease, "requests", n)
		}
		_ = j.Close()
	}
	if err := journal.RemoveDir(dir); err != nil {
		d.log.Warn("journal", "lease", lease, "err", err)
	}
}

func countRequests(rep journal.Replay) int {
	n := 0
	for _, e := range rep.Entries {
		if !e.Probe {
			n++
		}
	}
	return n
}

// removeStaleJournals deletes the journals of leases the store does not run (a crash between
// a lease's end and its journal's removal).
func (d *Daemon) removeStaleJournals(recs []state.LeaseRecord) {
	root := filepath.Join(d.cfg.DataDir, "journal")
	des, err := os.ReadDir(root)
	if err != nil {
		return
	}
	running := map[uint64]bool{}
	for _, r := range recs {
		running[r.LeaseID] = r.State == state.LeaseRunning || r.State == state.LeaseClosing
	}
	for _, de := range des {
		id, err := strconv.ParseUint(strings.TrimPrefix(de.Name(), "lease-"), 10, 64)
		if err != nil || !de.IsDir() || running[id] {
			continue
		}
		if err := journal.RemoveDir(filepath.Join(root, de.Name())); err != nil {
			d.log.Warn("journal", "lease", id, "err", err)
		}
	}
}
