package state

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSecondOpenFailsClearly(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	s2, err := Open(path)
	if err == nil {
		_ = s2.Close()
		t.Fatal("second Open of a held file succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another sidecar holds "+path) {
		t.Fatalf("second Open error = %v, want ErrLocked naming the path", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("second Open took %v, want it to give up after about %v", waited, lockTimeout)
	}
}

func TestReopenAfterCloseKeepsEverything(t *testing.T) {
	s, path := openTemp(t)
	lease := LeaseRecord{LeaseID: 7, OrderID: 3, TaskID: "lease-7", Executor: "docker", Endpoint: "https://x",
		Workload: "sha256:ab", GPUs: []string{"GPU-1", "GPU-2"}, StartHeight: 100, State: LeaseRunning,
		WindowBlocks: 50, LastReportedWindow: 2, Replicated: true}
	commit := Commit{LeaseID: 7, ResultDigest: []byte{1}, Salt: []byte{2}, CommitHash: []byte{3}, Committed: true}
	steps := []error{
		s.PutLease(lease), s.PutCommit(3, commit), s.MarkWindowReported(7, 2),
		s.SetCursor(1234), s.PutMeta("k", []byte("v")),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	mustAppend(t, s, 7, 5)
	cut, err := s.CutBatch(7, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkBatchSent(7, cut.First, "TX1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gotLease, err := s.GetLease(7)
	if err != nil || gotLease.Endpoint != lease.Endpoint || len(gotLease.GPUs) != 2 || !gotLease.Replicated || gotLease.LastReportedWindow != 2 {
		t.Fatalf("lease after reopen = %+v, %v", gotLease, err)
	}
	gotCommit, err := s.GetCommit(3)
	if err != nil || !bytes.Equal(gotCommit.Salt, commit.Salt) || !gotCommit.Committed || gotCommit.Revealed {
		t.Fatalf("commit after reopen = %+v, %v", gotCommit, err)
	}
	if ok, err := s.WindowReported(7, 2); !ok || err != nil {
		t.Fatalf("window 2 reported = %v, %v", ok, err)
	}
	if ok, _ := s.WindowReported(7, 3); ok {
		t.Fatal("window 3 reported without being marked")
	}
	if h, err := s.Cursor(); h != 1234 || err != nil {
		t.Fatalf("cursor = %d, %v", h, err)
	}
	if v, err := s.GetMeta("k"); string(v) != "v" || err != nil {
		t.Fatalf("meta = %q, %v", v, err)
	}
	if next, _ := s.NextSequence(7); next != 6 {
		t.Fatalf("next sequence after reopen = %d, want 6", next)
	}
	b, err := s.Batch(7, 1)
	if err != nil || b.State != BatchSent || b.TxHash != "TX1" || !bytes.Equal(b.Root, cut.Root) || b.Last != 3 {
		t.Fatalf("batch after reopen = %+v, %v", b, err)
	}
	// The next cut continues after the reopened batch instead of re-cutting it.
	next, err := s.CutBatch(7, 10)
	if err != nil || next.First != 4 || next.Last != 5 {
		t.Fatalf("cut after reopen = %+v, %v", next, err)
	}
}

func TestLookupsOfMissingThingsWrapErrNotFound(t *testing.T) {
	s, _ := openTemp(t)
	_, e1 := s.GetLease(1)
	_, e2 := s.GetCommit(1)
	_, e3 := s.GetMeta("nope")
	_, e4 := s.Batch(1, 1)
	_, e5 := s.BatchFor(1, 1)
	_, e6 := s.Receipt(1, 1)
	e7 := s.MarkBatchSent(1, 1, "x")
	e8 := s.MarkBatchAcked(1, 1, 5)
	for i, err := range []error{e1, e2, e3, e4, e5, e6, e7, e8} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("lookup %d: error %v, want ErrNotFound", i+1, err)
		}
	}
	if h, err := s.Cursor(); h != 0 || err != nil {
		t.Fatalf("unset cursor = %d, %v; want 0", h, err)
	}
}

func TestLeasesListAndDelete(t *testing.T) {
	s, _ := openTemp(t)
	for _, id := range []uint64{3, 1, 2} {
		if err := s.PutLease(LeaseRecord{LeaseID: id, State: LeaseRunning}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutLease(LeaseRecord{}); err == nil {
		t.Fatal("lease id 0 accepted")
	}
	mustAppend(t, s, 2, 2)
	if err := s.DeleteLease(2); err != nil {
		t.Fatal(err)
	}
	ls, err := s.Leases()
	if err != nil || len(ls) != 2 || ls[0].LeaseID != 1 || ls[1].LeaseID != 3 {
		t.Fatalf("leases = %+v, %v", ls, err)
	}
	// Receipts outlive the lease record: proofs stay servable and sequences are never reused.
	if next, _ := s.NextSequence(2); next != 3 {
		t.Fatalf("next sequence of deleted lease = %d, want 3", next)
	}
}

func TestWindowZeroRejected(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.MarkWindowReported(1, 0); err == nil {
		t.Fatal("window 0 accepted; windows are numbered from 1")
	}
}
