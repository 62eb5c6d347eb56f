package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	attesttypes "github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// Hooks are x/sla's reactions to x/market's leases and x/attest's lapses. A type of its own so the
// keeper does not itself implement the hook interfaces (depinject binds interfaces to every
// provided type that implements them).
type Hooks struct{ k Keeper }

var (
	_ markettypes.MarketHooks = Hooks{}
	_ attesttypes.AttestHooks = Hooks{}
)

// Hooks returns the keeper's hooks.
func (k Keeper) Hooks() Hooks { return Hooks{k} }

// AfterLeaseCreated starts enforcing a lease: it locks the order's required bond, and either
// schedules the first SLA window or, for a replicated job, joins the order's commit-reveal with
// the stream paused until the result is agreed.
func (h Hooks) AfterLeaseCreated(ctx context.Context, lease markettypes.Lease, order markettypes.Order) error {
	k := h.k
	provider, err := k.addr(lease.Provider, "provider")
	if err != nil {
		return err
	}
	locked, err := k.lockBond(ctx, provider, lease.Id, order.Requirements.MinProviderBond)
	if err != nil {
		return err
	}
	if locked.Denom == "" {
		locked = sdk.NewCoin(lease.PricePerBlock.Denom, sdkmath.ZeroInt())
	}
	ls := types.LeaseSLA{
		LeaseId: lease.Id, OrderId: order.Id, Provider: lease.Provider, Buyer: lease.Owner, Terms: order.Sla,
		PricePerBlock: lease.PricePerBlock, StartHeight: lease.StartHeight, NextWindow: 1,
		LockedBond: locked, Active: true,
	}
	if types.Replicated(order) {
		// A replicated job is judged by commit-reveal, not by windows.
		ls.Terms.WindowBlocks = 0
	}
	if err := k.Leases.Set(ctx, lease.Id, ls); err != nil {
		return err
	}
	if err := k.LeasesByProvider.Set(ctx, collections.Join([]byte(provider), lease.Id)); err != nil {
		return err
	}
	if err := emit(ctx, &types.EventLeaseEnforced{
		LeaseId: lease.Id, Provider: lease.Provider, LockedBond: locked.String(),
		WindowBlocks: ls.Terms.WindowBlocks, Replicated: types.Replicated(order),
	}); err != nil {
		return err
	}
	if types.Replicated(order) {
		return k.joinReplication(ctx, order, lease)
	}
	if ls.Terms.WindowBlocks == 0 {
		return nil
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	due := types.WindowDue(ls.StartHeight, ls.Terms.WindowBlocks, 1, params.ReportGraceBlocks)
	return k.WindowQueue.Set(ctx, collections.Join(due, lease.Id))
}

// AfterLeaseClosed releases the lease's bond lock. Windows that ended before the close are still
// judged when they fall due; later ones are dropped then.
func (h Hooks) AfterLeaseClosed(ctx context.Context, lease markettypes.Lease) error {
	k := h.k
	ls, err := k.Leases.Get(ctx, lease.Id)
	if err != nil {
		return nil // a lease x/sla never enforced (created before it was wired)
	}
	if !ls.Active {
		return nil
	}
	provider, err := k.addr(ls.Provider, "provider")
	if err != nil {
		return err
	}
	if err := k.releaseBond(ctx, provider, ls.LeaseId, ls.LockedBond); err != nil {
		return err
	}
	ls.Active = false
	ls.LockedBond = sdk.NewCoin(ls.LockedBond.Denom, sdkmath.ZeroInt())
	if err := k.Leases.Set(ctx, ls.LeaseId, ls); err != nil {
		return err
	}
	return k.LeasesByProvider.Remove(ctx, collections.Join([]byte(provider), ls.LeaseId))
}

// BeforeOwnerClosesOrder refuses to close a replicated order, or any of its leases, while its
// replicas commit or reveal: their streams are paused and each winner is paid only when the
// result is agreed, so a close then would refund the buyer in full for work already done
// (closing the leases one by one, the last close refunds the deposit, and the result is still
// revealed). The order closes itself at resolution, at most the params' commit plus reveal
// blocks after its first lease.
func (h Hooks) BeforeOwnerClosesOrder(ctx context.Context, order markettypes.Order) error {
	r, err := h.k.Replications.Get(ctx, order.Id)
	if errors.Is(err, collections.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Status == types.REPLICATION_STATUS_COMMITTING || r.Status == types.REPLICATION_STATUS_REVEALING {
		return errorsmod.Wrapf(types.ErrReplicationOpen,
			"order %d's replicas commit until height %d and reveal until %d; it closes itself when the result is resolved",
			order.Id, r.CommitDeadline, r.RevealDeadline)
	}
	return nil
}

// AfterAttestationLapsed breaches and closes (CLOSE_REASON_ATTESTATION_LAPSED) every active lease
// of the provider whose order it no longer qualifies for: the buyer paid for attested hardware,
// and the proof of it has run out; the stream stops in this block and the rest of the deposit
// stays the buyer's. A lease whose order another record still covers (an evidence type the order
// did not name lapsed) is left alone. The breach costs one window's penalty, as a missed window
// would; windows that ended before the close are still judged.
func (h Hooks) AfterAttestationLapsed(ctx context.Context, provider sdk.AccAddress) error {
	k := h.k
	m, err := k.mkt()
	if err != nil {
		return err
	}
	iter, err := k.LeasesByProvider.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, uint64](provider))
	if err != nil {
		return err
	}
	ids, err := iter.Keys()
	if err != nil {
		return err
	}
	for _, key := range ids {
		ls, err := k.Leases.Get(ctx, key.K2())
		if err != nil {
			return err
		}
		if !ls.Active || ls.LapseBreachedHeight == height(ctx) {
			continue
		}
		if k.attest != nil {
			o, err := m.GetOrder(ctx, ls.OrderId)
			if err != nil {
				return err
			}
			if k.attest.CheckWinner(ctx, provider, o.Requirements) == nil {
				continue
			}
		}
		ls.LapseBreachedHeight = height(ctx)
		if err := k.Leases.Set(ctx, ls.LeaseId, ls); err != nil {
			return err
		}
		if _, err := k.breach(ctx, ls.LeaseId, "attestation lapsed", height(ctx)); err != nil {
			return err
		}
		// The breach may have terminated it already (its last allowed breach).
		if ls, err = k.Leases.Get(ctx, ls.LeaseId); err != nil {
			return err
		}
		if ls.Active {
			if err := m.CloseLeaseFor(ctx, ls.LeaseId, markettypes.CLOSE_REASON_ATTESTATION_LAPSED); err != nil {
				return err
			}
		}
	}
	return nil
}
