package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/exec"
	"github.com/computed-network/computed/provider/ingress"
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

	mu        sync.Mutex
	pending   []windowSample     // requests not yet in a receipt
	probes    []state.WindowData // probe counts not yet kept in the store
	lastProbe int64              // unix ms of the latest probe not yet kept; 0 if none
}

// windowSample is a request and the SLA window the ingress recorded it in.
type windowSample struct {
	window uint64
	s      ingress.Sample
}

// windowOf maps now to the lease's SLA window from the chain height: requests served while
// block h is the latest belong to the window holding block h+1.
func (d *Daemon) windowOf(l *leaseRun) func(time.Time) uint64 {
	return func(time.Time) uint64 {
		w := l.rec.WindowBlocks
		if w == 0 {
			return 1
		}
		next := d.height.Load() + 1 - l.rec.StartHeight
		if next <= 0 {
			return 1
		}
		return uint64(next+int64(w)-1) / w
	}
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
	ores, err := ask(ctx, d, "query_order", func() (*markettypes.QueryOrderResponse, error) {
		return mq.Order(ctx, &markettypes.QueryOrderRequest{Id: l.OrderId})
	})
	if err != nil {
		return err
	}
	o := ores.Order
	// The workload outlives this call's context, which ends when the sidecar stops.
	runCtx, ctx := ctx, context.WithoutCancel(ctx)
	rec, err := d.store.GetLease(leaseID)
	if errors.Is(err, state.ErrNotFound) {
		rec = state.LeaseRecord{
			LeaseID: leaseID, OrderID: o.Id, TaskID: fmt.Sprintf("lease-%d", leaseID), StartHeight: l.StartHeight,
			State: state.LeaseRunning, WindowBlocks: o.Sla.WindowBlocks, Replicated: slatypes.Replicated(o),
			GPUs: d.engine.Held(o.Id),
		}
		if rec.Replicated {
			rec.WindowBlocks = 0
		}
	} else if err != nil {
		return err
	}
	d.engine.Hold(o.Id, rec.GPUs)
	run := &leaseRun{rec: rec, order: o, lease: l}
	run.info = receipts.LeaseInfo{
		LeaseID: leaseID, GpuSku: o.Requirements.GpuSku, VramGib: o.Requirements.MinVramGib, Metro: o.Requirements.Metro,
		WorkloadDigest: workloadDigest(o.Workload), AttestationTokenHash: d.tokenHash, PricePerBlock: l.PricePerBlock,
	}
	cfg := exec.TaskConfig{ID: rec.TaskID, LeaseID: leaseID, GPUs: rec.GPUs, MemoryMiB: d.cfg.Executors.DefaultMemMiB}
	run.driver, cfg.Workload, cfg.Digest = d.workloadOf(o.Workload)
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
	if !rec.Replicated {
		endpoint, err := run.driver.Endpoint(ctx, rec.TaskID)
		if err != nil {
			return fmt.Errorf("lease %d: endpoint: %w", leaseID, err)
		}
		rec.Endpoint = endpoint
		run.proxy, err = ingress.New(ingress.Config{
			LeaseID: leaseID, Backend: endpoint, WindowOf: d.windowOf(run), Registerer: d.metrics.Registry,
			OnRequest: func(window uint64, s ingress.Sample) {
				run.mu.Lock()
				run.pending = append(run.pending, windowSample{window, s})
				run.mu.Unlock()
			},
			OnProbe: func(window uint64, ok bool) {
				run.mu.Lock()
				run.probes = addProbe(run.probes, window, ok)
				run.lastProbe = time.Now().UnixMilli()
				run.mu.Unlock()
			},
		})
		if err != nil {
			return err
		}
		d.restoreWindows(runCtx, run)
		if err := run.proxy.Start(); err != nil {
			return err
		}
	}
	run.rec = rec
	if err := d.store.PutLease(rec); err != nil {
		return err
	}
	d.mu.Lock()
	d.leases[leaseID] = run
	n := len(d.leases)
	d.mu.Unlock()
	d.metrics.Leases.Set(float64(n))
	d.log.Info("lease running", "lease", leaseID, "order", o.Id, "executor", rec.Executor, "state", st.State, "endpoint", rec.Endpoint)
	if rec.Replicated {
		var rctx context.Context
		rctx, run.stop = context.WithCancel(ctx)
		go d.replicate(rctx, run)
	}
	return nil
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
	d.log.Error("closing a lease whose workload cannot run here", "lease", leaseID, "err", err)
	d.queueRetrying("close_lease", nil, nil, &markettypes.MsgCloseLease{Sender: d.provider, LeaseId: leaseID, Detail: detail})
}

func workloadDigest(w markettypes.Workload) string {
	if w.OciDigest != "" {
		return w.OciDigest
	}
	return w.WasmHash
}

// resume re-adopts the leases the store says were running when the sidecar stopped.
func (d *Daemon) resume(ctx context.Context) error {
	recs, err := d.store.Leases()
	if err != nil {
		return err
	}
	mq := markettypes.NewQueryClient(d.chain.Context())
	for _, r := range recs {
		if r.State != state.LeaseRunning {
			continue
		}
		res, err := ask(ctx, d, "query_lease", func() (*markettypes.QueryLeaseResponse, error) {
			return mq.Lease(ctx, &markettypes.QueryLeaseRequest{Id: r.LeaseID})
		})
		if err != nil {
			return err
		}
		if res.Lease.State != markettypes.LEASE_STATE_ACTIVE {
			d.finishLease(ctx, r.LeaseID, nil)
			continue
		}
		d.runLease(ctx, r.LeaseID, "resume lease")
	}
	return nil
}

// finishLease stops a closed lease's workload and ingress, receipts what it served last and
// reports nothing more. The store keeps its receipts and batches for proofs.
func (d *Daemon) finishLease(ctx context.Context, leaseID uint64, run *leaseRun) {
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
		if run.stop != nil {
			run.stop()
		}
		d.receiptPending(run, d.height.Load())
		if run.proxy != nil {
			run.proxy.Stop()
			run.proxy.Release()
		}
		if run.driver != nil {
			_ = run.driver.Stop(ctx, rec.TaskID)
		}
	} else if drv := d.drivers[rec.Executor]; drv != nil {
		_ = drv.Stop(ctx, rec.TaskID)
	}
	rec.State = state.LeaseClosed
	_ = d.store.PutLease(rec)
	if err := d.store.DropWindows(leaseID); err != nil {
		d.log.Warn("window data", "lease", leaseID, "err", err)
	}
	d.engine.Release(rec.OrderID)
	d.mu.Lock()
	delete(d.leases, leaseID)
	n := len(d.leases)
	d.mu.Unlock()
	d.metrics.Leases.Set(float64(n))
	d.batcher.Add(leaseID)
	d.log.Info("lease closed", "lease", leaseID)
}

// stopAll stops every ingress (workloads keep running so a restart can re-attach to them).
func (d *Daemon) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.leases {
		if r.proxy != nil {
			r.proxy.Stop()
		}
	}
}

// receiptPending turns the requests served since the last receipt into one receipt: one unit of
// work per block interval, committing to the requests' samples (input) and their statuses
// (output), priced at the lease's rate for one block.
func (d *Daemon) receiptPending(run *leaseRun, h int64) {
	run.mu.Lock()
	samples, probes, lastProbe := run.pending, run.probes, run.lastProbe
	run.pending, run.probes, run.lastProbe = nil, nil, 0
	run.mu.Unlock()
	if len(samples) == 0 {
		// No receipt: the window data alone (the probes) is kept.
		windows := windowsToKeep(nil, nil, probes, run.rec.LastReportedWindow)
		if len(windows) > 0 || lastProbe != 0 {
			if err := d.store.KeepWindows(run.rec.LeaseID, windows, lastProbe); err != nil {
				d.log.Warn("window data", "lease", run.rec.LeaseID, "err", err)
			}
		}
		return
	}
	in := make([]byte, 0, ingress.SampleSize*len(samples))
	out := sha256.New()
	for _, ws := range samples {
		in = append(in, ingress.EncodeSample(ws.s)...)
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], ws.s.Status)
		out.Write(b[:])
	}
	_, err := d.builder.AppendWithSamples(run.info, receipts.Work{
		Start: time.UnixMilli(samples[0].s.UnixMillis), End: time.UnixMilli(samples[len(samples)-1].s.UnixMillis),
		Input: in, Output: out.Sum(nil), Price: run.lease.PricePerBlock,
		SettlementRef: fmt.Sprintf("lease/%d@%d", run.rec.LeaseID, h),
	}, windowsToKeep(samples, in, probes, run.rec.LastReportedWindow), lastProbe)
	if err != nil {
		d.log.Error("receipt", "lease", run.rec.LeaseID, "err", err)
		return
	}
	d.batcher.Add(run.rec.LeaseID)
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
	k := slices.IndexFunc(counts, func(w state.WindowData) bool { return w.Window == window })
	if k < 0 {
		counts, k = append(counts, state.WindowData{Window: window}), len(counts)
	}
	counts[k].Probes++
	if ok {
		counts[k].ProbesOK++
	}
	return counts
}

// restoreWindows gives a resumed lease's ingress what its windows had measured before the
// restart, and counts the probes the sidecar missed while it was down as failed: a buyer could
// not reach the lease through it then.
func (d *Daemon) restoreWindows(ctx context.Context, run *leaseRun) {
	lease := run.rec.LeaseID
	kept, lastProbe, err := d.store.PendingWindows(lease)
	if err != nil {
		d.log.Warn("window data", "lease", lease, "err", err)
		return
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
	if lastProbe != 0 {
		d.chargeDowntime(ctx, run, time.UnixMilli(lastProbe), time.Now())
	}
}

// submitBatch anchors one batch; the batcher calls it in order and retries it unchanged.
func (d *Daemon) submitBatch(ctx context.Context, b state.Batch) (string, error) {
	msg := &slatypes.MsgSubmitReceiptBatch{
		Provider: d.provider, LeaseId: b.LeaseID, FirstSequence: b.First, LastSequence: b.Last, Count: b.Count,
		MerkleRoot: b.Root, Usage: sdk.NewCoin(b.Denom, b.Usage),
	}
	res, err := d.sendNow(ctx, "receipt_batch", msg)
	if err != nil {
		if strings.Contains(err.Error(), slatypes.ErrSequenceGap.Error()) && d.anchored(ctx, b) {
			return "", receipts.ErrAnchored
		}
		return "", err
	}
	d.metrics.BatchesPosted.Inc()
	d.metrics.ReceiptsPosted.Add(float64(b.Count))
	return res.Hash, nil
}

// anchored reports whether the chain already holds exactly this batch (sent before a crash).
func (d *Daemon) anchored(ctx context.Context, b state.Batch) bool {
	res, err := slatypes.NewQueryClient(d.chain.Context()).ReceiptBatch(ctx, &slatypes.QueryReceiptBatchRequest{LeaseId: b.LeaseID, Sequence: b.First})
	return err == nil && res.Batch.FirstSequence == b.First && res.Batch.LastSequence == b.Last &&
		string(res.Batch.MerkleRoot) == string(b.Root)
}

// tickLease runs at every block for a running lease: receipts, due SLA reports, withdrawals.
func (d *Daemon) tickLease(ctx context.Context, run *leaseRun, h int64) {
	if run.rec.Replicated {
		return
	}
	d.receiptPending(run, h)
	head := d.head.Load()
	if w := run.rec.WindowBlocks; w > 0 {
		// Report every window that ended at or before h and was not yet reported, unless its
		// deadline has already passed on chain (a replay after downtime: nothing to save).
		for win := run.rec.LastReportedWindow + 1; slatypes.WindowEnd(run.rec.StartHeight, w, win) <= h; win++ {
			if head > slatypes.WindowEnd(run.rec.StartHeight, w, win)+d.grace(ctx) {
				run.rec.LastReportedWindow = win
				continue
			}
			d.reportWindow(ctx, run, win)
		}
	}
	if every := d.cfg.Provider.WithdrawEveryBlocks; every > 0 && h == head && (h-run.rec.StartHeight)%every == 0 && h > run.rec.StartHeight {
		res, err := escrowtypes.NewQueryClient(d.chain.Context()).Stream(ctx, &escrowtypes.QueryStreamRequest{LeaseId: run.rec.LeaseID})
		if err == nil && res.Stream.Earned.IsPositive() {
			d.queue("withdraw", nil, &escrowtypes.MsgWithdraw{Payee: d.provider, LeaseId: run.rec.LeaseID})
		}
		// Runway: warn while the buyer's deposit has less than a few withdrawal periods left.
		if acc, err := escrowtypes.NewQueryClient(d.chain.Context()).Account(ctx, &escrowtypes.QueryAccountRequest{Id: run.rec.OrderID}); err == nil &&
			acc.Account.DepletionHeight > 0 && acc.Account.DepletionHeight-h < 5*every {
			d.log.Warn("lease runway low", "lease", run.rec.LeaseID, "blocks_left", acc.Account.DepletionHeight-h)
		}
	}
}

// grace is the chain's report_grace_blocks (read once).
func (d *Daemon) grace(ctx context.Context) int64 {
	if g := d.reportGrace.Load(); g > 0 {
		return g
	}
	res, err := slatypes.NewQueryClient(d.chain.Context()).Params(ctx, &slatypes.QueryParamsRequest{})
	if err != nil {
		return 1
	}
	g := int64(res.Params.ReportGraceBlocks)
	d.reportGrace.Store(g)
	return g
}

// reportWindow closes the window's stats in the ingress and reports them. The store marks it
// reported only after the chain took it, so a crash in between reports it again (the chain
// refuses the duplicate, which counts as done).
func (d *Daemon) reportWindow(ctx context.Context, run *leaseRun, win uint64) {
	if done, _ := d.store.WindowReported(run.rec.LeaseID, win); done {
		run.rec.LastReportedWindow = win
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
	run.rec.LastReportedWindow = win
	leaseID := run.rec.LeaseID
	// A report lost to a node restart is sent again until the chain takes or refuses it (its
	// deadline passed), or the lease ends: a window never reported is judged MISSING.
	d.queueRetrying("sla_report", func() bool { return d.running(leaseID) }, func(_ *chain.Result, err error) {
		if err == nil || strings.Contains(err.Error(), slatypes.ErrDuplicateReport.Error()) {
			_ = d.store.MarkWindowReported(leaseID, win)
			if rec, gerr := d.store.GetLease(leaseID); gerr == nil && rec.LastReportedWindow < win {
				rec.LastReportedWindow = win
				_ = d.store.PutLease(rec)
			}
			d.metrics.Reports.Inc()
		}
	}, msg)
	d.log.Info("sla report", "lease", run.rec.LeaseID, "window", win, "requests", st.Requests, "p95_us", st.P95Micros, "availability_bps", avail)
}
