package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	gogoproto "github.com/cosmos/gogoproto/proto"

	"github.com/computed-network/computed/provider/bid"
	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/exec"
	"github.com/computed-network/computed/provider/gpu"
	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/state"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// finishDaemon is a sidecar running lease 7 (lease7: started at 100, 5-block windows) behind a
// real ingress, with its transactions left in the send queues for the test to read.
func finishDaemon(t *testing.T) (*Daemon, *leaseRun) {
	t.Helper()
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	d.engine = bid.New(bid.Policy{}, nil)
	d.urgent, d.txs = make(chan txJob, 16), make(chan txJob, 16)
	d.provider = "provider"
	d.reportGrace.Store(8)
	run := lease7()
	run.rec.OrderID, run.rec.TaskID, run.rec.State = 3, "lease-7", state.LeaseRunning
	var err error
	if run.proxy, err = ingress.New(d.ingressConfig(run, pong(t).URL)); err != nil {
		t.Fatal(err)
	}
	if err := store.PutLease(run.rec); err != nil {
		t.Fatal(err)
	}
	d.leases = map[uint64]*leaseRun{7: run}
	return d, run
}

// gpuDaemon is a sidecar with n mock GPUs that bids on WebAssembly orders through drv, and the
// orders it fits (one GPU each, by id).
func gpuDaemon(t *testing.T, n int, drv exec.Driver) (*Daemon, func(id uint64) markettypes.Order) {
	t.Helper()
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	devices, err := gpu.NewMock(gpu.MockConfig{Count: n}).Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d.engine = bid.New(bid.Policy{Metro: "FRA", Denom: "uusdc", BasePerGPUHour: map[string]int64{devices[0].SKU: 3_600_000},
		FloorPerBlock: 1, SupportsWASM: true}, devices)
	d.drivers = map[string]exec.Driver{"wasm": drv}
	d.urgent, d.txs = make(chan txJob, 16), make(chan txJob, 16)
	d.provider, d.leases, d.inflight = "provider", map[uint64]*leaseRun{}, map[uint64]int{}
	return d, func(id uint64) markettypes.Order {
		return markettypes.Order{Id: id, State: markettypes.ORDER_STATE_OPEN, Owner: "buyer",
			Requirements:     markettypes.Requirements{GpuSku: devices[0].SKU, GpuCount: 1, Metro: "FRA"},
			MaxPricePerBlock: sdk.NewInt64Coin("uusdc", 1_000), Workload: markettypes.Workload{WasmHash: strings.Repeat("ab", 32)}, Replicas: 1}
	}
}

// reported is the windows of the SLA reports queued so far.
func reported(d *Daemon) []uint64 {
	var out []uint64
	for {
		select {
		case j := <-d.urgent:
			for _, m := range j.msgs {
				if r, ok := m.(*slatypes.MsgSubmitSLAReport); ok {
					out = append(out, r.Window)
				}
			}
		default:
			return out
		}
	}
}

// A lease whose duration is a whole number of windows closes in the block its last window ends,
// and the chain judges that window: the sidecar, which stops the lease on that block's events,
// reports it then. Before, it stopped the lease first and reported nothing more, and the window
// was judged MISSING, a penalty on nearly every lease that ran its course.
func TestLastWindowReportedAtClose(t *testing.T) {
	d, run := finishDaemon(t)
	run.rec.LastReportedWindow = 1
	d.head.Store(110)
	d.height.Store(110)
	d.finishLease(context.Background(), 7, run, 110) // window 2 is (105, 110]
	if got := reported(d); len(got) != 1 || got[0] != 2 {
		t.Fatalf("reports queued at the close in window 2's last block: %v, want [2]", got)
	}
	if d.running(7) {
		t.Error("lease 7 still running")
	}

	// Closed inside a window (the buyer closed it): that window is cut short, the chain judges
	// only those that ended by the close, and the sidecar reports just those.
	// (Window 1 is due by 105+8: at 112 a report still lands in time.)
	d, run = finishDaemon(t)
	d.head.Store(112)
	d.height.Store(112)
	d.finishLease(context.Background(), 7, run, 112)
	if got := reported(d); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("reports queued at a close in window 3: %v, want [1 2]", got)
	}
}

// A window whose due height is the last block built is settled: a report would land after it
// and be refused (a fee for nothing). It is skipped, and its data leaves the store.
func TestReportSkippedFromItsDueHeight(t *testing.T) {
	d, run := finishDaemon(t)
	d.head.Store(113) // window 1 ends at 105 and is due by 105+8: judged in block 113
	d.height.Store(113)
	d.reportEnded(context.Background(), run, 113)
	if got := reported(d); len(got) != 1 || got[0] != 2 {
		t.Fatalf("reports queued at head 113: %v, want [2]", got)
	}
	if done, _ := d.store.WindowReported(7, 1); !done {
		t.Error("the settled window 1 is still waiting in the store")
	}
}

// A report whose first send the node lost is sent again after the lease closed, while its
// deadline has not passed; not after. Before, the close ended the retries.
func TestReportRetriedUntilDeadline(t *testing.T) {
	d, run := finishDaemon(t)
	d.head.Store(110)
	d.height.Store(110)
	d.reportWindow(context.Background(), run, 2) // window 2 is due at 110+8
	first := <-d.urgent
	d.finishLease(context.Background(), 7, run, 110)
	lost := errors.New(`post failed: Post "http://127.0.0.1:26657": EOF`)
	first.done(nil, lost)
	var again txJob
	select {
	case again = <-d.urgent: // resent after the backoff
	case <-time.After(10 * time.Second):
		t.Fatal("the report was not sent again after the lease closed")
	}
	if r, ok := again.msgs[0].(*slatypes.MsgSubmitSLAReport); !ok || r.Window != 2 {
		t.Fatalf("resent %v, want window 2's report", again.msgs)
	}
	d.head.Store(118) // the deadline's block is built: a resend cannot land in time
	again.done(nil, lost)
	select {
	case j := <-d.urgent:
		t.Fatalf("resent %v after the deadline", j.msgs)
	case <-time.After(5 * chain.DefaultBackoff.First):
	}
	if done, _ := d.store.WindowReported(7, 2); done {
		t.Error("a report the chain never took is marked reported")
	}
}

// A launch that fails after its workload started (here its endpoint: a container that exited
// at once) stops the workload and frees the GPUs the bid reserved; before, both stayed, and with
// no run for the lease its close freed nothing.
func TestFailedLaunchFreesGPUs(t *testing.T) {
	drv := &endpointDriver{noneYet: true}
	d, order := gpuDaemon(t, 2, drv)
	o := order(3)
	if dec := d.engine.Evaluate(o); !dec.Bid {
		t.Fatalf("no bid: %s", dec.Reason)
	}
	if len(d.engine.Held(3)) != 1 {
		t.Fatal("the bid reserved no GPU")
	}
	l := markettypes.Lease{Id: 7, OrderId: 3, StartHeight: 100, PricePerBlock: sdk.NewInt64Coin("uusdc", 10)}
	err := d.launch(context.Background(), o, l, false)
	if !errors.Is(err, exec.ErrNoEndpoint) {
		t.Fatalf("launch: %v, want ErrNoEndpoint", err)
	}
	if held := d.engine.Held(3); len(held) != 0 {
		t.Errorf("GPUs still held after the failed launch: %v", held)
	}
	if len(drv.stopped) != 1 || drv.stopped[0] != "lease-7" {
		t.Errorf("workloads stopped: %v, want [lease-7]", drv.stopped)
	}
	if d.running(7) {
		t.Error("lease 7 counted as running")
	}
}

// A bid resent after a lost answer (the first copy landed and won) is refused once bidding has
// closed; if the lease is already running by then, its GPUs stay booked to it. Before, the
// refusal freed them and the next order was fitted onto GPUs a workload was using.
func TestRefusedResendKeepsLeaseGPUs(t *testing.T) {
	d, order := gpuDaemon(t, 1, &endpointDriver{})
	refused := fmt.Errorf("%w: %s", chain.ErrTxFailed, markettypes.ErrOrderNotOpen.Error())

	d.considerOrder(context.Background(), order(3))
	resend := <-d.urgent
	// The first copy won: the watcher launched the lease on the order's GPU.
	run := lease7()
	run.rec.OrderID = 3
	d.leases[7] = run
	resend.done(nil, refused)
	if held := d.engine.Held(3); len(held) != 1 {
		t.Fatalf("the running lease's GPU was freed by the refused resend (held %v)", held)
	}
	if dec := d.engine.Evaluate(order(4)); dec.Bid {
		t.Fatal("bid on order 4 with the only GPU in use")
	}

	// A bid refused with no lease of the order running frees its GPU.
	delete(d.leases, 7)
	d.engine.Release(3)
	d.considerOrder(context.Background(), order(5))
	(<-d.urgent).done(nil, refused)
	if held := d.engine.Held(5); len(held) != 0 {
		t.Fatalf("a refused bid's GPU stays held: %v", held)
	}
}

// The refusal of a bid's resend can come while the lease its first copy won is launching (a
// docker start takes seconds), before the run is shared: its GPUs stay the lease's. Before, the
// refusal freed them and the next order was fitted onto GPUs the workload was about to use.
func TestRefusedResendDuringLaunchKeepsGPUs(t *testing.T) {
	drv := &endpointDriver{endpoint: pong(t).URL}
	d, order := gpuDaemon(t, 1, drv)
	refused := fmt.Errorf("%w: %s", chain.ErrTxFailed, markettypes.ErrBiddingClosed.Error())
	d.considerOrder(context.Background(), order(3))
	resend := <-d.urgent
	drv.onStart = func() { resend.done(nil, refused) }
	l := markettypes.Lease{Id: 7, OrderId: 3, StartHeight: 100, PricePerBlock: sdk.NewInt64Coin("uusdc", 10)}
	if err := d.launch(context.Background(), order(3), l, false); err != nil {
		t.Fatal(err)
	}
	defer d.leaseRun(7).proxy.Release()
	if held := d.engine.Held(3); len(held) != 1 {
		t.Fatalf("the launching lease's GPU was freed by the refused resend (held %v)", held)
	}
	if dec := d.engine.Evaluate(order(4)); dec.Bid {
		t.Fatal("bid on order 4 with the only GPU in use")
	}
}

// TestRenewalBesideWatcher: re-attesting waits for two transactions, several blocks; the block
// that starts it is handled (cursor saved) without waiting, and a block that comes due while a
// renewal still waits does not start a second.
func TestRenewalBesideWatcher(t *testing.T) {
	d, _ := gpuDaemon(t, 1, nil)
	started, release := make(chan struct{}, 4), make(chan struct{})
	d.renew = func(context.Context) error {
		started <- struct{}{}
		<-release
		return nil
	}
	handled := make(chan error, 1)
	go func() { handled <- d.handleBlock(context.Background(), chain.Block{Height: 50}) }()
	select {
	case err := <-handled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handling block 50 waited for the renewal")
	}
	if c, _ := d.store.Cursor(); c != 50 {
		t.Fatalf("cursor %d after block 50", c)
	}
	<-started
	if err := d.handleBlock(context.Background(), chain.Block{Height: 100}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
		t.Fatal("a second renewal started while the first waited")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for d.renewing.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := d.handleBlock(context.Background(), chain.Block{Height: 150}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no renewal after the first finished")
	}
}

// TestRelaunchKeepsRunningLeasesGPUs: a lease launched again (its last launch failed) takes its
// GPUs back from an open bid, but not from another lease now running on them: it moves to free
// GPUs instead, and the running lease keeps its own.
func TestRelaunchKeepsRunningLeasesGPUs(t *testing.T) {
	d, order := gpuDaemon(t, 4, nil)
	all := func(o markettypes.Order) []string {
		o.MaxPricePerBlock = sdk.NewInt64Coin("uusdc", 1_000_000)
		dec := d.engine.Evaluate(o)
		if !dec.Bid {
			t.Fatalf("order %d: %s", o.Id, dec.Reason)
		}
		return dec.GPUs
	}
	running := order(2)
	running.Requirements.GpuCount = 2
	runningGPUs := all(running) // GPUs 0 and 1
	d.leases[20] = &leaseRun{rec: state.LeaseRecord{LeaseID: 20, OrderID: 2, GPUs: runningGPUs}}
	bidGPUs := all(order(3)) // GPU 2, an open bid's
	relaunched := order(1)
	relaunched.Requirements.GpuCount = 2
	rec := state.LeaseRecord{LeaseID: 10, OrderID: 1, GPUs: []string{runningGPUs[0], bidGPUs[0]}}
	d.holdGPUs(relaunched, &rec)
	if len(rec.GPUs) != 2 || slices.Contains(rec.GPUs, runningGPUs[0]) || !slices.Contains(rec.GPUs, bidGPUs[0]) {
		t.Fatalf("relaunched lease got %v; running lease has %v, the bid had %v", rec.GPUs, runningGPUs, bidGPUs)
	}
	if got := d.engine.Held(2); !slices.Equal(got, slices.Sorted(slices.Values(runningGPUs))) {
		t.Fatalf("running lease's GPUs: %v, want %v", got, runningGPUs)
	}
	if got := d.engine.Held(1); !slices.Equal(got, slices.Sorted(slices.Values(rec.GPUs))) {
		t.Fatalf("engine holds %v for the relaunched lease, its record says %v", got, rec.GPUs)
	}
	if got := d.engine.Held(3); len(got) != 0 {
		t.Fatalf("the open bid still holds %v", got)
	}
}

// TestClosedLeaseKeptUntilReportsLand: the reports a close queues are in memory only, so the
// store keeps the lease running (journal and window data too) until the chain takes them or
// their deadlines pass: a crash in between resumes the lease, finds it closed and reports again.
func TestClosedLeaseKeptUntilReportsLand(t *testing.T) {
	waitState := func(d *Daemon, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			rec, err := d.store.GetLease(7)
			if err != nil {
				t.Fatal(err)
			}
			if rec.State == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("lease 7's record is %v, want %v", rec.State, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	d, run := finishDaemon(t)
	run.rec.LastReportedWindow = 1
	if err := d.store.MarkWindowReported(7, 1); err != nil { // window 1's report landed
		t.Fatal(err)
	}
	d.head.Store(110)
	d.height.Store(110)
	d.finishLease(context.Background(), 7, run, 110) // window 2's report queued
	job := <-d.urgent
	time.Sleep(50 * time.Millisecond)
	waitState(d, state.LeaseClosing)
	if rec, _ := d.store.GetLease(7); rec.ClosedHeight != 110 {
		t.Fatalf("closing record's close height %d, want 110", rec.ClosedHeight)
	}
	job.done(&chain.Result{Height: 111}, nil) // the chain took it
	waitState(d, state.LeaseClosed)

	// Never taken: the record closes once the report's deadline (110 + 8) has passed.
	d, run = finishDaemon(t)
	run.rec.LastReportedWindow = 1
	d.head.Store(110)
	d.height.Store(110)
	d.finishLease(context.Background(), 7, run, 110)
	<-d.urgent
	time.Sleep(50 * time.Millisecond)
	waitState(d, state.LeaseClosing)
	d.head.Store(118)
	waitState(d, state.LeaseClosed)

	// A report sent before the close (in memory only, LastReportedWindow already past it) is
	// waited for too: the close itself queues nothing.
	d, run = finishDaemon(t)
	run.rec.LastReportedWindow = 2
	d.head.Store(111)
	d.height.Store(111)
	d.finishLease(context.Background(), 7, run, 111)
	if got := reported(d); len(got) != 0 {
		t.Fatalf("the close queued %v, want nothing", got)
	}
	time.Sleep(50 * time.Millisecond)
	waitState(d, state.LeaseClosing)
	for _, w := range []uint64{1, 2} {
		if err := d.store.MarkWindowReported(7, w); err != nil {
			t.Fatal(err)
		}
	}
	waitState(d, state.LeaseClosed)
	d.stopped.Store(true)
}

// TestCommitFoundOnChainIsNotResent: the sidecar stopped after its commit landed and before the
// store learned it. Restarted past the commit deadline, a resend would be refused for the phase
// and the reveal never sent (the replica slashed): it finds its commitment on chain and reveals.
func TestCommitFoundOnChainIsNotResent(t *testing.T) {
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	d.urgent, d.txs = make(chan txJob, 16), make(chan txJob, 16)
	var node *queryNode
	d.chain, node = fakeChain(t)
	d.provider = d.chain.Provider().String()
	digest, salt := []byte("digest-of-the-job-result-32bytes"), []byte("salt-salt-salt-salt-salt-salt-32")
	hash := slatypes.Commitment(digest, d.chain.Provider(), salt)
	if err := store.PutCommit(3, state.Commit{LeaseID: 7, ResultDigest: digest, Salt: salt, CommitHash: hash}); err != nil {
		t.Fatal(err)
	}
	node.set("/computed.sla.v1.Query/Replication", &slatypes.QueryReplicationResponse{Replication: slatypes.Replication{
		OrderId: 3, Status: slatypes.REPLICATION_STATUS_REVEALING, CommitDeadline: 100, RevealDeadline: 105,
		Members: []slatypes.Replica{{LeaseId: 7, Provider: d.provider, Commitment: hash}},
	}})
	d.head.Store(101)
	run := &leaseRun{order: markettypes.Order{Id: 3}, rec: state.LeaseRecord{LeaseID: 7, Replicated: true}}
	done := make(chan error, 1)
	go func() { done <- d.replicateOnce(context.Background(), run) }()
	var job txJob
	select {
	case job = <-d.urgent:
	case err := <-done:
		t.Fatalf("replicateOnce returned %v before sending anything", err)
	case <-time.After(5 * time.Second):
		t.Fatal("nothing sent")
	}
	reveal, ok := job.msgs[0].(*slatypes.MsgRevealResult)
	if !ok {
		t.Fatalf("sent %T first, want the reveal: the commit on chain was sent again", job.msgs[0])
	}
	if reveal.LeaseId != 7 || string(reveal.Salt) != string(salt) {
		t.Fatalf("reveal %+v", reveal)
	}
	job.done(&chain.Result{Height: 102}, nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c, err := store.GetCommit(3)
	if err != nil || !c.Committed || !c.Revealed {
		t.Fatalf("stored commit %+v, %v: want committed and revealed", c, err)
	}
}

// TestStartRenewsValidRecordBeside: at start-up a record still valid but due for renewal is
// renewed beside the watcher (the leases resumed next have reports due), not before it; with no
// valid record, start-up attests before going on.
func TestStartRenewsValidRecordBeside(t *testing.T) {
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	var node *queryNode
	d.chain, node = fakeChain(t)
	d.provider = d.chain.Provider().String()
	d.cfg.Attest.RenewBefore.Duration = 10 * time.Minute
	renewed := make(chan struct{}, 4)
	release := make(chan struct{})
	d.renew = func(context.Context) error {
		renewed <- struct{}{}
		<-release
		return nil
	}
	defer close(release)
	soon := time.Now().Add(5 * time.Minute).Unix() // inside renew_before
	node.set("/computed.attest.v1.Query/Attestation", &attesttypes.QueryAttestationResponse{Records: []attesttypes.AttestationRecord{
		{Provider: d.provider, ValidUntil: soon, EvidenceHash: []byte("hash")},
	}})
	start := make(chan error, 1)
	go func() { start <- d.attestAtStart(context.Background()) }()
	select {
	case err := <-start:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("start-up waited for the renewal of a record still valid")
	}
	select {
	case <-renewed:
	case <-time.After(5 * time.Second):
		t.Fatal("the record due for renewal was not renewed")
	}
	if h := d.tokenHash.Load(); h == nil || string(*h) != "hash" {
		t.Fatal("the valid record's evidence hash is not kept for receipts")
	}

	// Valid for longer than renew_before: nothing to do.
	d2 := receiptDaemon(t, store, dataDir)
	d2.chain, d2.provider, d2.renew = d.chain, d.provider, d.renew
	d2.cfg.Attest.RenewBefore.Duration = time.Minute
	if err := d2.attestAtStart(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-renewed:
		t.Fatal("renewed a record valid beyond renew_before")
	case <-time.After(50 * time.Millisecond):
	}
}

// TestLateBidGetsGPUs: a bid of ours sent before a restart lands after the restart adopted the
// open bids: its creation reserves GPUs for it while its order is open, so they are not
// promised to another order; a replayed creation of a bid whose order has cleared reserves none.
func TestLateBidGetsGPUs(t *testing.T) {
	d, order := gpuDaemon(t, 2, nil)
	var node *queryNode
	d.chain, node = fakeChain(t)
	d.bids = map[uint64]uint64{}
	o := order(5)
	node.set("/computed.market.v1.Query/Order", &markettypes.QueryOrderResponse{Order: o})
	block := chain.Block{Height: 10, Events: []gogoproto.Message{&markettypes.EventBidCreated{BidId: 9, OrderId: 5, Provider: d.provider}}}
	if err := d.handleBlock(context.Background(), block); err != nil {
		t.Fatal(err)
	}
	if got := d.engine.Held(5); len(got) != 1 {
		t.Fatalf("GPUs held for the late bid's order: %v, want 1", got)
	}
	if dec := d.engine.Evaluate(order(6)); !dec.Bid || slices.Contains(dec.GPUs, d.engine.Held(5)[0]) {
		t.Fatalf("order 6 was fitted onto the late bid's GPU: %+v", dec)
	}

	o.Id, o.State = 7, markettypes.ORDER_STATE_ACTIVE
	node.set("/computed.market.v1.Query/Order", &markettypes.QueryOrderResponse{Order: o})
	block = chain.Block{Height: 11, Events: []gogoproto.Message{&markettypes.EventBidCreated{BidId: 10, OrderId: 7, Provider: d.provider}}}
	if err := d.handleBlock(context.Background(), block); err != nil {
		t.Fatal(err)
	}
	if got := d.engine.Held(7); len(got) != 0 {
		t.Fatalf("GPUs held for a cleared order's replayed bid: %v", got)
	}
}

// TestRestartReportsClosingLease: the sidecar was killed after a lease closed and before the
// chain took its last report. At the restart the closing record is not run again; its windows
// are rebuilt from what the store kept and the report is sent again, and the record closes once
// the chain takes it.
func TestRestartReportsClosingLease(t *testing.T) {
	d, store, _ := settleDaemon(t)
	o := markettypes.Order{Id: 3, Sla: markettypes.SLATerms{WindowBlocks: 5}, Workload: markettypes.Workload{WasmHash: strings.Repeat("ab", 32)}}
	l := markettypes.Lease{Id: 7, OrderId: 3, StartHeight: 100, PricePerBlock: sdk.NewInt64Coin("uusdc", 10)}
	ob, lb, err := snapshot(o, l)
	if err != nil {
		t.Fatal(err)
	}
	rec := state.LeaseRecord{LeaseID: 7, OrderID: 3, TaskID: "lease-7", StartHeight: 100, WindowBlocks: 5,
		State: state.LeaseClosing, ClosedHeight: 110, LastReportedWindow: 1, Order: ob, Lease: lb}
	if err := store.PutLease(rec); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkWindowReported(7, 1); err != nil {
		t.Fatal(err)
	}
	if err := d.resumeStored(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.running(7) {
		t.Fatal("a closing lease was run again at the restart")
	}
	if err := d.resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	job, r, ok := nextReport(t, d, "the closing lease's last window was not reported again")
	if !ok || r.LeaseId != 7 || r.Window != 2 {
		t.Fatalf("sent %v, want lease 7's window 2 report", job.msgs[0])
	}
	if got, _ := store.GetLease(7); got.State != state.LeaseClosing {
		t.Fatalf("record %s before the chain took the report", got.State)
	}
	job.done(&chain.Result{Height: 112}, nil)
	awaitRecordClosed(t, store, 7)
	d.stopped.Store(true)
}

// settleDaemon is a sidecar at head 111 with an 8-block report grace, sending into queues the
// test reads, over a chain fake whose answers the test sets.
func settleDaemon(t *testing.T) (*Daemon, *state.Store, *queryNode) {
	t.Helper()
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	var node *queryNode
	d.chain, node = fakeChain(t)
	d.provider = d.chain.Provider().String()
	d.urgent, d.txs = make(chan txJob, 16), make(chan txJob, 16)
	d.leases, d.engine = map[uint64]*leaseRun{}, bid.New(bid.Policy{}, nil)
	d.reportGrace.Store(8)
	d.head.Store(111)
	return d, store, node
}

// nextReport is the next urgent transaction and the SLA report it carries (ok false if it
// carries none); the test fails with missing when none comes.
func nextReport(t *testing.T, d *Daemon, missing string) (txJob, *slatypes.MsgSubmitSLAReport, bool) {
	t.Helper()
	select {
	case job := <-d.urgent:
		r, ok := job.msgs[0].(*slatypes.MsgSubmitSLAReport)
		return job, r, ok
	case <-time.After(5 * time.Second):
		t.Fatal(missing)
		return txJob{}, nil, false
	}
}

// awaitRecordClosed waits for lease's record to be closed once the chain took its reports.
func awaitRecordClosed(t *testing.T, store *state.Store, lease uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := store.GetLease(lease)
		if got.State == state.LeaseClosed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %s after the chain took the report", got.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A lease that closed while the sidecar was down, and that the restart did not serve again
// (its launch failed), still has the windows that ended by its close reported, from the window
// data the store kept: unreported, they are judged MISSING.
func TestResumeReportsLeaseClosedWhileDown(t *testing.T) {
	d, store, node := settleDaemon(t)
	o := markettypes.Order{Id: 3, Sla: markettypes.SLATerms{WindowBlocks: 5}, Workload: markettypes.Workload{WasmHash: strings.Repeat("ab", 32)}}
	l := markettypes.Lease{Id: 7, OrderId: 3, StartHeight: 100, PricePerBlock: sdk.NewInt64Coin("uusdc", 10), State: markettypes.LEASE_STATE_ACTIVE}
	ob, lb, err := snapshot(o, l)
	if err != nil {
		t.Fatal(err)
	}
	rec := state.LeaseRecord{LeaseID: 7, OrderID: 3, TaskID: "lease-7", StartHeight: 100, WindowBlocks: 5,
		State: state.LeaseRunning, LastReportedWindow: 1, Order: ob, Lease: lb}
	if err := store.PutLease(rec); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkWindowReported(7, 1); err != nil {
		t.Fatal(err)
	}
	// Window 2 (blocks 106..110) was measured before the crash: 9 of 10 probes answered.
	if err := store.KeepWindows(7, state.Measured{Windows: []state.WindowData{{Window: 2, Probes: 10, ProbesOK: 9}}}); err != nil {
		t.Fatal(err)
	}
	closed := l
	closed.State, closed.ClosedHeight = markettypes.LEASE_STATE_CLOSED, 110
	node.set("/computed.market.v1.Query/Lease", &markettypes.QueryLeaseResponse{Lease: closed})
	node.set("/computed.escrow.v1.Query/Stream", &escrowtypes.QueryStreamResponse{})
	if err := d.resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	job, r, ok := nextReport(t, d, "the last window of a lease closed while the sidecar was down was not reported")
	if !ok || r.LeaseId != 7 || r.Window != 2 || r.AvailabilityBps != 9_000 {
		t.Fatalf("sent %v, want lease 7's window 2 report at 9000 bps", job.msgs[0])
	}
	if got, _ := store.GetLease(7); got.State != state.LeaseClosing || got.ClosedHeight != 110 {
		t.Fatalf("record %s (closed at %d) before the chain took the report; want closing at 110", got.State, got.ClosedHeight)
	}
	job.done(&chain.Result{Height: 112}, nil)
	awaitRecordClosed(t, store, 7)
	d.stopped.Store(true)
}
