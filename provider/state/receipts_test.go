package state

import (
	"errors"
	"testing"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

func TestSequencesStartAtOneWithoutGapsPerLease(t *testing.T) {
	s, _ := openTemp(t)
	if next, _ := s.NextSequence(9); next != 1 {
		t.Fatalf("fresh lease next sequence = %d, want 1", next)
	}
	for i := 1; i <= 5; i++ {
		for _, lease := range []uint64{9, 10} {
			r, err := appendTestLeaf(s, lease)
			if err != nil {
				t.Fatal(err)
			}
			if r.Sequence != uint64(i) || r.LeaseId != lease {
				t.Fatalf("append %d on lease %d got lease %d seq %d", i, lease, r.LeaseId, r.Sequence)
			}
		}
	}
	// A failed build, or a build that returns the wrong receipt, must not consume a sequence.
	boom := errors.New("boom")
	if _, err := s.AppendReceipt(9, func(uint64) (slatypes.ReceiptLeaf, error) { return slatypes.ReceiptLeaf{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("build error not returned: %v", err)
	}
	if _, err := s.AppendReceipt(9, func(seq uint64) (slatypes.ReceiptLeaf, error) { return testLeaf(9, seq+1), nil }); err == nil {
		t.Fatal("receipt with the wrong sequence accepted")
	}
	if _, err := s.AppendReceipt(9, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		r := testLeaf(9, seq)
		r.SchemaVersion = 0
		return r, nil
	}); err == nil {
		t.Fatal("invalid receipt accepted")
	}
	if next, _ := s.NextSequence(9); next != 6 {
		t.Fatalf("next sequence after failed appends = %d, want 6", next)
	}
	rs, err := s.Receipts(9, 2, 4)
	if err != nil || len(rs) != 3 {
		t.Fatalf("receipts 2..4 = %d, %v", len(rs), err)
	}
	for i, r := range rs {
		want, _ := testLeaf(9, uint64(i+2)).LeafBytes()
		got, _ := r.LeafBytes()
		if string(got) != string(want) {
			t.Fatalf("receipt %d differs from what was appended", r.Sequence)
		}
	}
	leases, err := s.ReceiptLeases()
	if err != nil || len(leases) != 2 || leases[0] != 9 || leases[1] != 10 {
		t.Fatalf("receipt leases = %v, %v", leases, err)
	}
}
