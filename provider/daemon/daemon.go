// Package daemon is the provider sidecar: it keeps the provider attested and bonded, bids on
// orders it can serve, runs won leases behind the latency-measuring ingress, anchors receipts,
// reports SLA windows, commits and reveals replicated results, and withdraws earnings. All it
// must not forget lives in the bbolt store, so a kill -9 at any point loses nothing.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/attest"
	"github.com/computed-network/computed/provider/bid"
	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/config"
	"github.com/computed-network/computed/provider/exec"
	"github.com/computed-network/computed/provider/gpu"
	"github.com/computed-network/computed/provider/metrics"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
)

// Daemon is one running sidecar.
type Daemon struct {
	cfg       config.Config
	log       *slog.Logger
	chain     *chain.Client
	watcher   *chain.Watcher
	store     *state.Store
	gpus      gpu.Backend
	engine    *bid.Engine
	drivers   map[string]exec.Driver
	collector attest.Collector
	metrics   *metrics.Metrics
	batcher   *receipts.Batcher
	builder   *receipts.Builder

	height   atomic.Int64
	provider string
	// tokenHash is the SHA-256 of the attestation evidence in force, which each receipt states;
	// nil until the chain's record is read after a start.
	tokenHash atomic.Pointer[[]byte]

	mu     sync.Mutex
	leases map[uint64]*leaseRun
	bids   map[uint64]uint64 // our open bid → order
	// inflight counts the bids being sent per order: their GPUs are reserved, the bids not yet
	// on chain.
	inflight map[uint64]int
	// launching counts the leases being launched per order (launch): their GPUs are the lease's
	// before the run is in leases.
	launching map[uint64]int
	// givenUp holds the leases closed because their workload cannot run here (one close each).
	givenUp map[uint64]bool
	// settling: closed leases whose records wait for their last reports (settle).
	settling map[uint64]bool

	// urgent carries bids, commits and reveals, which have deadlines; txs carries the rest.
	urgent      chan txJob
	txs         chan txJob
	reportGrace atomic.Int64
	graceReadAt atomic.Int64 // head when reportGrace was read
	graceTried  atomic.Int64 // head+1 when it was last asked for
	head        atomic.Int64 // the chain's latest height as last seen (blocks below it are replays)
	listener    net.Listener
	stopped     atomic.Bool // Run has returned: nothing is sent again
	resumed     atomic.Bool // the leases running before a restart are routed again
	// routed is closed when a lease is routed or resumed is set (routedChange); resumeWait is
	// how long a request for a lease still resuming waits for it before a 503.
	routed     chan struct{}
	resumeWait time.Duration
	// renewing is set while a re-attestation runs beside the watcher; renew is what it runs
	// (ensureAttested; a test's stand-in).
	renewing atomic.Bool
	renew    func(context.Context) error
	// settlePoll is how often a closed lease's record checks whether its last reports landed
	// (0: every 500 ms).
	settlePoll time.Duration
}

// Deps are the parts a caller (the CLI, a test) builds.
type Deps struct {
	Chain     *chain.Client
	Watcher   *chain.Watcher
	Store     *state.Store
	GPUs      gpu.Backend
	Drivers   map[string]exec.Driver
	Collector attest.Collector
	Log       *slog.Logger
}

// New assembles a daemon.
func New(cfg config.Config, d Deps) (*Daemon, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	devices, err := d.GPUs.Devices(context.Background())
	if errors.Is(err, gpu.ErrUnreadable) && len(devices) > 0 {
		d.Log.Warn("GPUs left out of the inventory", "err", err, "serving", len(devices))
	} else if err != nil {
		return nil, fmt.Errorf("GPU inventory: %w", err)
	}
	if slices.ContainsFunc(devices, func(g gpu.Device) bool { return g.CCEnabled && !g.CCReady }) {
		d.Log.Warn("the GPUs are in confidential-computing mode but do not accept work yet: leases would fail until their ready state is set (nvidia-smi conf-compute -srs 1, once they are attested)")
	}
	_, hasWASM := d.Drivers["wasm"]
	_, hasDocker := d.Drivers["docker"]
	// Every order asks for GPUs: a container can be given real ones only through the engine's
	// GPU runtime, and mock ones (development) not at all, so it runs without.
	ociGPUs := cfg.Executors.DockerGPUs || cfg.GPU.Backend == "mock"
	if hasDocker && !ociGPUs {
		d.Log.Warn("docker executor without executors.docker_gpus: not bidding on OCI orders, whose GPUs it could not hand over")
	}
	policy := bid.Policy{
		Metro: cfg.Provider.Metro, Denom: cfg.Pricing.Denom, BasePerGPUHour: cfg.Pricing.BasePerGPUHour,
		MetroMultiplierBps: cfg.Pricing.MetroMultiplierBps, UtilisationScalingBps: cfg.Pricing.UtilisationScalingBps,
		FloorPerBlock: cfg.Pricing.FloorPerBlock, BlockSeconds: cfg.Pricing.BlockSeconds,
		Evidence:     evidenceFor(cfg),
		SupportsWASM: hasWASM, SupportsOCI: hasDocker && ociGPUs,
	}
	dm := &Daemon{
		cfg: cfg, log: d.Log, chain: d.Chain, watcher: d.Watcher, store: d.Store, gpus: d.GPUs,
		engine: bid.New(policy, devices), drivers: d.Drivers, collector: d.Collector, metrics: metrics.New(),
		provider: d.Chain.Provider().String(), leases: map[uint64]*leaseRun{}, bids: map[uint64]uint64{}, inflight: map[uint64]int{}, givenUp: map[uint64]bool{},
		txs: make(chan txJob, 1024), urgent: make(chan txJob, 256), resumeWait: resumeWait,
	}
	if dm.watcher.OnError == nil {
		dm.watcher.OnError = func(h int64, inARow int, err error) {
			dm.metrics.ChainErrors.WithLabelValues("read_block").Inc()
			if inARow == 1 || inARow%30 == 0 {
				dm.log.Warn("cannot read the next block; trying again", "height", h, "failures", inARow, "err", err)
			}
		}
	}
	dm.builder = receipts.NewBuilder(d.Store)
	dm.batcher, err = receipts.NewBatcher(d.Store, receipts.BatcherConfig{
		MaxBatch: cfg.Receipts.MaxBatch, MaxAge: cfg.Receipts.MaxAge.Duration, ResendAfter: 30 * time.Second,
		OnError: func(lease uint64, err error) {
			dm.metrics.ChainErrors.WithLabelValues("receipt_batch").Inc()
			dm.log.Warn("receipt batch", "lease", lease, "err", err)
		},
		Anchored: dm.anchored,
	}, dm.submitBatch)
	if err != nil {
		return nil, err
	}
	return dm, nil
}

// Run starts everything and blocks until ctx ends or a part fails.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lns, passed, err := listen(d.cfg.Listen.HTTP)
	if err != nil {
		return err
	}
	d.listener = lns[0]
	if passed {
		for _, ln := range lns {
			d.log.Info("serving on a socket the supervisor passed", "addr", ln.Addr().String(), "listen.http", d.cfg.Listen.HTTP)
		}
	}
	served := serve(ctx, lns, d.routes(), shutdownDrain)
	// Returns only once the requests in flight are answered (or the drain ran out).
	defer func() { cancel(); <-served }()
	go d.sendLoop(ctx)
	if every := d.cfg.Receipts.JournalSync.Duration; every > 0 {
		go d.syncJournals(ctx, every)
	}

	// The leases that were running are served again first: the node may be down or slow to
	// start, and the workloads and the ingress need nothing from it. Until it answers, the
	// chain's head is taken to be the last block handled.
	cursor, err := d.store.Cursor()
	if err != nil {
		return err
	}
	d.height.Store(cursor)
	d.head.Store(cursor)
	if err := d.resumeStored(ctx); err != nil {
		return err
	}
	// A node that is down or still starting is waited for, as a supervisor would restart the
	// sidecar until it answers; an error the node gives back is final.
	h, err := ask(ctx, d, "node_status", func() (int64, error) { return d.chain.Height(ctx) })
	if errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	d.height.Store(h)
	d.head.Store(h)
	// Each step checks the chain before it sends, so it is run again whole while the node is
	// unreachable or refuses a transaction only for now: a node that has just restarted checks
	// transactions against its genesis state until it commits a block.
	if err := d.retrying(ctx, "setup", func() error { return d.ensureProvider(ctx) }); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	if err := d.resume(ctx); err != nil {
		return err
	}
	d.setResumed()
	if cursor == 0 {
		// First start: open orders are found by paging the chain (catchUp), not by replaying it.
		cursor = h
		if err := d.store.SetCursor(cursor); err != nil {
			return err
		}
	}
	if cursor, err = d.skipPruned(ctx, cursor); err != nil {
		return err
	}
	if err := d.catchUp(ctx); err != nil {
		return err
	}
	go func() {
		if err := d.batcher.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("batcher stopped", "err", err)
		}
	}()
	d.log.Info("sidecar running", "provider", d.provider, "height", h, "cursor", cursor, "listen", d.listener.Addr().String())
	for {
		err = d.watcher.Run(ctx, cursor, func(b chain.Block) error { return d.handleBlock(ctx, b) })
		var pruned *chain.PrunedError
		if !errors.As(err, &pruned) {
			break
		}
		if cursor, err = d.resync(ctx, pruned); err != nil {
			break
		}
	}
	d.stopped.Store(true)
	d.stopAll()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Addr is the listener's address once Run has started.
func (d *Daemon) Addr() string {
	if d.listener == nil {
		return ""
	}
	return d.listener.Addr().String()
}

// txJob is one transaction for the send loop.
type txJob struct {
	what string
	msgs []sdk.Msg
	done func(*chain.Result, error)
}

// sendLoop broadcasts transactions one at a time, in the order they were queued, so the
// signer's sequence never races and the watcher never waits on the chain. It does not wait for
// a transaction's block before broadcasting the next (each is waited for on its own), so
// several go into one block.
func (d *Daemon) sendLoop(ctx context.Context) {
	for {
		var j txJob
		select {
		case j = <-d.urgent:
		default:
			select {
			case <-ctx.Done():
				return
			case j = <-d.urgent:
			case j = <-d.txs:
			}
		}
		sent, err := d.chain.Broadcast(ctx, j.msgs...)
		if err != nil {
			d.sent(j, nil, err)
			continue
		}
		d.metrics.TxInFlight.Inc()
		go func(at time.Time) {
			res, err := d.chain.Wait(ctx, sent)
			d.metrics.TxInFlight.Dec()
			if err == nil || errors.Is(err, chain.ErrTxFailed) {
				d.metrics.TxInclusion.WithLabelValues(j.what).Observe(time.Since(at).Seconds())
			}
			d.sent(j, res, err)
		}(time.Now())
	}
}

// sent hands a transaction's outcome to whoever queued it.
func (d *Daemon) sent(j txJob, res *chain.Result, err error) {
	if err != nil {
		d.metrics.ChainErrors.WithLabelValues(j.what).Inc()
		d.log.Warn("transaction failed", "what", j.what, "err", err)
	}
	if j.done != nil {
		j.done(res, err)
	}
}

// urgentWork are the transactions with deadlines a few blocks away: they jump the queue. An SLA
// report is due report_grace_blocks after its window; receipt batches and withdrawals can wait.
var urgentWork = map[string]bool{"bid": true, "commit": true, "reveal": true, "sla_report": true}

// queue hands msgs to the send loop.
func (d *Daemon) queue(what string, done func(*chain.Result, error), msgs ...sdk.Msg) {
	j := txJob{what: what, msgs: msgs, done: done}
	if urgentWork[what] {
		d.urgent <- j
		return
	}
	d.txs <- j
}

// queueRetrying queues msgs like queue, and queues them again, backing off, while sending fails
// for a reason a retry may cure (chain.Transient: the node is down or restarting) and keep
// (nil: always) still holds. Unlike sendRetrying it does not wait: the send loop keeps the
// order in which work was queued. done hears the final outcome. A refusal by the chain is final, so a resend whose
// first copy had landed ends on the chain's duplicate error, which callers treat as done.
func (d *Daemon) queueRetrying(what string, keep func() bool, done func(*chain.Result, error), msgs ...sdk.Msg) {
	wait, attempt := chain.DefaultBackoff.First, 0
	var try func(*chain.Result, error)
	try = func(res *chain.Result, err error) {
		if chain.Transient(err) && (keep == nil || keep()) && !d.stopped.Load() {
			if attempt++; attempt == 1 || attempt%10 == 0 {
				d.log.Warn("transaction not sent; sending it again", "what", what, "attempt", attempt, "err", err)
			}
			time.AfterFunc(wait, func() { d.queue(what, try, msgs...) })
			wait = min(2*wait, chain.DefaultBackoff.Max)
			return
		}
		if done != nil {
			done(res, err)
		}
	}
	d.queue(what, try, msgs...)
}

// runningLeases is the leases running now, for work outside d.mu.
func (d *Daemon) runningLeases() []*leaseRun {
	d.mu.Lock()
	defer d.mu.Unlock()
	runs := make([]*leaseRun, 0, len(d.leases))
	for _, r := range d.leases {
		runs = append(runs, r)
	}
	return runs
}

// running reports whether the sidecar is running lease id.
func (d *Daemon) running(id uint64) bool { return d.leaseRun(id) != nil }

// orderRunning reports whether the sidecar runs a lease of the order.
func (d *Daemon) orderRunning(orderID uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.launching[orderID] > 0 {
		return true
	}
	for _, r := range d.leases {
		if r.rec.OrderID == orderID {
			return true
		}
	}
	return false
}

// leaseRun is lease id's run, nil if the sidecar is not running it.
func (d *Daemon) leaseRun(id uint64) *leaseRun {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.leases[id]
}

// sendNow sends msgs through the send loop and waits for the outcome.
func (d *Daemon) sendNow(ctx context.Context, what string, msgs ...sdk.Msg) (*chain.Result, error) {
	type out struct {
		res *chain.Result
		err error
	}
	ch := make(chan out, 1)
	d.queue(what, func(r *chain.Result, err error) { ch <- out{r, err} }, msgs...)
	select {
	case o := <-ch:
		return o.res, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
