package receipts

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

func TestBuilderCommitsToWorkAndLease(t *testing.T) {
	s, _ := openStore(t)
	b := NewBuilder(s)
	w := Work{Start: t0, End: t0.Add(1500 * time.Millisecond), Input: []byte("prompt"), Output: []byte("answer"),
		Price: sdk.NewCoin("uusdc", sdkmath.NewInt(42)), SettlementRef: "lease/3@77"}
	var got []slatypes.ReceiptLeaf
	for range 2 {
		r, err := b.Append(testLease(3), w)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	r := got[0]
	in, out := sha256.Sum256([]byte("prompt")), sha256.Sum256([]byte("answer"))
	switch {
	case !bytes.Equal(r.InputCommitment, in[:]) || !bytes.Equal(r.OutputCommitment, out[:]):
		t.Fatal("commitments are not SHA-256 of input and output")
	case r.LeaseId != 3 || r.Sequence != 1 || got[1].Sequence != 2:
		t.Fatalf("lease/sequence = %d/%d then %d", r.LeaseId, r.Sequence, got[1].Sequence)
	case r.StartUnixMs != t0.UnixMilli() || r.EndUnixMs != t0.UnixMilli()+1500:
		t.Fatalf("times = %d..%d", r.StartUnixMs, r.EndUnixMs)
	case r.GpuSku != "H100-SXM-80GB" || r.VramGib != 80 || r.Metro != "FRA" || r.WorkloadDigest != "sha256:abcd" ||
		!bytes.Equal(r.AttestationTokenHash, []byte{9, 9, 9}) || r.SchemaVersion != slatypes.ReceiptSchemaVersion:
		t.Fatalf("lease facts not copied: %+v", r)
	case !r.Price.Equal(w.Price) || r.SettlementRef != "lease/3@77":
		t.Fatalf("price/settlement = %s %q", r.Price, r.SettlementRef)
	}
	stored, err := s.Receipt(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := stored.LeafBytes()
	e, _ := r.LeafBytes()
	if !bytes.Equal(a, e) {
		t.Fatal("stored receipt differs from the returned one")
	}
}

func TestBuilderRejectsBadWork(t *testing.T) {
	s, _ := openStore(t)
	b := NewBuilder(s)
	cases := map[string]Work{
		"no times":      {Input: []byte("x")},
		"ends early":    {Start: t0, End: t0.Add(-time.Second)},
		"foreign denom": {Start: t0, End: t0, Price: sdk.NewCoin("uatom", sdkmath.NewInt(1))},
	}
	for name, w := range cases {
		if _, err := b.Append(testLease(1), w); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if next, _ := s.NextSequence(1); next != 1 {
		t.Fatalf("rejected work consumed sequences: next = %d", next)
	}
	// Unpriced work is free in the lease's denom.
	r, err := b.Append(testLease(1), Work{Start: t0, End: t0})
	if err != nil || r.Price.Denom != "uusdc" || !r.Price.Amount.IsZero() {
		t.Fatalf("unpriced work: %s, %v", r.Price, err)
	}
}
