package daemon

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
)

// While no block comes (the node or the chain is down), requests must not pile up in memory
// until one does: every receipts.max_requests of them become a receipt at once, priced zero,
// and the next block's receipt carries the block's price. Nothing is lost or receipted twice.
func TestReceiptFullBeforeBlock(t *testing.T) {
	backend := pong(t)
	store, dataDir := tempStore(t)
	var err error
	d := receiptDaemon(t, store, dataDir)
	d.cfg.Receipts.MaxRequests = 4
	d.height.Store(101) // the last block handled
	run := lease7()
	price := run.lease.PricePerBlock
	j, _ := d.openJournal(7)
	if j == nil {
		t.Fatal("no journal")
	}
	run.journal = j
	var seen []ingress.Sample // what the ingress handed over, in order
	cfg := d.ingressConfig(run, backend.URL)
	cfg.WindowOf = func(time.Time) uint64 { return 1 }
	onRequest := cfg.OnRequest
	var seenMu sync.Mutex
	cfg.OnRequest = func(w uint64, s ingress.Sample) {
		seenMu.Lock()
		seen = append(seen, s)
		seenMu.Unlock()
		onRequest(w, s)
	}
	run.proxy, err = ingress.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(n int) {
		for range n {
			rec := httptest.NewRecorder()
			run.proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("request through the ingress: %d", rec.Code)
			}
		}
	}
	// awaitReceipt waits for the goroutine receiptFull runs in.
	awaitReceipt := func(seq uint64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			_, err := store.Receipt(7, seq)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("receipt %d: %v", seq, err)
			}
		}
	}
	input := func(samples []ingress.Sample) []byte {
		var in []byte
		for _, s := range samples {
			in = append(in, ingress.EncodeSample(s)...)
		}
		h := sha256.Sum256(in)
		return h[:]
	}
	pending := func() int {
		run.mu.Lock()
		defer run.mu.Unlock()
		return len(run.pending)
	}

	// Each cut waits for its receipt, so the cuts fall exactly every 4 requests.
	serve(4)
	awaitReceipt(1)
	serve(4)
	awaitReceipt(2)
	serve(2)
	if n := pending(); n != 2 {
		t.Fatalf("%d requests pending after two full receipts, want 2", n)
	}
	d.receiptPending(run, 102)
	seenMu.Lock()
	all := append([]ingress.Sample(nil), seen...)
	seenMu.Unlock()
	for _, c := range []struct {
		seq      uint64
		samples  []ingress.Sample
		price    sdk.Coin
		blockRef string
	}{
		{1, all[0:4], sdk.NewInt64Coin("uusdc", 0), "lease/7@102"},
		{2, all[4:8], sdk.NewInt64Coin("uusdc", 0), "lease/7@102"},
		{3, all[8:10], price, "lease/7@102"},
	} {
		r, err := store.Receipt(7, c.seq)
		if err != nil {
			t.Fatalf("receipt %d: %v", c.seq, err)
		}
		if !bytes.Equal(r.InputCommitment, input(c.samples)) || !r.Price.Equal(c.price) || r.SettlementRef != c.blockRef {
			t.Fatalf("receipt %d: price %s ref %q, input matches: %v; want %s, %q and its %d requests", c.seq, r.Price, r.SettlementRef,
				bytes.Equal(r.InputCommitment, input(c.samples)), c.price, c.blockRef, len(c.samples))
		}
	}
	if _, err := store.Receipt(7, 4); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("receipt 4 exists: %v", err)
	}
	// The store has every request of the window once, in order; the journal has let them go.
	kept, _, err := store.PendingWindows(7)
	if err != nil || len(kept) != 1 || !bytes.Equal(kept[0].Encoded, encodeAll(all)) {
		t.Fatalf("store keeps %d windows (%v); want window 1 with the 10 requests in order", len(kept), err)
	}
	if segs, _ := os.ReadDir(d.journalDir(7)); len(segs) > 1 {
		t.Fatalf("%d journal segments outlive the receipts holding their requests", len(segs))
	}
	st, _ := run.proxy.Snapshot(1)
	if !bytes.Equal(st.SamplesRoot, ingress.SamplesRoot(all)) {
		t.Fatal("the window's root is not over the requests the receipts hold")
	}

	// Many clients at once: each request is in exactly one receipt, and what waits for the
	// block stays near the cap.
	d.cfg.Receipts.MaxRequests = 16
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(50)
		}()
	}
	wg.Wait()
	for deadline := time.Now().Add(5 * time.Second); pending() >= 16; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests pending, want fewer than the cap of 16", pending())
		}
	}
	d.receiptPending(run, 103)
	kept, _, err = store.PendingWindows(7)
	if err != nil || len(kept) != 1 || len(kept[0].Encoded) != 410*ingress.SampleSize {
		t.Fatalf("store keeps %d windows (%v), %d requests; want window 1 with all 410 requests", len(kept), err, len(kept[0].Encoded)/ingress.SampleSize)
	}
	// Receipts 4.. : at least one full one before block 103's (a late cut takes what came
	// meanwhile too, so there can be fewer than 400/16).
	if next, err := store.NextSequence(7); err != nil || next < 6 {
		t.Fatalf("next receipt %d (%v), want at least 6: a full receipt and block 103's after receipt 3", next, err)
	}
}

func encodeAll(samples []ingress.Sample) []byte {
	var b []byte
	for _, s := range samples {
		b = append(b, ingress.EncodeSample(s)...)
	}
	return b
}

// A receipt's work runs from the earliest request's start to the latest completion, whatever
// order the responses completed in; and requests a receipt failed to store go into the next
// one. A long request that completed last but started first used to make a receipt that
// "ends before it starts", which the store refused, and its requests were then dropped.
func TestReceiptSpanAndRetry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sidecar.db")
	store, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d := receiptDaemon(t, store, filepath.Dir(path))
	run := lease7()
	const t0 = 1_790_000_000_000
	first := []windowSample{
		{1, ingress.Sample{UnixMillis: t0 + 500, Micros: 20_000, Status: 200}},    // done at +520
		{1, ingress.Sample{UnixMillis: t0, Micros: 3_000_000, Status: 200}},       // done at +3000
		{1, ingress.Sample{UnixMillis: t0 + 900, Micros: 1_500_000, Status: 200}}, // done at +2400
	}
	run.pending = append([]windowSample(nil), first...)
	run.probes = addProbe(nil, 1, true)

	// The store fails (closed under the sidecar): nothing is lost.
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	d.receiptPending(run, 101)
	run.mu.Lock()
	kept, probes := len(run.pending), slices.Clone(run.probes)
	run.pending = append(run.pending, windowSample{1, ingress.Sample{UnixMillis: t0 + 3100, Micros: 1000, Status: 503}})
	run.probes = addProbe(run.probes, 1, false)
	run.mu.Unlock()
	if kept != 3 || len(probes) != 1 || probes[0].Probes != 1 {
		t.Fatalf("after a failed receipt: %d requests and probes %+v pending; want the 3 requests and 1 probe back", kept, probes)
	}

	if store, err = state.Open(path); err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d.store, d.builder = store, receipts.NewBuilder(store)
	d.receiptPending(run, 102)
	r, err := store.Receipt(7, 1)
	if err != nil {
		t.Fatalf("receipt 1: %v", err)
	}
	all := append(first, windowSample{1, ingress.Sample{UnixMillis: t0 + 3100, Micros: 1000, Status: 503}})
	samples := make([]ingress.Sample, len(all))
	for i, ws := range all {
		samples[i] = ws.s
	}
	in := sha256.Sum256(encodeAll(samples))
	if r.StartUnixMs != t0 || r.EndUnixMs != t0+3101 || !bytes.Equal(r.InputCommitment, in[:]) {
		t.Fatalf("receipt 1 spans %d..%d (input matches: %v); want %d..%d over all four requests", r.StartUnixMs, r.EndUnixMs,
			bytes.Equal(r.InputCommitment, in[:]), int64(t0), int64(t0+3101))
	}
	windows, _, err := store.PendingWindows(7)
	if err != nil || len(windows) != 1 || windows[0].Probes != 2 || windows[0].ProbesOK != 1 || len(windows[0].Encoded) != 4*ingress.SampleSize {
		t.Fatalf("store keeps %+v (%v); want window 1 with 4 requests and 2 probes, 1 answered", windows, err)
	}
}

// A block handled again after a crash (the cursor is stored after the block's receipts) gets a
// receipt priced zero: before, its price was charged twice in the receipts and the batch usage.
func TestBlockHandledTwicePricedOnce(t *testing.T) {
	store, dataDir := tempStore(t)
	d := receiptDaemon(t, store, dataDir)
	const t0 = 1_790_000_000_000
	served := func(run *leaseRun, at int64) {
		run.pending = append(run.pending, windowSample{1, ingress.Sample{UnixMillis: at, Micros: 1000, Status: 200}})
	}
	run := lease7()
	served(run, t0)
	d.receiptPending(run, 101)

	restarted := lease7() // the same lease after a restart: nothing in memory
	served(restarted, t0+1000)
	d.receiptPending(restarted, 101) // block 101 again
	served(restarted, t0+2000)
	d.receiptPending(restarted, 102)

	price := run.lease.PricePerBlock
	for seq, want := range map[uint64]sdk.Coin{1: price, 2: sdk.NewInt64Coin(price.Denom, 0), 3: price} {
		r, err := store.Receipt(7, seq)
		if err != nil {
			t.Fatalf("receipt %d: %v", seq, err)
		}
		if !r.Price.Equal(want) {
			t.Errorf("receipt %d (%s) priced %s, want %s", seq, r.SettlementRef, r.Price, want)
		}
	}
}
