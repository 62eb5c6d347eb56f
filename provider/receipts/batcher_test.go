package receipts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/computed-network/computed/provider/state"
)

func newTestBatcher(t *testing.T, s *state.Store, cfg BatcherConfig, chain *fakeChain) *Batcher {
	t.Helper()
	b, err := NewBatcher(s, cfg, chain.submit)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBatcherCutsBySize(t *testing.T) {
	s, _ := openStore(t)
	clock := &fakeClock{now: t0}
	chain := &fakeChain{}
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 3, MaxAge: time.Hour, Now: clock.Now}, chain)
	ctx := context.Background()

	appendN(t, s, 1, 2, t0)
	b.Add(1)
	if err := b.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(chain.submitted()); n != 0 {
		t.Fatalf("cut below MaxBatch and MaxAge: %d submissions", n)
	}
	appendN(t, s, 1, 8, t0) // 10 waiting: three full batches, one left over
	b.Add(1)
	if err := b.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	sent := chain.submitted()
	if len(sent) != 3 {
		t.Fatalf("submitted %d batches, want 3", len(sent))
	}
	for i, batch := range sent {
		if batch.First != uint64(3*i+1) || batch.Count != 3 {
			t.Fatalf("batch %d = %d..%d", i, batch.First, batch.Last)
		}
		stored, _ := s.Batch(1, batch.First)
		if stored.State != state.BatchSent || stored.TxHash != fmt.Sprintf("TX%d", i+1) {
			t.Fatalf("batch %d not marked sent: %+v", i, stored)
		}
	}
	if last, _ := s.LastCut(1); last != 9 {
		t.Fatalf("last cut = %d, receipt 10 should still wait", last)
	}
}

func TestBatcherCutsByAge(t *testing.T) {
	s, _ := openStore(t)
	clock := &fakeClock{now: t0}
	chain := &fakeChain{}
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 100, MaxAge: 10 * time.Second, Now: clock.Now}, chain)
	ctx := context.Background()

	appendN(t, s, 1, 2, t0)
	b.Add(1)
	clock.Advance(9 * time.Second)
	if err := b.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(chain.submitted()); n != 0 {
		t.Fatalf("cut before MaxAge: %d submissions", n)
	}
	clock.Advance(time.Second)
	if err := b.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	sent := chain.submitted()
	if len(sent) != 1 || sent[0].First != 1 || sent[0].Last != 2 {
		t.Fatalf("after MaxAge: %+v", sent)
	}
}

func TestBatcherRetriesTheSameBatch(t *testing.T) {
	s, _ := openStore(t)
	clock := &fakeClock{now: t0}
	chain := &fakeChain{fails: 1}
	var reported []error
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 2, MaxAge: time.Hour, Now: clock.Now,
		OnError: func(_ uint64, err error) { reported = append(reported, err) }}, chain)
	ctx := context.Background()

	appendN(t, s, 1, 2, t0)
	b.Add(1)
	if err := b.RunOnce(ctx); err == nil || len(reported) != 1 {
		t.Fatalf("failed submit not reported: %v, %v", err, reported)
	}
	cut, err := s.Batch(1, 1)
	if err != nil || cut.State != state.BatchPending {
		t.Fatalf("after failed submit: %+v, %v", cut, err)
	}
	// More receipts arrive meanwhile; they must go in a later batch, not change this one.
	appendN(t, s, 1, 1, t0)
	if err := b.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	sent := chain.submitted()
	if len(sent) != 1 || sent[0].First != 1 || sent[0].Last != 2 || !bytes.Equal(sent[0].Root, cut.Root) {
		t.Fatalf("retry sent %+v, want the batch cut before (root %x)", sent, cut.Root)
	}
}

func TestBatcherStopsAtFirstFailureToKeepOrder(t *testing.T) {
	s, _ := openStore(t)
	chain := &fakeChain{fails: 1}
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 1, MaxAge: time.Hour, Now: (&fakeClock{now: t0}).Now}, chain)
	appendN(t, s, 1, 3, t0)
	if err := b.RunOnce(context.Background()); err == nil {
		t.Fatal("failure not returned")
	}
	if n := len(chain.submitted()); n != 0 {
		t.Fatalf("later batches submitted after the first failed: %d", n)
	}
	if err := b.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, batch := range chain.submitted() {
		if batch.First != uint64(i+1) {
			t.Fatalf("submission %d is batch %d; want chain order", i, batch.First)
		}
	}
}

func TestBatcherRestartResubmitsUnchanged(t *testing.T) {
	s, path := openStore(t)
	clock := &fakeClock{now: t0}
	cfg := BatcherConfig{MaxBatch: 3, MaxAge: time.Hour, Now: clock.Now}
	first := &fakeChain{}
	b1 := newTestBatcher(t, s, cfg, first)
	appendN(t, s, 1, 6, t0)
	b1.Add(1)
	if err := b1.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b1.Acked(1, 1, 50); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 1, 2, t0) // waiting, neither full nor old
	before := first.submitted()[1]

	// Simulate the process dying: close the file, reopen, fresh batcher, no Add.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	second := &fakeChain{}
	b2 := newTestBatcher(t, s2, cfg, second)
	if err := b2.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := second.submitted()
	if len(got) != 1 {
		t.Fatalf("after restart submitted %d batches, want only the unacked one", len(got))
	}
	if got[0].First != before.First || got[0].Last != before.Last || !bytes.Equal(got[0].Root, before.Root) {
		t.Fatalf("re-submitted %d..%d %x, want %d..%d %x", got[0].First, got[0].Last, got[0].Root, before.First, before.Last, before.Root)
	}
	all, _ := s2.Batches(1)
	if len(all) != 2 {
		t.Fatalf("restart cut new batches: %d", len(all))
	}
	if b, _ := s2.Batch(1, 4); b.Attempts != 2 {
		t.Fatalf("re-submission not recorded: %+v", b)
	}

	// In flight from this process: not re-sent until acked or ResendAfter passes.
	if err := b2.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(second.submitted()); n != 1 {
		t.Fatalf("in-flight batch re-sent early: %d submissions", n)
	}
	clock.Advance(DefaultResendAfter)
	if err := b2.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := second.submitted(); len(got) != 2 || !bytes.Equal(got[1].Root, before.Root) {
		t.Fatalf("overdue batch not re-sent unchanged: %+v", got)
	}
}

func TestBatcherAckedBatchesAreNotResent(t *testing.T) {
	s, _ := openStore(t)
	chain := &fakeChain{}
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 2, MaxAge: time.Hour, Now: (&fakeClock{now: t0}).Now}, chain)
	appendN(t, s, 1, 2, t0)
	b.Add(1)
	if err := b.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Acked(1, 1, 9); err != nil {
		t.Fatal(err)
	}
	b2 := newTestBatcher(t, s, BatcherConfig{MaxBatch: 2, MaxAge: time.Hour}, chain)
	if err := b2.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(chain.submitted()); n != 1 {
		t.Fatalf("acked batch re-sent: %d submissions", n)
	}
}

func TestBatcherAlreadyAnchoredCountsAsAcked(t *testing.T) {
	s, _ := openStore(t)
	chain := &fakeChain{fails: 1, err: fmt.Errorf("lease 1 is anchored to 2: %w", ErrAnchored)}
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 2, MaxAge: time.Hour, Now: (&fakeClock{now: t0}).Now}, chain)
	appendN(t, s, 1, 2, t0)
	if err := b.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastAcked(1)
	if err != nil || last == nil || last.First != 1 {
		t.Fatalf("anchored batch not acked: %+v, %v", last, err)
	}
	if p, _ := s.PendingBatches(1); len(p) != 0 {
		t.Fatalf("pending after anchored: %+v", p)
	}
}

// TestBatcherAsksBeforeResending: a batch a process sent, or only cut, before it died is looked up
// on the chain before it is broadcast again, and so is one whose send failed; one the chain holds
// is acked without a transaction (which the chain would fail as a sequence gap, fee paid), one it
// does not hold is sent, and a batch this process cut and never tried is not looked up.
func TestBatcherAsksBeforeResending(t *testing.T) {
	s, _ := openStore(t)
	clock := &fakeClock{now: t0}
	first := &fakeChain{}
	b1 := newTestBatcher(t, s, BatcherConfig{MaxBatch: 2, MaxAge: time.Hour, Now: clock.Now}, first)
	appendN(t, s, 1, 4, t0)
	appendN(t, s, 2, 2, t0)
	b1.Add(1)
	b1.Add(2)
	if err := b1.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(first.submitted()); n != 3 {
		t.Fatalf("first process sent %d batches, want 3", n)
	}
	// Lease 3's batch is cut and the process dies before recording its broadcast: the chain
	// holds it, and lease 1's first batch; the other two sent are not there.
	appendN(t, s, 3, 2, t0)
	if _, err := s.CutBatch(3, 2); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []state.Batch
	cfg := BatcherConfig{MaxBatch: 2, MaxAge: time.Hour, Now: clock.Now,
		Anchored: func(_ context.Context, b state.Batch) bool {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, b)
			return (b.LeaseID == 1 && b.First == 1) || b.LeaseID == 3
		}}
	second := &fakeChain{}
	b2 := newTestBatcher(t, s, cfg, second)
	if err := b2.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 4 {
		t.Fatalf("looked up %d batches before re-sending, want the 4 of the process that died", len(asked))
	}
	got := second.submitted()
	if len(got) != 2 {
		t.Fatalf("re-sent %d batches, want 2 (the anchored ones acked by the lookup): %+v", len(got), got)
	}
	for _, b := range got {
		if (b.LeaseID == 1 && b.First == 1) || b.LeaseID == 3 {
			t.Fatalf("re-sent batch %d..%d of lease %d, which the chain holds", b.First, b.Last, b.LeaseID)
		}
	}
	for _, lease := range []uint64{1, 3} {
		if last, err := s.LastAcked(lease); err != nil || last == nil || last.First != 1 {
			t.Fatalf("lease %d: anchored batch not acked: %+v, %v", lease, last, err)
		}
	}
	// A batch cut now and never tried is sent without a lookup; after a failed send (the node
	// may have taken it) the retry asks first.
	asked = nil
	appendN(t, s, 2, 2, t0)
	b2.Add(2)
	second.mu.Lock()
	second.fails = 1
	second.mu.Unlock()
	if err := b2.RunOnce(context.Background()); err == nil {
		t.Fatal("the failed send was not reported")
	}
	if len(asked) != 0 {
		t.Fatalf("a batch never tried was looked up %d times", len(asked))
	}
	if err := b2.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || len(second.submitted()) != 3 {
		t.Fatalf("the retry: %d lookups, %d sends in all; want 1 and 3", len(asked), len(second.submitted()))
	}
}

// TestBatcherFlushCutsAtOnce: an ended lease's waiting receipts are cut without waiting for
// MaxAge (the chain takes its last batches only briefly); other leases keep the age rule.
func TestBatcherFlushCutsAtOnce(t *testing.T) {
	s, _ := openStore(t)
	chain := &fakeChain{}
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 100, MaxAge: time.Hour, Now: (&fakeClock{now: t0}).Now}, chain)
	appendN(t, s, 1, 2, t0)
	appendN(t, s, 2, 2, t0)
	b.Flush(1)
	b.Add(2)
	if err := b.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent := chain.submitted()
	if len(sent) != 1 || sent[0].LeaseID != 1 || sent[0].First != 1 || sent[0].Last != 2 {
		t.Fatalf("submitted %+v, want lease 1's receipts 1..2 only", sent)
	}
}

// TestBatcherLeaseEndedStopsForGood: once the chain takes no more of a lease's batches, the
// batcher stops sending them (each refusal is a transaction paid for), in this process and
// after a restart, and goes on with other leases.
func TestBatcherLeaseEndedStopsForGood(t *testing.T) {
	s, _ := openStore(t)
	chain := &fakeChain{fails: 1, err: fmt.Errorf("lease 1 closed at height 9: %w", ErrLeaseEnded)}
	var reported []error
	cfg := BatcherConfig{MaxBatch: 2, MaxAge: time.Hour, Now: (&fakeClock{now: t0}).Now, OnError: func(_ uint64, err error) { reported = append(reported, err) }}
	b := newTestBatcher(t, s, cfg, chain)
	appendN(t, s, 1, 3, t0)
	b.Add(1)
	for range 3 {
		if err := b.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if sent := chain.submitted(); len(sent) != 0 {
		t.Fatalf("sent %+v after the chain ended the lease", sent)
	}
	if len(reported) != 1 || !errors.Is(reported[0], ErrLeaseEnded) || !strings.Contains(reported[0].Error(), "receipts 1..3 stay unanchored") {
		t.Fatalf("reported %v, want one report of receipts 1..3 left unanchored", reported)
	}
	if ended, err := s.AnchoringEnded(1); err != nil || !ended {
		t.Fatalf("AnchoringEnded = %v, %v", ended, err)
	}
	// A restarted batcher does not send them either; lease 2 is anchored as usual.
	appendN(t, s, 2, 2, t0)
	b = newTestBatcher(t, s, cfg, chain)
	if err := b.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sent := chain.submitted(); len(sent) != 1 || sent[0].LeaseID != 2 {
		t.Fatalf("after a restart: sent %+v, want lease 2's batch only", sent)
	}
}

func TestBatcherRunLoop(t *testing.T) {
	s, _ := openStore(t)
	chain := &fakeChain{}
	b := newTestBatcher(t, s, BatcherConfig{MaxBatch: 5, MaxAge: 50 * time.Millisecond}, chain)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	appendN(t, s, 1, 5, time.Now()) // full: cut on Add
	b.Add(1)
	appendN(t, s, 2, 1, time.Now()) // lone receipt: cut by age
	b.Add(2)
	deadline := time.Now().Add(5 * time.Second)
	for len(chain.submitted()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	got := chain.submitted()
	if len(got) != 2 {
		t.Fatalf("Run submitted %d batches, want 2", len(got))
	}
}

func TestNewBatcherRejectsBadConfig(t *testing.T) {
	s, _ := openStore(t)
	submit := (&fakeChain{}).submit
	for name, cfg := range map[string]BatcherConfig{
		"no size": {MaxAge: time.Second},
		"no age":  {MaxBatch: 1},
	} {
		if _, err := NewBatcher(s, cfg, submit); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewBatcher(s, BatcherConfig{MaxBatch: 1, MaxAge: time.Second}, nil); err == nil {
		t.Error("nil submit accepted")
	}
}

// TestBatcherLeasesShareABlock: a submission waits for its block, and the leases' batches wait
// together, not one block after another; one lease's batches still go one at a time, in order.
func TestBatcherLeasesShareABlock(t *testing.T) {
	s, _ := openStore(t)
	const leases = 3
	var mu sync.Mutex
	inFlight, most := 0, 0
	perLease := map[uint64]int{}
	block, once := make(chan struct{}), sync.Once{}
	submit := func(ctx context.Context, b state.Batch) (string, error) {
		mu.Lock()
		inFlight++
		perLease[b.LeaseID]++
		most = max(most, inFlight)
		if inFlight == leases {
			once.Do(func() { close(block) }) // every lease's first batch is waiting: the block comes
		}
		if perLease[b.LeaseID] > 1 {
			mu.Unlock()
			return "", fmt.Errorf("lease %d: a second batch sent before the first was in", b.LeaseID)
		}
		mu.Unlock()
		select {
		case <-block:
		case <-time.After(5 * time.Second):
		}
		mu.Lock()
		inFlight--
		perLease[b.LeaseID]--
		mu.Unlock()
		return fmt.Sprintf("TX-%d-%d", b.LeaseID, b.First), nil
	}
	b, err := NewBatcher(s, BatcherConfig{MaxBatch: 2, MaxAge: time.Hour, Now: (&fakeClock{now: t0}).Now}, submit)
	if err != nil {
		t.Fatal(err)
	}
	for lease := uint64(1); lease <= leases; lease++ {
		appendN(t, s, lease, 4, t0) // two batches each
		b.Add(lease)
	}
	start := time.Now()
	if err := b.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if most != leases {
		t.Fatalf("at most %d batches waited for a block at once, want %d (one per lease)", most, leases)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("the round took %v: the leases' batches waited one after another", d)
	}
	for lease := uint64(1); lease <= leases; lease++ {
		pending, err := s.PendingBatches(lease)
		if err != nil || len(pending) != 2 || pending[0].State != state.BatchSent || pending[1].State != state.BatchSent {
			t.Fatalf("lease %d's batches: %+v, %v; want both sent", lease, pending, err)
		}
	}
}
