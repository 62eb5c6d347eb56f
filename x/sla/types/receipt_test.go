package types_test

import (
	"bytes"
	"testing"

	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/sla/types"
)

func genReceipt(t *rapid.T, lease, seq uint64) types.ReceiptLeaf {
	start := rapid.Int64Range(1_700_000_000_000, 1_900_000_000_000).Draw(t, "start")
	return types.ReceiptLeaf{
		SchemaVersion: types.ReceiptSchemaVersion, LeaseId: lease, Sequence: seq,
		GpuSku: rapid.SampledFrom([]string{"H100-SXM-80GB", "H200-SXM-141GB"}).Draw(t, "sku"), VramGib: 80,
		Metro:                rapid.SampledFrom([]string{"FRA", "AMS", "IAD"}).Draw(t, "metro"),
		WorkloadDigest:       "sha256:" + string(bytes.Repeat([]byte("a"), 64)),
		AttestationTokenHash: rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "att"),
		StartUnixMs:          start, EndUnixMs: start + rapid.Int64Range(0, 60_000).Draw(t, "dur"),
		InputCommitment:  rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "in"),
		OutputCommitment: rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "out"),
		Price:            sdk.NewCoin("uusdc", sdkmath.NewInt(rapid.Int64Range(0, 1_000_000).Draw(t, "price"))),
		SettlementRef:    "lease/7@1200",
	}
}

// TestReceiptProofsProperty: for any batch, every receipt's proof verifies against the root, and
// changing any byte of the receipt, of the proof's path, or the position makes it fail.
func TestReceiptProofsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 70).Draw(t, "n")
		receipts := make([]types.ReceiptLeaf, n)
		for i := range receipts {
			receipts[i] = genReceipt(t, 7, uint64(i+1))
			require.NoError(t, receipts[i].Validate())
		}
		root, proofs, err := types.ReceiptTree(receipts)
		require.NoError(t, err)
		require.Len(t, proofs, n)
		for i, r := range receipts {
			require.NoError(t, types.VerifyReceipt(root, r, proofs[i]), "receipt %d", i)
		}

		i := rapid.IntRange(0, n-1).Draw(t, "victim")
		leaf, err := receipts[i].LeafBytes()
		require.NoError(t, err)
		pos := rapid.IntRange(0, len(leaf)-1).Draw(t, "byte")
		tampered := append([]byte(nil), leaf...)
		tampered[pos] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
		require.Error(t, proofs[i].Verify(root, tampered), "a changed receipt byte must fail")

		if len(proofs[i].Aunts) > 0 {
			p := *proofs[i]
			p.Aunts = append([][]byte(nil), p.Aunts...)
			a := rapid.IntRange(0, len(p.Aunts)-1).Draw(t, "aunt")
			p.Aunts[a] = append([]byte(nil), p.Aunts[a]...)
			p.Aunts[a][0] ^= 1
			require.Error(t, types.VerifyReceipt(root, receipts[i], &p), "a changed proof must fail")
		}
		if n > 1 {
			j := (i + 1) % n
			require.Error(t, types.VerifyReceipt(root, receipts[j], proofs[i]), "a proof for another position must fail")
		}
		badRoot := append([]byte(nil), root...)
		badRoot[0] ^= 1
		require.Error(t, types.VerifyReceipt(badRoot, receipts[i], proofs[i]))
	})
}

func TestReceiptEncodingIsCanonical(t *testing.T) {
	r := types.ReceiptLeaf{SchemaVersion: 1, LeaseId: 3, Sequence: 9, GpuSku: "H100-SXM-80GB", Price: sdk.NewInt64Coin("uusdc", 5)}
	a, err := r.LeafBytes()
	require.NoError(t, err)
	var back types.ReceiptLeaf
	require.NoError(t, back.Unmarshal(a))
	b, err := back.LeafBytes()
	require.NoError(t, err)
	require.Equal(t, a, b, "decode then encode gives the same bytes")
	root, proofs, err := types.ReceiptTree([]types.ReceiptLeaf{r})
	require.NoError(t, err)
	require.Equal(t, merkle.HashFromByteSlices([][]byte{a}), root)
	require.NoError(t, types.VerifyReceipt(root, back, proofs[0]))
}

func TestReceiptValidate(t *testing.T) {
	ok := types.ReceiptLeaf{SchemaVersion: 1, LeaseId: 1, Sequence: 1, StartUnixMs: 5, EndUnixMs: 6}
	require.NoError(t, ok.Validate())
	for name, mod := range map[string]func(r *types.ReceiptLeaf){
		"schema":     func(r *types.ReceiptLeaf) { r.SchemaVersion = 2 },
		"no lease":   func(r *types.ReceiptLeaf) { r.LeaseId = 0 },
		"sequence 0": func(r *types.ReceiptLeaf) { r.Sequence = 0 },
		"ends early": func(r *types.ReceiptLeaf) { r.EndUnixMs = 4 },
		"bad price":  func(r *types.ReceiptLeaf) { r.Price = sdk.Coin{Denom: "!", Amount: sdkmath.OneInt()} },
	} {
		r := ok
		mod(&r)
		require.Error(t, r.Validate(), name)
	}
	_, _, err := types.ReceiptTree(nil)
	require.Error(t, err)
}
