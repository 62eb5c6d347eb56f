package keeper

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	"github.com/cometbft/cometbft/crypto/merkle"

	"github.com/computed-network/computed/x/sla/types"
)

// submitBatch is MsgSubmitReceiptBatch. It stores one root and moves one counter whatever the
// batch's size, so the gas per receipt falls as batches grow.
func (k Keeper) submitBatch(ctx context.Context, msg *types.MsgSubmitReceiptBatch) error {
	if _, err := k.addr(msg.Provider, "provider"); err != nil {
		return err
	}
	ls, err := k.getLeaseSLA(ctx, msg.LeaseId)
	if err != nil {
		return err
	}
	if msg.Provider != ls.Provider {
		return errorsmod.Wrapf(types.ErrUnauthorized, "only lease %d's provider %s may anchor its receipts", ls.LeaseId, ls.Provider)
	}
	// A closed lease's last receipts (the work of its last blocks, batched after the close) are
	// taken for report_grace_blocks after the close, as its last window's report is.
	if !ls.Active {
		closed, err := k.closedAt(ctx, ls)
		if err != nil {
			return err
		}
		params, err := k.Params.Get(ctx)
		if err != nil {
			return err
		}
		if until := closed + int64(params.ReportGraceBlocks); closed == 0 || height(ctx) > until {
			return errorsmod.Wrapf(types.ErrLeaseClosed, "lease %d closed at height %d; its receipts were taken until height %d", ls.LeaseId, closed, until)
		}
	}
	switch {
	case ls.LastSequence == math.MaxUint64:
		// The next sequence would wrap to 0 and overlap the first batch.
		return errorsmod.Wrapf(types.ErrSequenceGap, "lease %d has anchored every sequence", ls.LeaseId)
	case msg.FirstSequence != ls.LastSequence+1:
		return errorsmod.Wrapf(types.ErrSequenceGap, "lease %d anchored up to %d; the next batch must start at %d, not %d",
			ls.LeaseId, ls.LastSequence, ls.LastSequence+1, msg.FirstSequence)
	case msg.LastSequence < msg.FirstSequence:
		return errorsmod.Wrapf(types.ErrInvalidBatch, "last_sequence %d before first_sequence %d", msg.LastSequence, msg.FirstSequence)
	case msg.Count != msg.LastSequence-msg.FirstSequence+1:
		return errorsmod.Wrapf(types.ErrInvalidBatch, "count %d, but %d..%d holds %d", msg.Count, msg.FirstSequence, msg.LastSequence, msg.LastSequence-msg.FirstSequence+1)
	case len(msg.MerkleRoot) != types.RootSize:
		return errorsmod.Wrapf(types.ErrInvalidBatch, "merkle_root must be %d bytes, got %d", types.RootSize, len(msg.MerkleRoot))
	case msg.Usage.Denom != ls.PricePerBlock.Denom:
		return errorsmod.Wrapf(types.ErrInvalidBatch, "usage in %q, lease priced in %s", msg.Usage.Denom, ls.PricePerBlock.Denom)
	case msg.Usage.Amount.IsNil() || msg.Usage.IsNegative():
		return errorsmod.Wrapf(types.ErrInvalidBatch, "usage must not be negative")
	}
	b := types.ReceiptBatch{
		LeaseId: ls.LeaseId, FirstSequence: msg.FirstSequence, LastSequence: msg.LastSequence, Count: msg.Count,
		MerkleRoot: msg.MerkleRoot, Usage: msg.Usage, Height: height(ctx),
	}
	if err := k.Batches.Set(ctx, collections.Join(ls.LeaseId, msg.FirstSequence), b); err != nil {
		return err
	}
	ls.LastSequence = msg.LastSequence
	if err := k.Leases.Set(ctx, ls.LeaseId, ls); err != nil {
		return err
	}
	return emit(ctx, &types.EventReceiptBatchAnchored{
		LeaseId: ls.LeaseId, FirstSequence: msg.FirstSequence, LastSequence: msg.LastSequence, Count: msg.Count,
		MerkleRoot: hex.EncodeToString(msg.MerkleRoot), Usage: msg.Usage.String(),
	})
}

// BatchFor returns the anchored batch of lease holding receipt seq: the batch with the greatest
// first sequence at or below seq, found with one reverse range read.
func (k Keeper) BatchFor(ctx context.Context, leaseID, seq uint64) (types.ReceiptBatch, error) {
	rng := collections.NewPrefixedPairRange[uint64, uint64](leaseID).EndInclusive(seq).Descending()
	iter, err := k.Batches.Iterate(ctx, rng)
	if err != nil {
		return types.ReceiptBatch{}, err
	}
	defer iter.Close()
	if !iter.Valid() {
		return types.ReceiptBatch{}, errorsmod.Wrapf(types.ErrBatchNotFound, "lease %d has no batch holding receipt %d", leaseID, seq)
	}
	b, err := iter.Value()
	if err != nil {
		return b, err
	}
	if seq > b.LastSequence {
		return types.ReceiptBatch{}, errorsmod.Wrapf(types.ErrBatchNotFound, "lease %d has anchored receipts only up to %d, not %d", leaseID, b.LastSequence, seq)
	}
	return b, nil
}

// VerifyReceipt checks that receipt is the one anchored at its sequence: the proof must place it
// at its offset within the batch holding its sequence and hash up to that batch's root.
func (k Keeper) VerifyReceipt(ctx context.Context, leaseID uint64, receipt types.ReceiptLeaf, proof types.MerkleProof) (types.ReceiptBatch, error) {
	if receipt.LeaseId != leaseID {
		return types.ReceiptBatch{}, fmt.Errorf("receipt is for lease %d, not %d", receipt.LeaseId, leaseID)
	}
	if err := receipt.Validate(); err != nil {
		return types.ReceiptBatch{}, err
	}
	b, err := k.BatchFor(ctx, leaseID, receipt.Sequence)
	if err != nil {
		return b, err
	}
	if want := int64(receipt.Sequence - b.FirstSequence); proof.Index != want {
		return b, fmt.Errorf("proof is for position %d, receipt %d sits at %d of batch %d..%d", proof.Index, receipt.Sequence, want, b.FirstSequence, b.LastSequence)
	}
	if proof.Total != int64(b.Count) {
		return b, fmt.Errorf("proof is for a tree of %d leaves, the batch has %d", proof.Total, b.Count)
	}
	p := &merkle.Proof{Total: proof.Total, Index: proof.Index, LeafHash: proof.LeafHash, Aunts: proof.Aunts}
	if err := types.VerifyReceipt(b.MerkleRoot, receipt, p); err != nil {
		return b, errors.New("proof does not hash to the anchored root: " + err.Error())
	}
	return b, nil
}
