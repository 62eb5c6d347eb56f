package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	dto "github.com/prometheus/client_model/go"

	"github.com/computed-network/computed/provider/bid"
	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/metrics"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// A sidecar killed between two blocks loses none of the requests and probes its ingress had
// measured since the last block: the restart replays them from the lease's journal into the next
// receipt and their SLA window, and neither the replay nor a second restart counts anything
// twice.
func TestJournalAcrossKill(t *testing.T) {
	backend := pong(t)
	store, dataDir := tempStore(t)
	var err error
	newDaemon := func() *Daemon {
		d := receiptDaemon(t, store, dataDir)
		d.head.Store(101) // window 1 of a lease started at 100 with 5-block windows
		// The restarts are milliseconds apart: no probe is missed, whatever the block times.
		d.watcher, d.cfg.Pricing.BlockSeconds = chain.NewWatcher(headerRPC{}), 1
		d.reportGrace.Store(8)
		return d
	}
	// start is startLease's part of a (re)start that concerns the measurements.
	start := func(d *Daemon) *leaseRun {
		run := lease7()
		j, rep := d.openJournal(7)
		if j == nil {
			t.Fatal("no journal")
		}
		run.journal = j
		run.proxy, err = ingress.New(d.ingressConfig(run, backend.URL))
		if err != nil {
			t.Fatal(err)
		}
		d.restoreWindows(context.Background(), run, rep, false)
		return run
	}
	var served []ingress.Sample
	serve := func(run *leaseRun, n int) {
		for range n {
			rec := httptest.NewRecorder()
			run.proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte("ping"))))
			if rec.Code != http.StatusOK {
				t.Fatalf("request through the ingress: %d", rec.Code)
			}
		}
		run.mu.Lock()
		served = served[:0]
		for _, ws := range run.pending {
			served = append(served, ws.s)
		}
		run.mu.Unlock()
	}
	// receiptInput is the input commitment of a receipt over samples, as receiptPending makes it.
	receiptInput := func(samples []ingress.Sample) []byte {
		var in []byte
		for _, s := range samples {
			in = append(in, ingress.EncodeSample(s)...)
		}
		h := sha256.Sum256(in)
		return h[:]
	}

	d := newDaemon()
	run := start(d)
	serve(run, 3)
	// Receipt 1 takes the three requests. The segment holding them is put back afterwards, as
	// if the sidecar had been killed after the store's commit and before the segment's removal:
	// the store's mark must keep them from being replayed.
	segs, _ := os.ReadDir(d.journalDir(7))
	if len(segs) != 1 {
		t.Fatalf("journal segments after 3 requests: %d, want 1", len(segs))
	}
	seg1 := filepath.Join(d.journalDir(7), segs[0].Name())
	raw, err := os.ReadFile(seg1)
	if err != nil || len(raw) == 0 {
		t.Fatalf("segment 1: %d bytes, %v", len(raw), err)
	}
	d.receiptPending(run, 101)
	if _, err := os.Stat(seg1); !os.IsNotExist(err) {
		t.Fatalf("segment 1 outlives its receipt: %v", err)
	}
	if err := os.WriteFile(seg1, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	serve(run, 2)
	cfg := d.ingressConfig(run, backend.URL)
	cfg.OnProbe(1, true) // what the prober calls
	cfg.OnProbe(1, false)
	afterBlock := append([]ingress.Sample(nil), served...)
	// Killed: run is abandoned as it is, its journal file left open.

	d = newDaemon()
	run = start(d)
	st, ok := run.proxy.Snapshot(1)
	if !ok || st.Requests != 5 || st.Probes != 2 || st.AvailabilityBps != 5000 {
		t.Fatalf("window 1 after the restart: %+v (%v); want the 3 kept and 2 replayed requests, 2 probes, half answered", st, ok)
	}
	var replayed dto.Metric
	if err := d.metrics.JournalReplayed.Write(&replayed); err != nil || replayed.GetCounter().GetValue() != 4 {
		t.Errorf("computed_provider_journal_replayed_total = %v (%v), want 4: 2 requests, 2 probes", replayed.GetCounter().GetValue(), err)
	}
	d.receiptPending(run, 102)
	r2, err := store.Receipt(7, 2)
	if err != nil {
		t.Fatalf("receipt 2 for the replayed requests: %v", err)
	}
	if want := receiptInput(afterBlock); !bytes.Equal(r2.InputCommitment, want) {
		t.Fatal("receipt 2 does not commit to exactly the two requests served after block 101")
	}
	if _, err := store.Receipt(7, 3); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("receipt 3 exists: %v", err)
	}
	kept, _, err := store.PendingWindows(7)
	if err != nil || len(kept) != 1 || len(kept[0].Encoded) != 5*ingress.SampleSize || kept[0].Probes != 2 || kept[0].ProbesOK != 1 {
		t.Fatalf("store keeps %+v (%v); want window 1 with 5 requests and 2 probes, 1 answered", kept, err)
	}

	// Killed again right after that block: nothing is replayed twice, and the journal holds
	// no segment the store has.
	d = newDaemon()
	run = start(d)
	if st, _ := run.proxy.Snapshot(1); st.Requests != 5 || st.Probes != 2 {
		t.Fatalf("window 1 after the second restart: %+v, want 5 requests, 2 probes", st)
	}
	run.mu.Lock()
	pending := len(run.pending)
	run.mu.Unlock()
	if pending != 0 {
		t.Fatalf("%d requests replayed although the store has them", pending)
	}
	segs, _ = os.ReadDir(d.journalDir(7))
	if len(segs) != 0 {
		t.Fatalf("journal segments left: %d", len(segs))
	}

	// The lease ends: its journal goes, and a stale one of an ended lease is removed at start.
	serve(run, 1)
	d.removeJournal(7, run)
	if _, err := os.Stat(d.journalDir(7)); !os.IsNotExist(err) {
		t.Fatalf("journal of the closed lease: %v", err)
	}
	if err := os.MkdirAll(d.journalDir(9), 0o700); err != nil {
		t.Fatal(err)
	}
	d.removeStaleJournals([]state.LeaseRecord{{LeaseID: 7, State: state.LeaseClosed}})
	if _, err := os.Stat(d.journalDir(9)); !os.IsNotExist(err) {
		t.Fatalf("stale journal of lease 9: %v", err)
	}
}

// A sidecar killed in a lease's last block and restarted after the lease closed, but within the
// chain's grace for a closed lease's batches, receipts the requests its journal holds and sends
// their batch at once; after the grace the requests are only counted in the log. Either way the
// journal goes.
func TestJournalClosedWhileDown(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") }))
	defer backend.Close()
	for _, tc := range []struct {
		name      string
		head      int64 // at the restart; the lease closed at 104, the grace is 8 blocks
		receipted bool
	}{
		{"within the grace", 106, true},
		{"after the grace", 112, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			store, err := state.Open(filepath.Join(dataDir, "sidecar.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			var mu sync.Mutex
			var sent []state.Batch
			newDaemon := func() *Daemon {
				d := &Daemon{
					log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(), store: store,
					builder: receipts.NewBuilder(store), engine: bid.New(bid.Policy{}, nil),
				}
				d.cfg.DataDir = dataDir
				d.batcher, err = receipts.NewBatcher(store, receipts.BatcherConfig{MaxBatch: 10, MaxAge: time.Hour}, func(_ context.Context, b state.Batch) (string, error) {
					mu.Lock()
					defer mu.Unlock()
					sent = append(sent, b)
					return "tx", nil
				})
				if err != nil {
					t.Fatal(err)
				}
				d.watcher, d.cfg.Pricing.BlockSeconds = chain.NewWatcher(headerRPC{}), 1
				d.reportGrace.Store(8)
				d.head.Store(103)
				return d
			}
			l := markettypes.Lease{Id: 7, OrderId: 3, PricePerBlock: sdk.NewInt64Coin("uusdc", 10)}
			o := markettypes.Order{Id: 3, Requirements: markettypes.Requirements{GpuSku: "H100-SXM-80GB", Metro: "fra"}, Workload: markettypes.Workload{WasmHash: "ab"}}
			ob, lb, err := snapshot(o, l)
			if err != nil {
				t.Fatal(err)
			}
			rec := state.LeaseRecord{LeaseID: 7, OrderID: 3, TaskID: "lease-7", StartHeight: 100, WindowBlocks: 5, State: state.LeaseRunning, Order: ob, Lease: lb}
			if err := store.PutLease(rec); err != nil {
				t.Fatal(err)
			}

			d := newDaemon()
			run := &leaseRun{rec: rec, lease: l, info: d.leaseInfo(o, l, "ab")}
			if run.journal, _ = d.openJournal(7); run.journal == nil {
				t.Fatal("no journal")
			}
			if run.proxy, err = ingress.New(d.ingressConfig(run, backend.URL)); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				w := httptest.NewRecorder()
				run.proxy.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
				if w.Code != http.StatusOK {
					t.Fatalf("request through the ingress: %d", w.Code)
				}
			}
			var in []byte
			for _, ws := range run.pending {
				in = append(in, ingress.EncodeSample(ws.s)...)
			}
			want := sha256.Sum256(in)
			run.proxy.Release()
			// Killed in block 103; the lease closes at 104.

			d = newDaemon()
			d.head.Store(tc.head)
			l.State, l.ClosedHeight = markettypes.LEASE_STATE_CLOSED, 104
			closed := d.closedRun(context.Background(), rec, l)
			if closed == nil {
				t.Fatal("no run for the closed lease")
			}
			d.finishLease(context.Background(), 7, closed, l.ClosedHeight)

			r, err := store.Receipt(7, 1)
			if !tc.receipted {
				if !errors.Is(err, state.ErrNotFound) {
					t.Fatalf("receipt after the grace: %v", err)
				}
			} else {
				if err != nil {
					t.Fatalf("receipt of the journaled requests: %v", err)
				}
				if !bytes.Equal(r.InputCommitment, want[:]) || r.LeaseId != 7 || r.GpuSku != "H100-SXM-80GB" {
					t.Fatalf("receipt %+v does not commit to the two journaled requests of lease 7", r)
				}
				// Flushed: the batch goes at the first round, not after the hour of MaxAge.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				go func() { _ = d.batcher.Run(ctx) }()
				for {
					mu.Lock()
					n := len(sent)
					mu.Unlock()
					if n > 0 {
						break
					}
					if ctx.Err() != nil {
						t.Fatal("the closed lease's last batch was not sent")
					}
					time.Sleep(10 * time.Millisecond)
				}
				cancel()
				if b := sent[0]; b.LeaseID != 7 || b.First != 1 || b.Last != 1 {
					t.Fatalf("batch sent: %+v, want lease 7's receipt 1", b)
				}
			}
			if _, err := os.Stat(d.journalDir(7)); !os.IsNotExist(err) {
				t.Fatalf("journal of the closed lease: %v", err)
			}
			if got, err := store.GetLease(7); err != nil || got.State != state.LeaseClosed {
				t.Fatalf("lease record: %+v, %v; want closed", got, err)
			}
		})
	}
}
