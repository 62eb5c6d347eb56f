package daemon

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/bid"
	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/exec"
	"github.com/computed-network/computed/provider/metrics"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// endpointDriver runs nothing: its tasks answer at a fixed endpoint.
type endpointDriver struct {
	endpoint string
	started  []string
	stopped  []string
	noneYet  bool // Endpoint fails, as docker's does for a container that exited at once
	onStart  func()
}

func (e *endpointDriver) Name() string { return "wasm" }
func (e *endpointDriver) Start(_ context.Context, cfg exec.TaskConfig) (exec.TaskStatus, error) {
	e.started = append(e.started, cfg.ID)
	if e.onStart != nil {
		e.onStart()
	}
	return exec.TaskStatus{ID: cfg.ID, State: exec.TaskRunning}, nil
}
func (e *endpointDriver) Stop(_ context.Context, id string) error {
	e.stopped = append(e.stopped, id)
	return nil
}
func (e *endpointDriver) Status(_ context.Context, id string) (exec.TaskStatus, error) {
	return exec.TaskStatus{ID: id, State: exec.TaskRunning}, nil
}
func (e *endpointDriver) Logs(context.Context, string, int) ([]byte, error) { return nil, nil }
func (e *endpointDriver) Endpoint(context.Context, string) (string, error) {
	if e.noneYet {
		return "", exec.ErrNoEndpoint
	}
	return e.endpoint, nil
}

// A sidecar restarted while its node is down serves its running leases at once, from the order
// and lease its store kept, with no chain at all (d.chain is nil here); the time it was down is
// charged to the windows it fell in once block times can be read, not before. A lease without
// a kept order (a record from before they were kept) and a replicated job wait for the node.
func TestResumeStoredBeforeNode(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") }))
	defer backend.Close()
	dataDir := t.TempDir()
	// t0 is block 100's time, the lease's start; blocks come one a second, so with 5-block
	// windows window 3 opens at t0+10s, window 4 at t0+15s, window 5 at t0+20s. The sidecar's
	// last probe ran at t0+12.5s, and it comes back now, at about t0+22.5s.
	t0 := time.Now().Add(-22500 * time.Millisecond)
	times, _, store := downtimeFixture(t, t0)
	o := markettypes.Order{Id: 4, Workload: markettypes.Workload{WasmHash: strings.Repeat("ab", 32)}, Sla: markettypes.SLATerms{WindowBlocks: 5}}
	l := markettypes.Lease{Id: 7, OrderId: 4, StartHeight: 100, State: markettypes.LEASE_STATE_ACTIVE, PricePerBlock: sdk.NewInt64Coin("uusdc", 10)}
	ob, lb, err := snapshot(o, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []state.LeaseRecord{
		{LeaseID: 7, OrderID: 4, TaskID: "lease-7", StartHeight: 100, WindowBlocks: 5, LastReportedWindow: 2, State: state.LeaseRunning, GPUs: []string{"GPU-0"}, Order: ob, Lease: lb},
		{LeaseID: 8, OrderID: 5, TaskID: "lease-8", StartHeight: 100, WindowBlocks: 5, State: state.LeaseRunning},
		{LeaseID: 9, OrderID: 6, TaskID: "lease-9", StartHeight: 100, State: state.LeaseRunning, Replicated: true, Order: ob, Lease: lb},
		{LeaseID: 10, OrderID: 6, TaskID: "lease-10", StartHeight: 90, State: state.LeaseClosed, Order: ob, Lease: lb},
	} {
		if err := store.PutLease(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.KeepWindows(7, state.Measured{LastProbeUnixMs: t0.Add(12500 * time.Millisecond).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	drv := &endpointDriver{endpoint: backend.URL}
	d := &Daemon{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(), store: store,
		builder: receipts.NewBuilder(store), engine: bid.New(bid.Policy{}, nil),
		drivers: map[string]exec.Driver{"wasm": drv}, leases: map[uint64]*leaseRun{},
		watcher: chain.NewWatcher(headerRPC{times: times}),
	}
	d.cfg.DataDir = dataDir
	d.reportGrace.Store(8)
	d.head.Store(119) // the last block handled before the kill

	if err := d.resumeStored(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(drv.started) != 1 || drv.started[0] != "lease-7" {
		t.Fatalf("started %v before the node answered, want [lease-7]", drv.started)
	}
	run := d.leaseRun(7)
	if run == nil {
		t.Fatal("lease 7 not running")
	}
	defer run.proxy.Release()
	defer run.proxy.Stop()
	srv := httptest.NewServer(d.routes())
	defer srv.Close()
	res, err := http.Post(srv.URL+"/leases/7/x", "text/plain", strings.NewReader("ping"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "pong" {
		t.Fatalf("request to lease 7 before the node answered: %d %q, want 200 pong", res.StatusCode, body)
	}
	run.mu.Lock()
	served := len(run.pending)
	win := run.pending[0].window
	run.mu.Unlock()
	// Requests served while block 119 is the latest known count in the window holding 120.
	if served != 1 || win != 4 {
		t.Errorf("served %d requests, in window %d; want 1 in window 4", served, win)
	}
	if rec, err := store.GetLease(7); err != nil || rec.Executor != "wasm" || rec.Endpoint != backend.URL || string(rec.Order) != string(ob) {
		t.Errorf("lease 7's record after the restart: %+v, %v", rec, err)
	}
	// Nothing charged yet: which windows the downtime fell in needs the node's block times.
	if kept, _, err := store.PendingWindows(7); err != nil || len(kept) != 0 {
		t.Fatalf("charged before the node answered: %+v, %v", kept, err)
	}

	// The node answers (its head is 121, so window 3 can still be reported) and resume settles lease 7: it is charged the
	// probes missed from t0+12.5s to the restart, each in its window.
	d.head.Store(121)
	d.chargeResumed(context.Background(), run)
	failed, kept, last := failedByWindow(t, store, 7)
	// 13.5 s and 14.5 s; 15.5 s … 19.5 s; from 20.5 s on.
	if failed[3] != 2 || failed[4] != 5 || failed[5] < 1 {
		t.Errorf("failed probes by window %v, want 3:2 4:5 5:≥1", failed)
	}
	if last < t0.Add(22*time.Second).UnixMilli() {
		t.Errorf("last probe kept at t0%+v, want the restart", time.UnixMilli(last).Sub(t0))
	}
	// Charged once: a second settle finds nothing left.
	d.chargeResumed(context.Background(), run)
	if again, _, _ := store.PendingWindows(7); len(again) != len(kept) || again[1].Probes != kept[1].Probes {
		t.Errorf("charged twice: %+v after %+v", again, kept)
	}

	// The node also says the lease closed at block 110, longer ago than the chain takes a
	// closed lease's batches (grace 8 at head 121): the request served since the restart gets
	// no receipt the chain would refuse, and the lease ends.
	d.batcher, err = receipts.NewBatcher(store, receipts.BatcherConfig{MaxBatch: 10, MaxAge: 1}, func(context.Context, state.Batch) (string, error) { return "", nil })
	if err != nil {
		t.Fatal(err)
	}
	d.closedWhileDown(context.Background(), run, markettypes.Lease{Id: 7, ClosedHeight: 110})
	d.finishLease(context.Background(), 7, run, 110)
	if r, err := store.Receipt(7, 1); err == nil {
		t.Errorf("receipted after a close too long ago to anchor: %+v", r)
	}
	if rec, err := store.GetLease(7); err != nil || rec.State != state.LeaseClosed || d.leaseRun(7) != nil {
		t.Errorf("lease 7 after its close: %+v, %v, running %v", rec, err, d.leaseRun(7) != nil)
	}
}

// A sidecar restarted while its node is down keeps the gap it could not charge yet: killed again
// before the node answers, the next restart charges that gap as well as its own. Before, the
// first gap lived only in memory, and the probes run in between hid it.
func TestDowntimeKeptAcrossRestartsBeforeNode(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") }))
	defer backend.Close()
	// As in TestResumeStoredBeforeNode: block 100 at t0, a block a second, 5-block windows
	// (window 3 from t0+10s, 4 from t0+15s, 5 from t0+20s).
	t0 := time.Now().Add(-22500 * time.Millisecond)
	times, _, store := downtimeFixture(t, t0)
	o := markettypes.Order{Id: 4, Workload: markettypes.Workload{WasmHash: strings.Repeat("ab", 32)}, Sla: markettypes.SLATerms{WindowBlocks: 5}}
	l := markettypes.Lease{Id: 7, OrderId: 4, StartHeight: 100, State: markettypes.LEASE_STATE_ACTIVE, PricePerBlock: sdk.NewInt64Coin("uusdc", 10)}
	ob, lb, err := snapshot(o, l)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutLease(state.LeaseRecord{LeaseID: 7, OrderID: 4, TaskID: "lease-7", StartHeight: 100, WindowBlocks: 5, LastReportedWindow: 2,
		State: state.LeaseRunning, GPUs: []string{"GPU-0"}, Order: ob, Lease: lb}); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	// The first restart, at t0+15s with the node down, kept the gap since the last probe
	// (t0+12.5s); its probes ran until t0+17s, when it was killed.
	if err := store.PutPendingDowntime(7, []state.Gap{{FromUnixMs: at(12500 * time.Millisecond), ToUnixMs: at(15 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if err := store.KeepWindows(7, state.Measured{LastProbeUnixMs: at(17 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(), store: store,
		builder: receipts.NewBuilder(store), engine: bid.New(bid.Policy{}, nil),
		drivers: map[string]exec.Driver{"wasm": &endpointDriver{endpoint: backend.URL}}, leases: map[uint64]*leaseRun{},
		watcher: chain.NewWatcher(headerRPC{times: times}),
	}
	d.cfg.DataDir = t.TempDir()
	d.reportGrace.Store(8)
	d.head.Store(119)
	if err := d.resumeStored(context.Background()); err != nil {
		t.Fatal(err)
	}
	run := d.leaseRun(7)
	if run == nil {
		t.Fatal("lease 7 not running")
	}
	defer run.proxy.Release()
	defer run.proxy.Stop()
	gaps, err := store.PendingDowntime(7)
	if err != nil || len(gaps) != 2 || gaps[0].FromUnixMs != at(12500*time.Millisecond) || gaps[1].FromUnixMs != at(17*time.Second) {
		t.Fatalf("pending downtime %+v (%v), want the first restart's gap and this one's from t0+17s", gaps, err)
	}

	d.head.Store(121)
	d.chargeResumed(context.Background(), run)
	failed, _, _ := failedByWindow(t, store, 7)
	// Only the first gap reaches window 3 (t0+10s to t0+15s).
	if failed[3] < 1 || failed[4] < 2 || failed[5] < 1 {
		t.Errorf("failed probes by window %v, want 3:≥1 (the first gap) 4:≥2 5:≥1", failed)
	}
	if gaps, err := store.PendingDowntime(7); err != nil || len(gaps) != 0 {
		t.Errorf("pending downtime after the charge: %+v (%v)", gaps, err)
	}
}

// failedByWindow is what the store keeps of lease's windows: failed probes by window, the data,
// and the last probe time.
func failedByWindow(t *testing.T, store *state.Store, lease uint64) (map[uint64]uint64, []state.WindowData, int64) {
	t.Helper()
	kept, last, err := store.PendingWindows(lease)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[uint64]uint64{}
	for _, k := range kept {
		failed[k.Window] = k.Probes - k.ProbesOK
	}
	return failed, kept, last
}
