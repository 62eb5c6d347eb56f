package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/computed-network/computed/provider/exec"
	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/journal"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// leaseRun is a lease the sidecar is running.
type leaseRun struct {
	rec    state.LeaseRecord
	order  markettypes.Order
	lease  markettypes.Lease
	driver exec.Driver
	proxy  *ingress.Proxy
	info   receipts.LeaseInfo
	// stop ends the lease's background work (a replicated job's commit and reveal).
	stop context.CancelFunc

	// receiptMu makes one receipt at a time: a block's (receiptPending) or a full one's.
	receiptMu sync.Mutex
	// pricedThrough is the last block a receipt charged the lease's price for (under receiptMu;
	// read from the store at the first receipt, pricedKnown then set): a block handled again
	// after a crash gets a receipt priced zero, not a second charge.
	pricedThrough int64
	pricedKnown   bool
	// mu guards pending, probes, lastProbe, probeClock, the downtime marks and
	// rec.LastReportedWindow.
	mu        sync.Mutex
	pending   []windowSample     // requests not yet in a receipt
	probes    []state.WindowData // probe counts not yet kept in the store
	lastProbe int64              // unix ms of the latest probe not yet kept; 0 if none
	// journal holds pending and probes on disk until the store takes them; nil without one.
	journal       *journal.Journal
	journalBroken bool // its last write failed (logged once)
	// probeClock is when the last probe ran, or downtime was last charged up to; zero before
	// the first probe. A gap in it is a stall (chargeStall).
	probeClock time.Time
	// chargeMu orders a stall's charge before the reports of the windows it charges.
	chargeMu sync.Mutex
	// downGaps: the sidecar was down in them, not yet charged because the node had not
	// answered when the lease resumed (resumeStored); kept in the store too
	// (PutPendingDowntime), and nil once charged.
	downGaps []state.Gap
	// unanchorable: the lease closed while the sidecar was down, longer ago than receipts
	// are taken; finishLease receipts nothing more.
	unanchorable atomic.Bool
}

// setReported records that window win was reported (or can no longer be). Under mu: the watcher
// writes it while receipts and the prober's stall charge read it.
func (r *leaseRun) setReported(win uint64) {
	r.mu.Lock()
	r.rec.LastReportedWindow = win
	r.mu.Unlock()
}

// lastReported is the last window reported (or given up).
func (r *leaseRun) lastReported() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec.LastReportedWindow
}

// startLease runs a lease the provider won: it starts the workload, the ingress in front of it
// and, for a replicated job, the commit-reveal.
func (d *Daemon) startLease(ctx context.Context, leaseID uint64) error {
	if d.running(leaseID) {
		return nil // a block handled again after a reaction was cut short
	}
	mq := markettypes.NewQueryClient(d.chain.Context())
	lres, err := ask(ctx, d, "query_lease", func() (*markettypes.QueryLeaseResponse, error) {
		return mq.Lease(ctx, &markettypes.QueryLeaseRequest{Id: leaseID})
	})
	if err != nil {
		return err
	}
	l := lres.Lease
	if l.Provider != d.provider {
		return nil
	}
	if l.State != markettypes.LEASE_STATE_ACTIVE {
		// A replayed creation of a lease that closed while the sidecar was down (its close is
		// further on, and finds no run): nothing to run, its GPUs to free (its bid's win kept
		// them), its earnings to take.
		if !d.orderRunning(l.OrderId) {
			d.engine.Release(l.OrderId)
		}
		d.withdraw(ctx, leaseID)
		return nil
	}
	ores, err := ask(ctx, d, "query_order", func() (*markettypes.QueryOrderResponse, error) {
		return mq.Order(ctx, &markettypes.QueryOrderRequest{Id: l.OrderId})
	})
	if err != nil {
		return err
	}
	return d.launch(ctx, ores.Order, l, false)
}

// launch runs lease l of order o. offline: the node has not answered since the restart
// (resumeStored), so downtime is charged later (chargeResumed), when block times can be read.
func (d *Daemon) launch(ctx context.Context, o markettypes.Order, l markettypes.Lease, offline bool) error {
	leaseID := l.Id
	// From here the order's GPUs are the lease's, though the run is shared only at the end (a
	// docker start takes seconds): a resend of its bid refused meanwhile must not free them.
	d.mu.Lock()
	if d.launching == nil {
		d.launching = map[uint64]int{}
	}
	d.launching[o.Id]++
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		if d.launching[o.Id]--; d.launching[o.Id] <= 0 {
			delete(d.launching, o.Id)
		}
		d.mu.Unlock()
	}()
	// The workload outlives this call's context, which ends when the sidecar stops.
	runCtx, ctx := ctx, context.WithoutCancel(ctx)
	rec, err := d.store.GetLease(leaseID)
	if errors.Is(err, state.ErrNotFound) {
		rec = state.LeaseRecord{
			LeaseID: leaseID, OrderID: o.Id, TaskID: fmt.Sprintf("lease-%d", leaseID), StartHeight: l.StartHeight,
			State: state.LeaseRunning, WindowBlocks: o.Sla.WindowBlocks, Replicated: slatypes.Replicated(o),
		}
		// The GPUs its bid reserved; a lease won while the sidecar was down had no bid of
		// this run, and takes free ones as the bid would have.
		var ok bool
		if rec.GPUs, ok = d.engine.Adopt(o); !ok {
			d.log.Warn("lease runs with fewer GPUs than ordered: too few free", "lease", leaseID, "order", o.Id, "needs", o.Requirements.GpuCount, "has", len(rec.GPUs))
		}
		if rec.Replicated {
			rec.WindowBlocks = 0
		}
	} else if err != nil {
		return err
	}
	if rec.Order, rec.Lease, err = snapshot(o, l); err != nil {
		return fmt.Errorf("lease %d: %w", leaseID, err)
	}
	d.holdGPUs(o, &rec)
	run := &leaseRun{rec: rec, order: o, lease: l}
	cfg := exec.TaskConfig{ID: rec.TaskID, LeaseID: leaseID, GPUs: rec.GPUs, MemoryMiB: d.cfg.Executors.DefaultMemMiB}
	run.driver, cfg.Workload, cfg.Digest = d.workloadOf(o.Workload)
	run.info = d.leaseInfo(o, l, cfg.Digest)
	if rec.Replicated {
		cfg.Input = []byte(o.Workload.InputCommitment)
	}
	if o.Workload.OciDigest != "" && d.cfg.GPU.Backend == "mock" {
		cfg.GPUs = nil // mock GPUs are no devices: the container runs without
	}
	if run.driver == nil {
		d.engine.Release(o.Id)
		return fmt.Errorf("lease %d: %w for workload %+v", leaseID, errNoExecutor, o.Workload)
	}
	rec.Executor, rec.Workload = run.driver.Name(), cfg.Workload
	st, err := run.driver.Start(ctx, cfg)
	if err != nil {
		d.engine.Release(o.Id)
		return fmt.Errorf("lease %d: start: %w", leaseID, err)
	}
	if err := d.serve(runCtx, run, &rec, offline); err != nil {
		d.abandon(ctx, run, rec)
		return fmt.Errorf("lease %d: %w", leaseID, err)
	}
	var rctx context.Context
	if rec.Replicated {
		// Set before the run is shared: finishLease and stopAll call it.
		rctx, run.stop = context.WithCancel(ctx)
	}
	d.mu.Lock()
	d.leases[leaseID] = run
	d.routedChanged()
	n := len(d.leases)
	d.mu.Unlock()
	d.metrics.Leases.Set(float64(n))
	d.log.Info("lease running", "lease", leaseID, "order", o.Id, "executor", rec.Executor, "state", st.State, "endpoint", rec.Endpoint, "node_answered", !offline)
	if rec.Replicated {
		go d.replicate(rctx, run)
	}
	return nil
}

// serve puts the ingress in front of a started workload and records the lease as running.
func (d *Daemon) serve(runCtx context.Context, run *leaseRun, rec *state.LeaseRecord, offline bool) error {
	ctx := context.WithoutCancel(runCtx)
	if !rec.Replicated {
		endpoint, err := run.driver.Endpoint(ctx, rec.TaskID)
		if err != nil {
			return fmt.Errorf("endpoint: %w", err)
		}
		rec.Endpoint = endpoint
		// Before the ingress starts: its handlers and prober read the record.
		run.rec = *rec
		var replay journal.Replay
		run.journal, replay = d.openJournal(rec.LeaseID)
		run.proxy, err = ingress.New(d.ingressConfig(run, endpoint))
		if err != nil {
			return err
		}
		d.restoreWindows(runCtx, run, replay, offline)
		if err := run.proxy.Start(); err != nil {
			return err
		}
	} else {
		run.rec = *rec
	}
	return d.store.PutLease(*rec)
}

// holdGPUs reserves rec's GPUs for its order o. A lease started again (its last launch failed,
// or the sidecar restarted) takes its GPUs back from open bids, which re-fit if they win; but
// not from another lease running on them: it takes free GPUs instead, in rec.
func (d *Daemon) holdGPUs(o markettypes.Order, rec *state.LeaseRecord) {
	var keep, busy []string
	owners := d.engine.Owners(o.Id, rec.GPUs)
	for _, u := range rec.GPUs {
		if prev, ok := owners[u]; ok && d.orderRunning(prev) {
			busy = append(busy, u)
			continue
		}
		keep = append(keep, u)
	}
	if displaced := d.engine.Hold(o.Id, keep); len(displaced) > 0 {
		d.log.Warn("lease took back GPUs that open bids had reserved", "lease", rec.LeaseID, "orders", displaced)
	}
	if len(busy) == 0 {
		return
	}
	var ok bool
	if rec.GPUs, ok = d.engine.Adopt(o); !ok {
		d.log.Warn("lease runs with fewer GPUs than ordered: its own are another lease's now and too few are free",
			"lease", rec.LeaseID, "order", o.Id, "needs", o.Requirements.GpuCount, "has", len(rec.GPUs))
		return
	}
	d.log.Warn("lease moved to free GPUs: its own are another lease's now", "lease", rec.LeaseID, "gpus", rec.GPUs)
}

// abandon undoes a launch that failed after its workload started: the workload stops and the
// GPUs go back, or they would stay booked with nothing to free them (the lease is not running,
// so its close finds no run). The journal stays for the next launch of the lease.
func (d *Daemon) abandon(ctx context.Context, run *leaseRun, rec state.LeaseRecord) {
	if run.proxy != nil {
		run.proxy.Release()
	}
	if run.journal != nil {
		_ = run.journal.Close()
	}
	if err := run.driver.Stop(ctx, rec.TaskID); err != nil {
		d.log.Warn("stopping the workload of a failed launch", "lease", rec.LeaseID, "err", err)
	}
	d.engine.Release(rec.OrderID)
}

// ingressConfig is the ingress of run's lease in front of endpoint. What it measures goes to
// the lease's next receipt and, until then, to its journal.
func (d *Daemon) ingressConfig(run *leaseRun, endpoint string) ingress.Config {
	return ingress.Config{
		LeaseID: run.rec.LeaseID, Backend: endpoint, WindowOf: d.windowOf(run), Registerer: d.metrics.Registry,
		// Called before the response leaves: an answered request is journaled.
		OnRequest: func(window uint64, s ingress.Sample) {
			run.mu.Lock()
			run.pending = append(run.pending, windowSample{window, s})
			d.journalRequest(run, window, s)
			full := len(run.pending)%d.maxRequests() == 0
			run.mu.Unlock()
			if full {
				go d.receiptFull(run) // off the request's path: it writes the store
			}
		},
		OnProbe: func(window uint64, ok bool) {
			now := time.Now()
			run.mu.Lock()
			run.probes = addProbe(run.probes, window, ok)
			run.lastProbe = now.UnixMilli()
			d.journalProbe(run, window, ok, run.lastProbe)
			stalled := stalledAt(run, now)
			if !stalled {
				run.probeClock = now
			}
			run.mu.Unlock()
			if stalled {
				d.chargeStall(context.Background(), run, now)
			}
		},
	}
}

// snapshot encodes the order and lease for the lease's record (state.LeaseRecord).
func snapshot(o markettypes.Order, l markettypes.Lease) ([]byte, []byte, error) {
	ob, err := o.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("encode order: %w", err)
	}
	lb, err := l.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("encode lease: %w", err)
	}
	return ob, lb, nil
}

// errNoSnapshot: a lease record written before records kept the order and lease.
var errNoSnapshot = errors.New("no order and lease kept")

// unsnapshot decodes the order and lease a record kept (snapshot).
func unsnapshot(r state.LeaseRecord) (markettypes.Order, markettypes.Lease, error) {
	var o markettypes.Order
	var l markettypes.Lease
	if len(r.Order) == 0 || len(r.Lease) == 0 {
		return o, l, errNoSnapshot
	}
	if err := o.Unmarshal(r.Order); err != nil {
		return o, l, fmt.Errorf("stored order: %w", err)
	}
	if err := l.Unmarshal(r.Lease); err != nil {
		return o, l, fmt.Errorf("stored lease: %w", err)
	}
	return o, l, nil
}

// leaseInfo is what each of the lease's receipts states about it, but for the attestation in
// force, which receiptPending adds: it changes when the provider attests again.
func (d *Daemon) leaseInfo(o markettypes.Order, l markettypes.Lease, digest string) receipts.LeaseInfo {
	return receipts.LeaseInfo{
		LeaseID: l.Id, GpuSku: o.Requirements.GpuSku, VramGib: o.Requirements.MinVramGib, Metro: o.Requirements.Metro,
		WorkloadDigest: digest, PricePerBlock: l.PricePerBlock,
	}
}

// errNoExecutor: the order's workload needs an executor this sidecar does not run.
var errNoExecutor = errors.New("no executor")

// workloadOf is the driver that runs w and the task's workload reference and digest for it;
// a nil driver when this sidecar has no executor for it.
func (d *Daemon) workloadOf(w markettypes.Workload) (exec.Driver, string, string) {
	switch {
	case w.WasmHash != "":
		return d.drivers["wasm"], filepath.Join(d.cfg.Executors.WASMDir, w.WasmHash+".wasm"), w.WasmHash
	case w.OciDigest != "":
		return d.drivers["docker"], w.OciDigest, w.OciDigest
	}
	return nil, "", ""
}

// cannotRun says whether err means this host will never run the lease's workload: refused by
// its driver, not on this host, or without an executor.
func cannotRun(err error) bool {
	return errors.Is(err, exec.ErrRefused) || errors.Is(err, exec.ErrUnavailable) || errors.Is(err, errNoExecutor)
}

// runLease starts a lease (startLease) and closes it when its workload cannot run here
// (giveUpLease); other failures are logged, and the next start tries again.
func (d *Daemon) runLease(ctx context.Context, leaseID uint64, what string) {
	err := d.startLease(ctx, leaseID)
	if err == nil {
		return
	}
	d.log.Error(what, "lease", leaseID, "err", err)
	if cannotRun(err) {
		d.giveUpLease(leaseID, err)
	}
}

// giveUpLease closes a won lease whose workload cannot run here: otherwise the buyer pays for
// nothing until the chain ends the lease after its SLA windows go unreported, each a penalty.
func (d *Daemon) giveUpLease(leaseID uint64, err error) {
	d.mu.Lock()
	again := d.givenUp[leaseID]
	d.givenUp[leaseID] = true
	d.mu.Unlock()
	if again {
		return
	}
	detail := "workload cannot run: " + err.Error()
	if len(detail) > 256 {
		detail = strings.ToValidUTF8(detail[:256], "")
	}
	d.metrics.LeasesGivenUp.Inc()
	d.log.Error("closing a lease whose workload cannot run here", "lease", leaseID, "err", err)
	d.queueRetrying("close_lease", nil, nil, &markettypes.MsgCloseLease{Sender: d.provider, LeaseId: leaseID, Detail: detail})
}

// resumeStored serves again, before the node answers, the leases the store says were running
// when the sidecar stopped, from the order and lease it kept: a sidecar restarted while its
// node is down or slow to start (a host reboot) would otherwise serve nothing until it answers.
// Replicated jobs serve no traffic and wait for the node (resume). Failures are logged, and
// resume tries again once the node answers.
func (d *Daemon) resumeStored(ctx context.Context) error {
	recs, err := d.store.Leases()
	if err != nil {
		return err
	}
	d.removeStaleJournals(recs)
	for _, r := range recs {
		if r.State != state.LeaseRunning || r.Replicated {
			continue
		}
		o, l, err := unsnapshot(r)
		if err != nil {
			if !errors.Is(err, errNoSnapshot) {
				d.log.Warn("the lease waits for the node", "lease", r.LeaseID, "err", err)
			}
			continue
		}
		if err := d.launch(ctx, o, l, true); err != nil {
			d.log.Warn("lease not resumed before the node answered", "lease", r.LeaseID, "err", err)
		}
	}
	return nil
}

// resume settles, with the node, the leases the store says were running when the sidecar
// stopped: one that closed meanwhile ends here; one resumeStored serves is charged the time
// the sidecar was down; any other starts now.
func (d *Daemon) resume(ctx context.Context) error {
	recs, err := d.store.Leases()
	if err != nil {
		return err
	}
	mq := markettypes.NewQueryClient(d.chain.Context())
	for _, r := range recs {
		if r.State == state.LeaseClosing {
			d.mu.Lock()
			settling := d.settling[r.LeaseID]
			d.mu.Unlock()
			if !settling {
				d.finishClosing(ctx, r)
			}
			continue
		}
		if r.State != state.LeaseRunning {
			continue
		}
		res, err := ask(ctx, d, "query_lease", func() (*markettypes.QueryLeaseResponse, error) {
			return mq.Lease(ctx, &markettypes.QueryLeaseRequest{Id: r.LeaseID})
		})
		if err != nil {
			return err
		}
		run := d.leaseRun(r.LeaseID)
		if res.Lease.State != markettypes.LEASE_STATE_ACTIVE {
			if run == nil {
				run = d.closedRun(ctx, r, res.Lease)
			} else {
				d.closedWhileDown(ctx, run, res.Lease)
			}
			d.finishLease(ctx, r.LeaseID, run, res.Lease.ClosedHeight)
			d.withdraw(ctx, r.LeaseID)
			continue
		}
		if run != nil {
			d.chargeResumed(ctx, run)
			continue
		}
		d.runLease(ctx, r.LeaseID, "resume lease")
	}
	return nil
}

// closedWhileDown prepares a lease that closed while the sidecar was down to end, whether
// resumeStored served it or closedRun rebuilt it: its windows are charged the downtime before
// they are reported, and what it served is receipted only while a batch sent now can still be
// anchored (finishLease drops the rest, in the log).
func (d *Daemon) closedWhileDown(ctx context.Context, run *leaseRun, l markettypes.Lease) {
	d.chargeResumed(ctx, run) // nothing left to charge for one closedRun rebuilt
	run.mu.Lock()
	n := len(run.pending)
	run.mu.Unlock()
	if !d.anchorable(ctx, l) {
		run.unanchorable.Store(true)
		return
	}
	if n > 0 {
		d.log.Info("lease closed while the sidecar was down: receipting the requests of its last block", "lease", run.rec.LeaseID, "requests", n)
	}
}

// anchorable says whether a receipt batch of closed lease l sent now can still be anchored: it
// lands in the next block at the earliest, and the chain takes a closed lease's batches for
// report_grace_blocks after its close.
func (d *Daemon) anchorable(ctx context.Context, l markettypes.Lease) bool {
	return d.head.Load()+1 <= l.ClosedHeight+d.grace(ctx)
}

// drainAtClose is how long a lease's close waits for requests still in its proxy.
const drainAtClose = 3 * time.Second

// finishLease stops a lease that closed at height closed: its workload and ingress stop, what
// it served last is receipted, and the windows that ended by the close are reported (the
// chain judges a window that ends in the close's block, the usual end of a lease whose duration
// is a whole number of windows, and it ended in the block whose events stop the lease here).
// The store keeps its receipts and batches for proofs.
func (d *Daemon) finishLease(ctx context.Context, leaseID uint64, run *leaseRun, closed int64) {
	if run == nil {
		d.mu.Lock()
		run = d.leases[leaseID]
		d.mu.Unlock()
	}
	rec, err := d.store.GetLease(leaseID)
	if err != nil {
		return
	}
	if run != nil {
		// Routed no more first, so the last receipt holds every request the ingress served.
		d.mu.Lock()
		delete(d.leases, leaseID)
		d.mu.Unlock()
		if run.stop != nil {
			run.stop()
		}
		if run.proxy != nil {
			run.proxy.Stop()
			// A request routed before the delete above may still be in the proxy: it goes in
			// the last receipt once recorded. Bounded, as the watcher waits here.
			if !run.proxy.Drain(drainAtClose) {
				d.log.Warn("requests still in flight at the lease's close are left out of its last receipt", "lease", leaseID)
			}
		}
		if run.unanchorable.Load() {
			run.mu.Lock()
			dropped := len(run.pending)
			run.pending = nil
			run.mu.Unlock()
			d.log.Warn("lease closed while the sidecar was down, too long ago to anchor what it served since", "lease", leaseID, "requests", dropped)
		}
		d.receiptPending(run, d.height.Load())
		d.reportEnded(ctx, run, closed)
		if run.proxy != nil {
			run.proxy.Release()
		}
	}
	// A lease that closed while the sidecar was down has a workload but no driver of this run.
	drv := d.drivers[rec.Executor]
	if run != nil && run.driver != nil {
		drv = run.driver
	}
	if drv != nil {
		_ = drv.Stop(ctx, rec.TaskID)
	}
	d.engine.Release(rec.OrderID)
	d.mu.Lock()
	n := len(d.leases) // a running lease left them above
	d.mu.Unlock()
	d.metrics.Leases.Set(float64(n))
	d.batcher.Flush(leaseID)
	d.log.Info("lease closed", "lease", leaseID)
	if run == nil || run.rec.WindowBlocks == 0 || run.rec.Replicated {
		d.closeRecord(leaseID, run)
		return
	}
	// The reports just queued are in memory only. Until the chain has taken them (or their
	// deadlines pass) the store keeps the lease closing, with its journal and window data: a
	// crash meanwhile reports those windows again after the restart (finishClosing).
	first, last := d.firstUnsettled(ctx, run), lastWindowBy(run, closed)
	if first > last {
		d.closeRecord(leaseID, run)
		return
	}
	if rec, err := d.store.GetLease(leaseID); err == nil {
		rec.State, rec.ClosedHeight = state.LeaseClosing, closed
		_ = d.store.PutLease(rec)
	}
	d.settle(ctx, leaseID, run, first, last)
}

// settle closes lease's record once windows first..last have settled (reportsSettled), polling
// beside the watcher; a restart or resync meanwhile leaves it to finishClosing.
func (d *Daemon) settle(ctx context.Context, leaseID uint64, run *leaseRun, first, last uint64) {
	d.mu.Lock()
	if d.settling == nil {
		d.settling = map[uint64]bool{}
	}
	if d.settling[leaseID] {
		d.mu.Unlock()
		return
	}
	d.settling[leaseID] = true
	d.mu.Unlock()
	every := d.settlePoll
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	go func() {
		defer func() {
			d.mu.Lock()
			delete(d.settling, leaseID)
			d.mu.Unlock()
		}()
		for !d.stopped.Load() {
			settled, err := d.reportsSettled(ctx, run, first, last)
			if err != nil {
				return // the store is closed: the sidecar is stopping
			}
			if settled {
				d.closeRecord(leaseID, run)
				return
			}
			time.Sleep(every)
		}
	}()
}

// firstUnsettled is the first window of run's lease whose report deadline has not passed: the
// earlier ones are settled whatever became of their reports.
func (d *Daemon) firstUnsettled(ctx context.Context, run *leaseRun) uint64 {
	n := d.head.Load() - d.grace(ctx) - run.rec.StartHeight
	if n < 0 || run.rec.WindowBlocks == 0 {
		return 1
	}
	return uint64(n)/run.rec.WindowBlocks + 1
}

// finishClosing reports again, after a restart or a resync, the last windows of a lease that
// closed before the chain took its reports: from the window data and journal the store kept,
// through an ingress that serves nothing, with no workload.
func (d *Daemon) finishClosing(ctx context.Context, rec state.LeaseRecord) {
	o, l, err := unsnapshot(rec)
	if err != nil {
		d.closeRecord(rec.LeaseID, nil)
		return
	}
	run, err := d.offlineRun(rec, o, l)
	if err != nil {
		d.log.Warn("closing lease's windows cannot be rebuilt", "lease", rec.LeaseID, "err", err)
		d.closeRecord(rec.LeaseID, nil)
		return
	}
	j, replay := d.openJournal(rec.LeaseID)
	run.journal = j
	d.restoreWindows(ctx, run, replay, true)
	run.pending = nil // receipted at the close, before the journal's last seal
	d.reportEnded(ctx, run, rec.ClosedHeight)
	run.proxy.Release()
	first, last := d.firstUnsettled(ctx, run), lastWindowBy(run, rec.ClosedHeight)
	if first > last {
		d.closeRecord(rec.LeaseID, run)
		return
	}
	d.log.Info("closed lease's last windows reported again", "lease", rec.LeaseID, "windows", fmt.Sprintf("%d..%d", first, last))
	d.settle(ctx, rec.LeaseID, run, first, last)
}

// lastWindowBy is the last window of run's lease that ended at or before height h (0: none).
func lastWindowBy(run *leaseRun, h int64) uint64 {
	w := run.rec.WindowBlocks
	if w == 0 || h < run.rec.StartHeight+int64(w) {
		return 0
	}
	return uint64((h - run.rec.StartHeight) / int64(w))
}

// reportsSettled reports whether windows first..last of run's lease are each taken by the chain
// or past their deadline.
func (d *Daemon) reportsSettled(ctx context.Context, run *leaseRun, first, last uint64) (bool, error) {
	head := d.head.Load()
	for win := first; win <= last; win++ {
		done, err := d.store.WindowReported(run.rec.LeaseID, win)
		if err != nil {
			return false, err
		}
		if !done && head < slatypes.WindowEnd(run.rec.StartHeight, run.rec.WindowBlocks, win)+d.grace(ctx) {
			return false, nil
		}
	}
	return true, nil
}

// closeRecord marks a closed lease closed in the store and forgets its journal and window data.
func (d *Daemon) closeRecord(leaseID uint64, run *leaseRun) {
	rec, err := d.store.GetLease(leaseID)
	if err != nil {
		return
	}
	// The record is closed last: a crash before that finds the lease still to settle after the
	// restart and comes here again, where closing it first would leave its data for ever.
	// removeJournal comes before DropWindows, which forgets how much of the journal the store took.
	d.removeJournal(leaseID, run)
	if err := d.store.DropWindows(leaseID); err != nil {
		d.log.Warn("window data", "lease", leaseID, "err", err)
		return
	}
	rec.State = state.LeaseClosed
	_ = d.store.PutLease(rec)
	d.log.Info("lease record closed: its reports landed or are past their deadlines", "lease", leaseID)
}

// reportEnded reports every window of run's lease that ended at or before h and was not yet
// reported, unless its deadline has already passed on chain (a replay after downtime: nothing
// to save).
func (d *Daemon) reportEnded(ctx context.Context, run *leaseRun, h int64) {
	w := run.rec.WindowBlocks
	if w == 0 || run.rec.Replicated || run.proxy == nil {
		return
	}
	head := d.head.Load()
	for win := run.rec.LastReportedWindow + 1; slatypes.WindowEnd(run.rec.StartHeight, w, win) <= h; win++ {
		// A report lands in head+1 at the earliest, and the chain takes it through the due height.
		if head >= slatypes.WindowEnd(run.rec.StartHeight, w, win)+d.grace(ctx) {
			// Settled without a report: its data has nothing left to prove.
			run.setReported(win)
			_ = d.store.MarkWindowReported(run.rec.LeaseID, win)
			continue
		}
		d.reportWindow(ctx, run, win)
	}
}

// withdraw withdraws what the lease earned since the last withdrawal, if anything: on the
// schedule while it runs (tickLease) and once more when it closes, since a replicated lease is
// paid only when its result is resolved, as it closes.
func (d *Daemon) withdraw(ctx context.Context, leaseID uint64) {
	res, err := ask(ctx, d, "query_stream", func() (*escrowtypes.QueryStreamResponse, error) {
		return escrowtypes.NewQueryClient(d.chain.Context()).Stream(ctx, &escrowtypes.QueryStreamRequest{LeaseId: leaseID})
	})
	if err != nil {
		d.log.Warn("lease's earnings unreadable", "lease", leaseID, "err", err)
		return
	}
	if res.Stream.Payee == d.provider && res.Stream.Earned.IsPositive() {
		// Retried while the node is unreachable: a closed lease is not withdrawn from again.
		d.queueRetrying("withdraw", nil, nil, &escrowtypes.MsgWithdraw{Payee: d.provider, LeaseId: leaseID})
	}
}

// stopAll stops every ingress and commit-reveal (workloads keep running so a restart can
// re-attach to them; a restart commits or reveals from what the store kept).
func (d *Daemon) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.leases {
		if r.proxy != nil {
			r.proxy.Stop()
		}
		if r.stop != nil {
			r.stop() // its sends would wait forever on a send loop that has stopped
		}
	}
}

// tickLease runs at every block for a running lease: receipts, due SLA reports, withdrawals.
func (d *Daemon) tickLease(ctx context.Context, run *leaseRun, h int64) {
	if run.rec.Replicated {
		return
	}
	// Before this block's reports: a stall of the whole sidecar (its prober and this watcher
	// alike) is charged to the windows it spanned before they are reported.
	d.chargeStall(ctx, run, time.Now())
	d.receiptPending(run, h)
	head := d.head.Load()
	d.reportEnded(ctx, run, h)
	if every := d.cfg.Provider.WithdrawEveryBlocks; every > 0 && h == head && (h-run.rec.StartHeight)%every == 0 && h > run.rec.StartHeight {
		d.withdraw(ctx, run.rec.LeaseID)
		// Runway: warn while the buyer's deposit has less than a few withdrawal periods left.
		if acc, err := escrowtypes.NewQueryClient(d.chain.Context()).Account(ctx, &escrowtypes.QueryAccountRequest{Id: run.rec.OrderID}); err == nil &&
			acc.Account.DepletionHeight > 0 && acc.Account.DepletionHeight-h < 5*every {
			d.log.Warn("lease runway low", "lease", run.rec.LeaseID, "blocks_left", acc.Account.DepletionHeight-h)
		}
	}
}
