package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"
	dto "github.com/prometheus/client_model/go"

	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/metrics"
	"github.com/computed-network/computed/provider/state"
	"github.com/computed-network/computed/testutil/attestation"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

func TestMissedByWindow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int64) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name   string
		now    time.Time
		first  uint64
		bounds []time.Time
		want   []state.WindowData
	}{
		{
			// Probes due at +1 s … +9 s; the one due at +10 s runs on restart.
			name: "spread over three windows", now: at(10_500), first: 3,
			bounds: []time.Time{at(-2000), at(3500), at(8200)},
			want:   []state.WindowData{{Window: 3, Probes: 3}, {Window: 4, Probes: 5}, {Window: 5, Probes: 1}},
		},
		{
			// A probe due exactly when a window opens belongs to it, as a live one would.
			name: "probe on a boundary", now: at(6000), first: 7,
			bounds: []time.Time{at(-500), at(3000)},
			want:   []state.WindowData{{Window: 7, Probes: 2}, {Window: 8, Probes: 3}},
		},
		{
			// The earliest windows can no longer be reported: their probes are not counted.
			name: "down longer than the reportable windows", now: at(3_600_000), first: 900,
			bounds: []time.Time{at(3_590_000), at(3_595_000)},
			want:   []state.WindowData{{Window: 900, Probes: 5}, {Window: 901, Probes: 5}},
		},
		{
			name: "restart within one window", now: at(4200), first: 2,
			bounds: []time.Time{at(-9000)},
			want:   []state.WindowData{{Window: 2, Probes: 3}},
		},
		{name: "restart within an interval misses none", now: at(1900), first: 2, bounds: []time.Time{at(-9000)}},
		{
			// A window that opened and closed between two due probes gets none.
			name: "window shorter than the interval", now: at(3100), first: 4,
			bounds: []time.Time{at(-100), at(1200), at(1800)},
			want:   []state.WindowData{{Window: 4, Probes: 1}, {Window: 6, Probes: 1}},
		},
	} {
		got := missedByWindow(t0, tc.now, time.Second, tc.first, tc.bounds)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := missedByWindow(t0, at(60_000), 0, 1, []time.Time{t0}); got != nil {
		t.Errorf("no probe interval: got %+v", got)
	}
}

// firstReportable agrees with the chain's rule (tickLease skips a window once head is past its
// end plus the grace).
func TestFirstReportable(t *testing.T) {
	const start, w, grace = int64(10), uint64(5), int64(3)
	for head := int64(1); head < 80; head++ {
		want := uint64(1)
		for head > slatypes.WindowEnd(start, w, want)+grace {
			want++
		}
		if got := firstReportable(start, w, head, grace); got != want {
			t.Errorf("head %d: first reportable window %d, want %d", head, got, want)
		}
	}
}

func TestMissedProbes(t *testing.T) {
	for _, tc := range []struct {
		down, interval time.Duration
		windowBlocks   uint64
		blockSeconds   int64
		want           uint64
	}{
		{1500 * time.Millisecond, time.Second, 5, 1, 0}, // a restart within one interval misses none
		{2 * time.Second, time.Second, 5, 1, 1},
		{3500 * time.Millisecond, time.Second, 5, 1, 2},
		{time.Hour, time.Second, 5, 1, 5}, // at most one window's worth
		{time.Hour, 2 * time.Second, 600, 6, 1799},
		{time.Hour, 10 * time.Second, 5, 1, 0}, // probes rarer than the window: the cap is 0
		{time.Minute, 0, 5, 1, 0},
	} {
		if got := missedProbes(tc.down, tc.interval, tc.windowBlocks, tc.blockSeconds); got != tc.want {
			t.Errorf("missedProbes(%v, %v, %d, %d) = %d, want %d", tc.down, tc.interval, tc.windowBlocks, tc.blockSeconds, got, tc.want)
		}
	}
}

// headerRPC serves block header times; the rest of the node is absent.
type headerRPC struct {
	rpcclient.Client
	times map[int64]time.Time
}

func (r headerRPC) Header(_ context.Context, h *int64) (*coretypes.ResultHeader, error) {
	t, ok := r.times[*h]
	if !ok {
		// What CometBFT's RPC client returns for a height the node does not have.
		return nil, &rpctypes.RPCError{Code: -32603, Message: "Internal error", Data: fmt.Sprintf("height %d is not available", *h)}
	}
	return &coretypes.ResultHeader{Header: &cmttypes.Header{Height: *h, Time: t}}, nil
}

// downtimeFixture is a chain of one block a second from height 100 (the lease's start) at t0,
// so with 5-block windows window 3 opens with block 110 at t0+10s, window 4 with block 115 at
// t0+15s, window 5 with block 120; a lease backend; and a store.
func downtimeFixture(t *testing.T, t0 time.Time) (map[int64]time.Time, *httptest.Server, *state.Store) {
	times := map[int64]time.Time{}
	for h := int64(100); h <= 140; h++ {
		times[h] = t0.Add(time.Duration(h-100) * time.Second)
	}
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(backend.Close)
	store, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return times, backend, store
}

// A sidecar down across a whole window reports that window as unavailable, not as a window
// without probes (which reads as fully available): each missed probe counts in the window it
// was due in, from the chain's block times.
func TestChargeDowntime(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	times, backend, store := downtimeFixture(t, t0)
	d := &Daemon{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(), store: store,
		watcher: chain.NewWatcher(headerRPC{times: times}),
	}
	d.height.Store(121)
	d.head.Store(121)
	d.reportGrace.Store(8)
	run := &leaseRun{rec: state.LeaseRecord{LeaseID: 7, StartHeight: 100, WindowBlocks: 5, LastReportedWindow: 2}}
	var err error
	run.proxy, err = ingress.New(ingress.Config{LeaseID: 7, Backend: backend.URL, WindowOf: d.windowOf(run), ProbeInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer run.proxy.Release()
	// The window the sidecar went down in had measured two good probes before.
	if err := run.proxy.RestoreProbes(3, 2, 2); err != nil {
		t.Fatal(err)
	}

	// Down from t0+12.5s (in window 3) to t0+22.2s (window 5 is current).
	d.chargeDowntime(context.Background(), run, t0.Add(12500*time.Millisecond), t0.Add(22200*time.Millisecond))

	for _, want := range []struct {
		window           uint64
		probes, probesOK uint64
		availability     uint32
	}{
		{3, 2 + 2, 2, 5000}, // probes due at 13.5 s and 14.5 s failed
		{4, 5, 0, 0},        // 15.5 s … 19.5 s: the whole window down
		{5, 1, 0, 0},        // 20.5 s; the one due at 21.5 s is the one the restarted prober runs at once
	} {
		st, ok := run.proxy.Snapshot(want.window)
		if !ok {
			t.Fatalf("window %d: no data", want.window)
		}
		if st.Probes != want.probes || st.AvailabilityBps != want.availability {
			t.Errorf("window %d: %d probes at %d bps, want %d at %d", want.window, st.Probes, st.AvailabilityBps, want.probes, want.availability)
		}
	}

	var charged dto.Metric
	if err := d.metrics.DowntimeProbes.Write(&charged); err != nil {
		t.Fatal(err)
	}
	if got := charged.GetCounter().GetValue(); got != 8 {
		t.Errorf("computed_provider_downtime_probes_total = %v, want 8", got)
	}

	// The store has the charge, and the restart as the last probe: a crash right after this
	// restart loses none of it and charges it no second time.
	kept, last, err := store.PendingWindows(7)
	if err != nil {
		t.Fatal(err)
	}
	wantKept := []state.WindowData{{Window: 3, Probes: 2}, {Window: 4, Probes: 5}, {Window: 5, Probes: 1}}
	if !reflect.DeepEqual(kept, wantKept) || last != t0.Add(22200*time.Millisecond).UnixMilli() {
		t.Errorf("kept %+v, last probe %d; want %+v, %d", kept, last, wantKept, t0.Add(22200*time.Millisecond).UnixMilli())
	}

	// Without block times the restart window takes the downtime, at most one window's worth.
	d.watcher = chain.NewWatcher(headerRPC{})
	d.cfg.Pricing.BlockSeconds = 1
	run.rec.LeaseID = 8
	run.proxy.Release()
	run.proxy, err = ingress.New(ingress.Config{LeaseID: 8, Backend: backend.URL, WindowOf: d.windowOf(run), ProbeInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d.chargeDowntime(context.Background(), run, t0.Add(12500*time.Millisecond), t0.Add(22200*time.Millisecond))
	if st, ok := run.proxy.Snapshot(5); !ok || st.Probes != 5 {
		t.Errorf("fallback: window 5 has %d probes (%v), want 5", st.Probes, ok)
	}
	if _, ok := run.proxy.Snapshot(4); ok {
		t.Error("fallback: window 4 was charged")
	}
}

// statusRPC answers the node's status with the heights it keeps.
type statusRPC struct {
	rpcclient.Client
	earliest, latest int64
}

func (r statusRPC) Status(context.Context) (*coretypes.ResultStatus, error) {
	return &coretypes.ResultStatus{SyncInfo: coretypes.SyncInfo{EarliestBlockHeight: r.earliest, LatestBlockHeight: r.latest}}, nil
}

// A sidecar down for longer than its node keeps blocks starts at the node's earliest height
// (the watcher would otherwise stop at the first pruned height on every start); one whose
// cursor the node still serves keeps it.
func TestSkipPruned(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d := &Daemon{log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(), store: store,
		watcher: chain.NewWatcher(statusRPC{earliest: 500, latest: 900})}
	for _, tc := range []struct{ cursor, want int64 }{{100, 499}, {498, 499}, {499, 499}, {700, 700}} {
		if err := store.SetCursor(tc.cursor); err != nil {
			t.Fatal(err)
		}
		got, err := d.skipPruned(context.Background(), tc.cursor)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := store.Cursor()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want || kept != tc.want {
			t.Errorf("cursor %d: resumes after %d, store has %d; want %d", tc.cursor, got, kept, tc.want)
		}
	}
}

// stallRPC is headerRPC that also answers the node's latest height, after failing the first
// request as a keep-alive connection the node closed during the stall does.
type stallRPC struct {
	headerRPC
	latest int64
	asked  *atomic.Int32
}

func (r stallRPC) Status(context.Context) (*coretypes.ResultStatus, error) {
	if r.asked.Add(1) == 1 {
		return nil, errors.New(`post failed: Post "http://127.0.0.1:26657": EOF`)
	}
	return &coretypes.ResultStatus{SyncInfo: coretypes.SyncInfo{LatestBlockHeight: r.latest}}, nil
}

// A sidecar that stood still (a paused VM, SIGSTOP) with its lease, prober and watcher alike,
// charges the probes it missed as failed in the windows they were due in, as a restart does:
// the first probe after the stall finds the gap, learns the head the frozen watcher missed, and
// charges before the watcher reports those windows. Gaps a slow probe leaves are not stalls.
func TestChargeStall(t *testing.T) {
	// As in TestChargeDowntime, with the sidecar stalled from t0+12.5s to now, t0+22.2s.
	t0 := time.Now().Add(-22200 * time.Millisecond)
	times, backend, store := downtimeFixture(t, t0)
	d := &Daemon{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(), store: store,
		watcher: chain.NewWatcher(stallRPC{headerRPC{times: times}, 121, new(atomic.Int32)}),
	}
	d.height.Store(112) // where the watcher froze, in window 3
	d.head.Store(112)
	d.reportGrace.Store(8)
	run := &leaseRun{rec: state.LeaseRecord{LeaseID: 7, StartHeight: 100, WindowBlocks: 5, LastReportedWindow: 2}}
	cfg := d.ingressConfig(run, backend.URL)
	cfg.ProbeInterval = time.Second
	var err error
	run.proxy, err = ingress.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer run.proxy.Release()
	if err := run.proxy.RestoreProbes(3, 2, 2); err != nil {
		t.Fatal(err)
	}
	run.probeClock = t0.Add(12500 * time.Millisecond)

	cfg.OnProbe(5, true) // the first probe after the stall, as the prober reports it

	if got := d.head.Load(); got != 121 {
		t.Errorf("head after the stall = %d, want the node's 121", got)
	}
	var stalls dto.Metric
	if err := d.metrics.Stalls.Write(&stalls); err != nil || stalls.GetCounter().GetValue() != 1 {
		t.Errorf("computed_provider_stalls_total = %v (%v), want 1", stalls.GetCounter().GetValue(), err)
	}
	probes := func(w uint64) uint64 {
		st, _ := run.proxy.Snapshot(w)
		return st.Probes
	}
	for _, want := range []struct{ window, probes uint64 }{{3, 2 + 2}, {4, 5}, {5, 1}} {
		if got := probes(want.window); got != want.probes {
			t.Errorf("window %d: %d probes, want %d", want.window, got, want.probes)
		}
	}
	if st, _ := run.proxy.Snapshot(4); st.AvailabilityBps != 0 {
		t.Errorf("window 4, stalled throughout, at %d bps", st.AvailabilityBps)
	}
	kept, _, err := store.PendingWindows(7)
	if err != nil || len(kept) != 3 {
		t.Fatalf("store keeps %+v (%v), want the three charged windows", kept, err)
	}

	// The watcher, next, finds nothing left to charge; nor does a gap a slow probe leaves
	// (a timeout of one interval, then the next probe at once).
	d.chargeStall(context.Background(), run, time.Now())
	run.probeClock = time.Now()
	d.chargeStall(context.Background(), run, run.probeClock.Add(2500*time.Millisecond))
	for _, want := range []struct{ window, probes uint64 }{{3, 4}, {4, 5}, {5, 1}} {
		if got := probes(want.window); got != want.probes {
			t.Errorf("after no stall: window %d has %d probes, want %d", want.window, got, want.probes)
		}
	}
}

// TestGraceUnknownUntilTheChainAnswers: a failed read of report_grace_blocks is no deadline
// (before, it stood for 1 block, and every window more than a block old was skipped as too late
// and judged MISSING); the value read is kept, and read again after graceRefreshBlocks.
func TestGraceUnknownUntilTheChainAnswers(t *testing.T) {
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	var node *queryNode
	d.chain, node = fakeChain(t)
	d.head.Store(1000)
	ctx := context.Background()
	if g := d.grace(ctx); g != graceUnknown {
		t.Fatalf("grace before the chain answers = %d, want graceUnknown", g)
	}
	params := slatypes.DefaultParams()
	params.ReportGraceBlocks = 6
	node.set("/computed.sla.v1.Query/Params", &slatypes.QueryParamsResponse{Params: params})
	if g := d.grace(ctx); g != graceUnknown {
		t.Fatalf("grace asked again at the same head: %d, want graceUnknown until the next", g)
	}
	d.head.Store(1001)
	if g := d.grace(ctx); g != 6 {
		t.Fatalf("grace = %d, want 6", g)
	}
	params.ReportGraceBlocks = 9
	node.set("/computed.sla.v1.Query/Params", &slatypes.QueryParamsResponse{Params: params})
	if g := d.grace(ctx); g != 6 {
		t.Fatalf("grace read again within graceRefreshBlocks: %d", g)
	}
	d.head.Store(1001 + graceRefreshBlocks)
	if g := d.grace(ctx); g != 9 {
		t.Fatalf("grace after graceRefreshBlocks = %d, want 9", g)
	}
	node.mu.Lock()
	delete(node.answers, "/computed.sla.v1.Query/Params")
	node.mu.Unlock()
	d.head.Store(1000 + 3*graceRefreshBlocks)
	if g := d.grace(ctx); g != 9 {
		t.Fatalf("a failed refresh gave %d, want the last value read (9)", g)
	}
}

// Without NRAS's signing keys, evidence goes to the chain only when params list every kid it
// names: otherwise the chain refuses it and the fee buys nothing.
func TestKidsListed(t *testing.T) {
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	var node *queryNode
	d.chain, node = fakeChain(t)
	issuer, err := attestation.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	token, err := issuer.ValidEAT(make([]byte, 32), time.Now(), 2)
	if err != nil {
		t.Fatal(err)
	}
	params := attesttypes.DefaultParams()
	node.set("/computed.attest.v1.Query/Params", &attesttypes.QueryParamsResponse{Params: params})
	if err := d.kidsListed(context.Background(), token); err == nil || !strings.Contains(err.Error(), issuer.Kid) {
		t.Fatalf("kidsListed = %v, want the unlisted kid named", err)
	}
	params.NrasKeys = append(params.NrasKeys, attesttypes.NRASKey{Kid: issuer.Kid, Key: string(issuer.PublicKeyPEM())})
	node.set("/computed.attest.v1.Query/Params", &attesttypes.QueryParamsResponse{Params: params})
	if err := d.kidsListed(context.Background(), token); err != nil {
		t.Fatalf("kidsListed with the kid listed: %v", err)
	}
}
