package keeper_test

import (
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// receipts are the canonical leaves first..last of a lease, one uusdc each.
func receipts(lease, first, last uint64) []types.ReceiptLeaf {
	out := make([]types.ReceiptLeaf, 0, last-first+1)
	for s := first; s <= last; s++ {
		out = append(out, types.ReceiptLeaf{
			SchemaVersion: types.ReceiptSchemaVersion, LeaseId: lease, Sequence: s, GpuSku: "H100-SXM-80GB",
			VramGib: 80, Metro: "FRA", StartUnixMs: 1_800_000_000_000 + int64(s), EndUnixMs: 1_800_000_000_100 + int64(s),
			Price: usdcCoin(1),
		})
	}
	return out
}

func batchMsg(p sdk.AccAddress, lease, first, last uint64, root []byte) *types.MsgSubmitReceiptBatch {
	return &types.MsgSubmitReceiptBatch{
		Provider: p.String(), LeaseId: lease, FirstSequence: first, LastSequence: last, Count: last - first + 1,
		MerkleRoot: root, Usage: usdcCoin(int64(last - first + 1)),
	}
}

func (e *env) submitBatch(m *types.MsgSubmitReceiptBatch) error {
	_, err := e.Exec(func(ctx sdk.Context) error { _, err := e.srv.SubmitReceiptBatch(ctx, m); return err })
	return err
}

// TestReceiptBatches: batches continue the lease's sequence, and each receipt verifies against
// the root of the batch holding it, at its own position only.
func TestReceiptBatches(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.lease(p, slaOrder(e.buyer))

	first := receipts(lease, 1, 10)
	root1, _, err := types.ReceiptTree(first)
	require.NoError(t, err)
	ev := e.must(func(ctx sdk.Context) error {
		_, err := e.srv.SubmitReceiptBatch(ctx, batchMsg(p, lease, 1, 10, root1))
		return err
	})
	require.True(t, hasTxEvent(ev, "computed.sla.v1.EventReceiptBatchAnchored"))
	second := receipts(lease, 11, 700)
	root2, proofs, err := types.ReceiptTree(second)
	require.NoError(t, err)
	require.NoError(t, e.submitBatch(batchMsg(p, lease, 11, 700, root2)))
	require.Equal(t, uint64(700), e.slaLease(lease).LastSequence)

	b, err := e.App.SLAKeeper.BatchFor(e.Ctx(), lease, 10)
	require.NoError(t, err)
	require.Equal(t, uint64(1), b.FirstSequence)
	b, err = e.App.SLAKeeper.BatchFor(e.Ctx(), lease, 11)
	require.NoError(t, err)
	require.Equal(t, uint64(11), b.FirstSequence)
	require.Equal(t, usdcCoin(690), b.Usage)
	_, err = e.App.SLAKeeper.BatchFor(e.Ctx(), lease, 701)
	require.ErrorIs(t, err, types.ErrBatchNotFound)
	_, err = e.App.SLAKeeper.BatchFor(e.Ctx(), lease+1, 1)
	require.ErrorIs(t, err, types.ErrBatchNotFound)

	proof := func(i int) types.MerkleProof {
		pr := proofs[i]
		return types.MerkleProof{Total: pr.Total, Index: pr.Index, LeafHash: pr.LeafHash, Aunts: pr.Aunts}
	}
	verify := func(r types.ReceiptLeaf, pr types.MerkleProof) *types.QueryVerifyReceiptResponse {
		res, err := e.q.VerifyReceipt(e.Ctx(), &types.QueryVerifyReceiptRequest{LeaseId: lease, Receipt: r, Proof: pr})
		require.NoError(t, err)
		return res
	}
	res := verify(second[489], proof(489))
	require.True(t, res.Valid, res.Reason)
	require.Equal(t, uint64(11), res.Batch.FirstSequence)

	tampered := second[489]
	tampered.Price = usdcCoin(2)
	require.False(t, verify(tampered, proof(489)).Valid, "changed receipt")
	require.False(t, verify(second[488], proof(489)).Valid, "another receipt's proof")
	moved := second[489]
	moved.Sequence = 12
	require.False(t, verify(moved, proof(489)).Valid, "proof for another position")
	require.False(t, verify(receipts(lease, 800, 800)[0], proof(0)).Valid, "not anchored yet")
	wrongLease := second[0]
	wrongLease.LeaseId = lease + 1
	require.False(t, verify(wrongLease, proof(0)).Valid, "receipt of another lease")
}

func TestReceiptBatchRejects(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.lease(p, slaOrder(e.buyer))
	require.NoError(t, e.submitBatch(batchMsg(p, lease, 1, 10, root(1))))
	gs, bal := e.snapshot()

	cases := []struct {
		name string
		mod  func(m *types.MsgSubmitReceiptBatch)
		err  *errorsmod.Error
	}{
		{"bad provider address", func(m *types.MsgSubmitReceiptBatch) { m.Provider = "cmpt1nope" }, types.ErrInvalidAddress},
		{"not the lease's provider", func(m *types.MsgSubmitReceiptBatch) { m.Provider = e.providers[1].String() }, types.ErrUnauthorized},
		{"unknown lease", func(m *types.MsgSubmitReceiptBatch) { m.LeaseId = 999 }, types.ErrLeaseNotFound},
		{"gap", func(m *types.MsgSubmitReceiptBatch) { m.FirstSequence, m.Count = 12, 9 }, types.ErrSequenceGap},
		{"overlap", func(m *types.MsgSubmitReceiptBatch) { m.FirstSequence, m.Count = 10, 11 }, types.ErrSequenceGap},
		{"restart at 1", func(m *types.MsgSubmitReceiptBatch) { m.FirstSequence, m.Count = 1, 20 }, types.ErrSequenceGap},
		{"last before first", func(m *types.MsgSubmitReceiptBatch) { m.LastSequence, m.Count = 10, 0 }, types.ErrInvalidBatch},
		{"count disagrees", func(m *types.MsgSubmitReceiptBatch) { m.Count = 11 }, types.ErrInvalidBatch},
		{"short root", func(m *types.MsgSubmitReceiptBatch) { m.MerkleRoot = root(1)[:31] }, types.ErrInvalidBatch},
		{"no root", func(m *types.MsgSubmitReceiptBatch) { m.MerkleRoot = nil }, types.ErrInvalidBatch},
		{"usage in another denom", func(m *types.MsgSubmitReceiptBatch) { m.Usage = cmptCoin(1) }, types.ErrInvalidBatch},
		{"negative usage", func(m *types.MsgSubmitReceiptBatch) { m.Usage = sdk.Coin{Denom: usdc, Amount: sdkmath.NewInt(-1)} }, types.ErrInvalidBatch},
		{"usage without amount", func(m *types.MsgSubmitReceiptBatch) { m.Usage = sdk.Coin{Denom: usdc} }, types.ErrInvalidBatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := batchMsg(p, lease, 11, 20, root(2))
			tc.mod(m)
			require.ErrorIs(t, e.submitBatch(m), tc.err)
		})
	}
	e.requireUnchanged(gs, bal)

	// A closed lease's last receipts are taken until report_grace_blocks after the close, in
	// sequence as before; then no more.
	e.must(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: p.String(), LeaseId: lease})
		return err
	})
	closed := e.marketLease(lease).ClosedHeight
	require.NotZero(t, closed)
	require.ErrorIs(t, e.submitBatch(batchMsg(p, lease, 12, 20, root(2))), types.ErrSequenceGap, "a closed lease's batches still continue its sequence")
	require.ErrorIs(t, e.submitBatch(batchMsg(e.providers[1], lease, 11, 20, root(2))), types.ErrUnauthorized)
	require.NoError(t, e.submitBatch(batchMsg(p, lease, 11, 20, root(2))), "the last receipts, just after the close")
	e.finalizeThrough(closed + int64(e.params().ReportGraceBlocks) - 1)
	require.Equal(t, closed+int64(e.params().ReportGraceBlocks), e.Height())
	require.NoError(t, e.submitBatch(batchMsg(p, lease, 21, 21, root(3))), "the grace's last block")
	require.Equal(t, uint64(21), e.slaLease(lease).LastSequence)
	e.NextBlock()
	err := e.submitBatch(batchMsg(p, lease, 22, 22, root(4)))
	require.ErrorIs(t, err, types.ErrLeaseClosed, "after the grace")
	require.ErrorContains(t, err, "its receipts were taken until height")
	e.checkAll()
}

// TestReceiptSequenceCannotWrap: a lease that anchored sequence 2^64-1 takes no further batch,
// whose first sequence would wrap to 0 and overlap the first batch.
func TestReceiptSequenceCannotWrap(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.lease(p, slaOrder(e.buyer))
	const last = ^uint64(0)
	m := &types.MsgSubmitReceiptBatch{
		Provider: p.String(), LeaseId: lease, FirstSequence: 1, LastSequence: last, Count: last,
		MerkleRoot: root(1), Usage: usdcCoin(1),
	}
	require.NoError(t, e.submitBatch(m))
	wrap := batchMsg(p, lease, 0, 5, root(2))
	require.ErrorIs(t, e.submitBatch(wrap), types.ErrSequenceGap)
}
