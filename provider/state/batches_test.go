package state

import (
	"bytes"
	"errors"
	"testing"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

func TestNoReceiptsNoBatch(t *testing.T) {
	s, _ := openTemp(t)
	b, err := s.CutBatch(1, 10)
	if b != nil || err != nil {
		t.Fatalf("cut with no receipts = %+v, %v; want nil, nil", b, err)
	}
	mustAppend(t, s, 1, 2)
	if _, err := s.CutBatch(1, 10); err != nil {
		t.Fatal(err)
	}
	if b, err := s.CutBatch(1, 10); b != nil || err != nil {
		t.Fatalf("cut with everything already batched = %+v, %v; want nil, nil", b, err)
	}
	if _, err := s.CutBatch(1, 0); err == nil {
		t.Fatal("max count 0 accepted")
	}
}

func TestCutBatchRootMatchesReceiptTree(t *testing.T) {
	s, _ := openTemp(t)
	mustAppend(t, s, 4, 10)
	var prevLast uint64
	for _, size := range []int{3, 3, 10} {
		b, err := s.CutBatch(4, size)
		if err != nil {
			t.Fatal(err)
		}
		if b.First != prevLast+1 || b.Count != b.Last-b.First+1 || b.State != BatchPending {
			t.Fatalf("batch %+v does not follow %d", b, prevLast)
		}
		prevLast = b.Last
		var want []slatypes.ReceiptLeaf
		var usage uint64
		for seq := b.First; seq <= b.Last; seq++ {
			want = append(want, testLeaf(4, seq))
			usage += seq // testLeaf prices receipt seq at seq uusdc
		}
		root, _, err := slatypes.ReceiptTree(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Root, root) {
			t.Fatalf("batch %d..%d root differs from ReceiptTree", b.First, b.Last)
		}
		if b.Usage.Uint64() != usage || b.Denom != "uusdc" {
			t.Fatalf("batch usage %s%s, want %duusdc", b.Usage, b.Denom, usage)
		}
	}
	if prevLast != 10 {
		t.Fatalf("batches end at %d, want 10", prevLast)
	}
	for seq := uint64(1); seq <= 10; seq++ {
		b, err := s.BatchFor(4, seq)
		if err != nil || seq < b.First || seq > b.Last {
			t.Fatalf("BatchFor(%d) = %+v, %v", seq, b, err)
		}
	}
	mustAppend(t, s, 4, 1)
	if _, err := s.BatchFor(4, 11); !errors.Is(err, ErrNotFound) {
		t.Fatalf("BatchFor an uncut receipt: %v, want ErrNotFound", err)
	}
	if last, _ := s.LastCut(4); last != 10 {
		t.Fatalf("last cut = %d, want 10", last)
	}
}

func TestBatchLifecycle(t *testing.T) {
	s, _ := openTemp(t)
	mustAppend(t, s, 2, 6)
	for range 3 {
		if _, err := s.CutBatch(2, 2); err != nil {
			t.Fatal(err)
		}
	}
	pending, _ := s.PendingBatches(2)
	if len(pending) != 3 || pending[0].First != 1 || pending[2].First != 5 {
		t.Fatalf("pending = %+v", pending)
	}
	if b, _ := s.LastAcked(2); b != nil {
		t.Fatalf("last acked before any ack = %+v", b)
	}
	if err := s.MarkBatchSent(2, 1, "A"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkBatchSent(2, 1, "B"); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Batch(2, 1)
	if b.State != BatchSent || b.TxHash != "B" || b.Attempts != 2 {
		t.Fatalf("after two sends: %+v", b)
	}

	// Acking batch 3..4 proves 1..2 anchored too: the chain anchors contiguously.
	if err := s.MarkBatchAcked(2, 3, 77); err != nil {
		t.Fatal(err)
	}
	pending, _ = s.PendingBatches(2)
	if len(pending) != 1 || pending[0].First != 5 {
		t.Fatalf("pending after acking the middle batch = %+v", pending)
	}
	last, _ := s.LastAcked(2)
	if last == nil || last.First != 3 || last.AckedHeight != 77 {
		t.Fatalf("last acked = %+v", last)
	}
	if b, _ := s.Batch(2, 1); b.State != BatchAcked {
		t.Fatalf("earlier batch not acked by the cascade: %+v", b)
	}

	// A late "sent" for an acked batch (the watcher won the race) must not un-ack it.
	if err := s.MarkBatchSent(2, 3, "C"); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.Batch(2, 3); b.State != BatchAcked || b.AckedHeight != 77 {
		t.Fatalf("acked batch regressed: %+v", b)
	}
	// Acks are idempotent and keep the first observed height.
	if err := s.MarkBatchAcked(2, 3, 90); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.Batch(2, 3); b.AckedHeight != 77 {
		t.Fatalf("re-ack changed height: %+v", b)
	}
}
