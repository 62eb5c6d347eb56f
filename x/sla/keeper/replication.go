package keeper

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"math/big"
	"sort"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// joinReplication adds a replica lease to its order's commit-reveal, creating it with the first
// replica. The stream is paused: a replica is paid only if its result wins.
func (k Keeper) joinReplication(ctx context.Context, order markettypes.Order, lease markettypes.Lease) error {
	if err := k.escrow.PauseStream(ctx, lease.Id); err != nil {
		return err
	}
	r, err := k.Replications.Get(ctx, order.Id)
	if errors.Is(err, collections.ErrNotFound) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return err
		}
		now := height(ctx)
		r = types.Replication{
			OrderId: order.Id, Buyer: order.Owner, Replicas: order.Replicas, StartHeight: now,
			CommitDeadline: now + int64(params.CommitBlocks),
			RevealDeadline: now + int64(params.CommitBlocks+params.RevealBlocks),
			Status:         types.REPLICATION_STATUS_COMMITTING,
		}
		if err := k.ReplicationQueue.Set(ctx, collections.Join(r.RevealDeadline, order.Id)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	zero := sdk.NewInt64Coin(lease.PricePerBlock.Denom, 0)
	r.Members = append(r.Members, types.Replica{LeaseId: lease.Id, Provider: lease.Provider, Slashed: zero, Paid: zero})
	if err := k.Replications.Set(ctx, order.Id, r); err != nil {
		return err
	}
	return emit(ctx, &types.EventReplicaJoined{
		OrderId: order.Id, LeaseId: lease.Id, Provider: lease.Provider,
		CommitDeadline: r.CommitDeadline, RevealDeadline: r.RevealDeadline,
	})
}

// replicaOf finds the replication and member index of a lease, checking the sender is its provider.
func (k Keeper) replicaOf(ctx context.Context, leaseID uint64, sender string) (types.Replication, int, error) {
	ls, err := k.getLeaseSLA(ctx, leaseID)
	if err != nil {
		return types.Replication{}, 0, err
	}
	if ls.Provider != sender {
		return types.Replication{}, 0, errorsmod.Wrapf(types.ErrUnauthorized, "only lease %d's provider %s may commit or reveal", leaseID, ls.Provider)
	}
	r, err := k.Replications.Get(ctx, ls.OrderId)
	if err != nil {
		return r, 0, errorsmod.Wrapf(types.ErrNotReplicated, "lease %d", leaseID)
	}
	for i, m := range r.Members {
		if m.LeaseId == leaseID {
			return r, i, nil
		}
	}
	return r, 0, errorsmod.Wrapf(types.ErrNotReplicated, "lease %d", leaseID)
}

// commitResult is MsgCommitResult, taken until the commit deadline.
func (k Keeper) commitResult(ctx context.Context, msg *types.MsgCommitResult) error {
	if _, err := k.addr(msg.Provider, "provider"); err != nil {
		return err
	}
	if len(msg.Commitment) != 32 {
		return errorsmod.Wrapf(types.ErrInvalidCommitment, "commitment must be 32 bytes, got %d", len(msg.Commitment))
	}
	r, i, err := k.replicaOf(ctx, msg.LeaseId, msg.Provider)
	if err != nil {
		return err
	}
	if r.Status != types.REPLICATION_STATUS_COMMITTING || height(ctx) > r.CommitDeadline {
		return errorsmod.Wrapf(types.ErrReplicationPhase, "order %d took commitments until height %d", r.OrderId, r.CommitDeadline)
	}
	if len(r.Members[i].Commitment) != 0 {
		return errorsmod.Wrapf(types.ErrAlreadyCommitted, "lease %d", msg.LeaseId)
	}
	r.Members[i].Commitment = msg.Commitment
	if err := k.Replications.Set(ctx, r.OrderId, r); err != nil {
		return err
	}
	return emit(ctx, &types.EventResultCommitted{OrderId: r.OrderId, LeaseId: msg.LeaseId, Provider: msg.Provider})
}

// revealResult is MsgRevealResult, taken after the commit deadline until the reveal deadline, so
// no replica can see another's result before committing its own. The last reveal resolves.
func (k Keeper) revealResult(ctx context.Context, msg *types.MsgRevealResult) error {
	provider, err := k.addr(msg.Provider, "provider")
	if err != nil {
		return err
	}
	if len(msg.ResultDigest) != 32 {
		return errorsmod.Wrapf(types.ErrInvalidCommitment, "result_digest must be 32 bytes, got %d", len(msg.ResultDigest))
	}
	if len(msg.Salt) == 0 || len(msg.Salt) > types.MaxSaltSize {
		return errorsmod.Wrapf(types.ErrInvalidCommitment, "salt must be 1..%d bytes, got %d", types.MaxSaltSize, len(msg.Salt))
	}
	r, i, err := k.replicaOf(ctx, msg.LeaseId, msg.Provider)
	if err != nil {
		return err
	}
	now := height(ctx)
	if r.Status == types.REPLICATION_STATUS_COMMITTING && now > r.CommitDeadline {
		r.Status = types.REPLICATION_STATUS_REVEALING
	}
	if r.Status != types.REPLICATION_STATUS_REVEALING || now > r.RevealDeadline {
		return errorsmod.Wrapf(types.ErrReplicationPhase, "order %d takes reveals after height %d until %d", r.OrderId, r.CommitDeadline, r.RevealDeadline)
	}
	m := &r.Members[i]
	switch {
	case len(m.Commitment) == 0:
		return errorsmod.Wrapf(types.ErrCommitMismatch, "lease %d never committed", msg.LeaseId)
	case m.Revealed:
		return errorsmod.Wrapf(types.ErrAlreadyRevealed, "lease %d", msg.LeaseId)
	case !bytes.Equal(types.Commitment(msg.ResultDigest, provider, msg.Salt), m.Commitment):
		return errorsmod.Wrapf(types.ErrCommitMismatch, "lease %d", msg.LeaseId)
	}
	m.ResultDigest, m.Revealed = msg.ResultDigest, true
	if err := k.Replications.Set(ctx, r.OrderId, r); err != nil {
		return err
	}
	if err := emit(ctx, &types.EventResultRevealed{OrderId: r.OrderId, LeaseId: msg.LeaseId, ResultDigest: hex.EncodeToString(msg.ResultDigest)}); err != nil {
		return err
	}
	for _, m := range r.Members {
		if !m.Revealed {
			return nil
		}
	}
	return k.resolveReplication(ctx, r)
}

// replicationDeadline runs in EndBlock at the reveal deadline of a still-open replication.
func (k Keeper) replicationDeadline(ctx context.Context, orderID uint64) error {
	r, err := k.Replications.Get(ctx, orderID)
	if err != nil {
		return err
	}
	if r.Status == types.REPLICATION_STATUS_AGREED || r.Status == types.REPLICATION_STATUS_FAILED {
		return k.ReplicationQueue.Remove(ctx, collections.Join(r.RevealDeadline, orderID))
	}
	return k.resolveReplication(ctx, r)
}

// resolveReplication tallies the reveals. A digest revealed by a strict majority of the order's
// replicas wins: its replicas are paid for the blocks they ran, the others (dissenters and those
// that never revealed) are slashed the params' fraction of their bond to the buyer, the digest is
// recorded on the order and the leases close as completed. Without a majority the order fails:
// the leases close, nothing was paid from the paused streams, so the buyer's deposit comes back
// whole; replicas that never revealed are still slashed.
func (k Keeper) resolveReplication(ctx context.Context, r types.Replication) error {
	if err := k.ReplicationQueue.Remove(ctx, collections.Join(r.RevealDeadline, r.OrderId)); err != nil {
		return err
	}
	m, err := k.mkt()
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	votes := map[string]uint32{}
	for _, mem := range r.Members {
		if mem.Revealed {
			votes[string(mem.ResultDigest)]++
		}
	}
	digests := make([]string, 0, len(votes))
	for d := range votes {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	var winner string
	for _, d := range digests {
		if 2*votes[d] > r.Replicas {
			winner = d
		}
	}
	now := height(ctx)
	r.Status, r.ResolvedHeight = types.REPLICATION_STATUS_FAILED, now
	reason := markettypes.CLOSE_REASON_REPLICATION_FAILED
	if winner != "" {
		r.Status, r.ResultDigest = types.REPLICATION_STATUS_AGREED, []byte(winner)
		reason = markettypes.CLOSE_REASON_COMPLETED
	}
	buyer, err := k.addr(r.Buyer, "buyer")
	if err != nil {
		return err
	}
	owed, share, err := k.winnersShare(ctx, r, winner, now)
	if err != nil {
		return err
	}
	var won, slashed []uint64
	for i := range r.Members {
		mem := &r.Members[i]
		ls, err := k.getLeaseSLA(ctx, mem.LeaseId)
		if err != nil {
			return err
		}
		wins := winner != "" && mem.Revealed && string(mem.ResultDigest) == winner
		punish := !mem.Revealed || (winner != "" && !wins)
		switch {
		case wins && ls.Active:
			if due, ok := owed[mem.LeaseId]; ok && share(due).IsPositive() {
				due = share(due)
				paid, err := k.escrow.PayStream(ctx, mem.LeaseId, due)
				if err != nil {
					return err
				}
				mem.Paid = sdk.NewCoin(ls.PricePerBlock.Denom, paid)
			}
			won = append(won, mem.LeaseId)
		case punish:
			provider, err := k.addr(mem.Provider, "provider")
			if err != nil {
				return err
			}
			denom := ls.LockedBond.Denom
			if denom == "" {
				denom = ls.PricePerBlock.Denom
			}
			// The replica's part began with its lease: unbonding since then does not shrink the cut.
			at, err := k.slashable(ctx, provider, denom, ls.StartHeight)
			if err != nil {
				return err
			}
			cut := at.MulRaw(int64(params.ReplicaSlashBps)).QuoRaw(10_000)
			if mem.Slashed, err = k.slash(ctx, provider, buyer, sdk.NewCoin(denom, cut), ls.StartHeight); err != nil {
				return err
			}
			if err := emit(ctx, &types.EventPenaltyPaid{
				LeaseId: mem.LeaseId, Provider: mem.Provider, Buyer: r.Buyer, Amount: mem.Slashed.String(),
				Shortfall: sdk.NewCoin(denom, cut.Sub(mem.Slashed.Amount)).String(), Reason: "replica dissented or did not reveal",
			}); err != nil {
				return err
			}
			if err := k.recordAttainment(ctx, mem.Provider, 0); err != nil {
				return err
			}
			slashed = append(slashed, mem.LeaseId)
		}
		if wins {
			if err := k.recordAttainment(ctx, mem.Provider, 10_000); err != nil {
				return err
			}
		}
	}
	if err := k.Replications.Set(ctx, r.OrderId, r); err != nil {
		return err
	}
	if winner != "" {
		if err := m.SetOrderResult(ctx, r.OrderId, hex.EncodeToString([]byte(winner))); err != nil {
			return err
		}
	}
	for _, mem := range r.Members {
		if err := m.CloseLeaseFor(ctx, mem.LeaseId, reason); err != nil {
			return err
		}
	}
	return emit(ctx, &types.EventReplicationResolved{
		OrderId: r.OrderId, Status: r.Status.String(), ResultDigest: hex.EncodeToString(r.ResultDigest),
		WinningLeases: won, SlashedLeases: slashed,
	})
}

// winnersShare is what each winner of a replicated job is owed (its price for every block since
// its lease started) and how a deposit too small for all of them is shared: in proportion to
// what each is owed, rounded down, the rest staying the buyer's. Paid in member order, the
// first winners took everything and the last got nothing for the same work.
func (k Keeper) winnersShare(ctx context.Context, r types.Replication, winner string, now int64) (map[uint64]sdkmath.Int, func(sdkmath.Int) sdkmath.Int, error) {
	owed := map[uint64]sdkmath.Int{}
	total := sdkmath.ZeroInt()
	var oneLease uint64
	for _, mem := range r.Members {
		if winner == "" || !mem.Revealed || string(mem.ResultDigest) != winner {
			continue
		}
		ls, err := k.getLeaseSLA(ctx, mem.LeaseId)
		if err != nil {
			return nil, nil, err
		}
		if !ls.Active || now <= ls.StartHeight {
			continue
		}
		due := ls.PricePerBlock.Amount.MulRaw(now - ls.StartHeight)
		owed[mem.LeaseId], total, oneLease = due, total.Add(due), mem.LeaseId
	}
	full := func(due sdkmath.Int) sdkmath.Int { return due }
	if total.IsZero() {
		return owed, full, nil
	}
	funds, err := k.escrow.StreamFunds(ctx, oneLease) // the order's one account
	if err != nil {
		return nil, nil, err
	}
	if funds.GTE(total) {
		return owed, full, nil
	}
	// In big.Int: owed amounts reach 2^149 (a 128-bit price times blocks), and the product
	// with the funds could pass sdkmath.Int's 256 bits. The share is below due, so it fits.
	return owed, func(due sdkmath.Int) sdkmath.Int {
		return sdkmath.NewIntFromBigInt(new(big.Int).Quo(new(big.Int).Mul(due.BigInt(), funds.BigInt()), total.BigInt()))
	}, nil
}
