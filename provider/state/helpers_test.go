package state

import (
	"path/filepath"
	"testing"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

// testLeaf is a deterministic receipt for (lease, seq), so a test can tell a stored receipt
// from a torn or misplaced one.
func testLeaf(lease, seq uint64) slatypes.ReceiptLeaf {
	return slatypes.ReceiptLeaf{
		SchemaVersion: slatypes.ReceiptSchemaVersion, LeaseId: lease, Sequence: seq,
		GpuSku: "H100-SXM-80GB", VramGib: 80, Metro: "FRA",
		WorkloadDigest:       "sha256:0123",
		AttestationTokenHash: []byte{byte(lease), 1},
		StartUnixMs:          1_700_000_000_000 + int64(seq)*1000, EndUnixMs: 1_700_000_000_500 + int64(seq)*1000,
		InputCommitment:  []byte{byte(seq), 2},
		OutputCommitment: []byte{byte(seq), 3},
		Price:            sdk.NewCoin("uusdc", sdkmath.NewIntFromUint64(seq)),
		SettlementRef:    "lease/test",
	}
}

func appendTestLeaf(s *Store, lease uint64) (slatypes.ReceiptLeaf, error) {
	return s.AppendReceipt(lease, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		return testLeaf(lease, seq), nil
	})
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func mustAppend(t *testing.T, s *Store, lease uint64, n int) {
	t.Helper()
	for range n {
		if _, err := appendTestLeaf(s, lease); err != nil {
			t.Fatal(err)
		}
	}
}
