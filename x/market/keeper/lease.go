package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/market/types"
)

// startLease opens a lease for a winning bid and the escrow stream that pays it from the next
// block on, and records the clearing price.
func (k Keeper) startLease(ctx context.Context, o types.Order, b types.Bid) (uint64, error) {
	id, err := nextID(ctx, k.LeaseSeq)
	if err != nil {
		return 0, err
	}
	now := height(ctx)
	l := types.Lease{
		Id: id, OrderId: o.Id, BidId: b.Id, Owner: o.Owner, Provider: b.Provider,
		PricePerBlock: b.PricePerBlock, StartHeight: now, State: types.LEASE_STATE_ACTIVE,
	}
	// A replicated job has no duration (Validate refuses one, on creation and import): its leases
	// end at its resolution (x/sla).
	if o.DurationBlocks > 0 {
		l.EndHeight = now + int64(o.DurationBlocks)
		if err := k.LeaseEndQueue.Set(ctx, collections.Join(l.EndHeight, id)); err != nil {
			return 0, err
		}
	}
	owner, err := k.addressCodec.StringToBytes(o.Owner)
	if err != nil {
		return 0, err
	}
	provider, err := k.addressCodec.StringToBytes(b.Provider)
	if err != nil {
		return 0, err
	}
	if err := k.Leases.Set(ctx, id, l); err != nil {
		return 0, err
	}
	for _, idx := range []error{
		k.LeasesByOrder.Set(ctx, collections.Join(o.Id, id)),
		k.LeasesByOwner.Set(ctx, collections.Join([]byte(owner), id)),
		k.LeasesByProvider.Set(ctx, collections.Join([]byte(provider), id)),
		k.LiveLeases.Set(ctx, collections.Join([]byte(provider), id)),
	} {
		if idx != nil {
			return 0, idx
		}
	}
	if err := k.holdGPUs(ctx, provider, o.Requirements); err != nil {
		return 0, err
	}
	if err := k.escrow.OpenStream(ctx, o.Id, id, provider, b.PricePerBlock); err != nil {
		return 0, err
	}
	if err := k.recordPrice(ctx, o.Requirements, b.PricePerBlock); err != nil {
		return 0, err
	}
	if err := emit(ctx, &types.EventLeaseCreated{
		LeaseId: id, OrderId: o.Id, Owner: o.Owner, Provider: b.Provider,
		PricePerBlock: b.PricePerBlock.String(), EndHeight: l.EndHeight,
	}); err != nil {
		return 0, err
	}
	if h := k.hooks.hooks; h != nil {
		if err := h.AfterLeaseCreated(ctx, l, o); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// endLease closes an active lease and its stream; the order closes with its last lease.
func (k Keeper) endLease(ctx context.Context, l types.Lease, reason types.CloseReason, detail string) error {
	if l.State != types.LEASE_STATE_ACTIVE {
		return nil
	}
	if l.EndHeight != 0 {
		if err := k.LeaseEndQueue.Remove(ctx, collections.Join(l.EndHeight, l.Id)); err != nil {
			return err
		}
	}
	// Idempotent in escrow: after a depletion the stream is already closed.
	if err := k.escrow.CloseStream(ctx, l.Id, reason.String()); err != nil {
		return err
	}
	l.State, l.CloseReason, l.ClosedHeight = types.LEASE_STATE_CLOSED, reason, height(ctx)
	if err := k.Leases.Set(ctx, l.Id, l); err != nil {
		return err
	}
	if err := emit(ctx, &types.EventLeaseClosed{LeaseId: l.Id, OrderId: l.OrderId, Reason: reason.String(), Detail: detail}); err != nil {
		return err
	}
	if h := k.hooks.hooks; h != nil {
		if err := h.AfterLeaseClosed(ctx, l); err != nil {
			return err
		}
	}
	o, err := k.getOrder(ctx, l.OrderId)
	if err != nil {
		return err
	}
	provider, err := k.addressCodec.StringToBytes(l.Provider)
	if err != nil {
		return err
	}
	if err := k.freeGPUs(ctx, provider, o.Requirements); err != nil {
		return err
	}
	if err := k.LiveLeases.Remove(ctx, collections.Join([]byte(provider), l.Id)); err != nil {
		return err
	}
	if o.ActiveLeases > 0 {
		o.ActiveLeases--
	}
	if err := k.Orders.Set(ctx, o.Id, o); err != nil {
		return err
	}
	if o.ActiveLeases == 0 && o.State == types.ORDER_STATE_ACTIVE {
		return k.finishOrder(ctx, o, reason)
	}
	return nil
}

// closeLease is MsgCloseLease: the owner or the provider ends a lease; the reason is whose it was.
func (k Keeper) closeLease(ctx context.Context, msg *types.MsgCloseLease) error {
	if _, err := k.addr(msg.Sender, "sender"); err != nil {
		return err
	}
	if len(msg.Detail) > types.MaxDetailSize {
		return errorsmod.Wrapf(types.ErrInvalidOrder, "detail is %d bytes, at most %d", len(msg.Detail), types.MaxDetailSize)
	}
	l, err := k.Leases.Get(ctx, msg.LeaseId)
	if err != nil {
		return errorsmod.Wrapf(types.ErrLeaseNotFound, "lease %d", msg.LeaseId)
	}
	if l.State != types.LEASE_STATE_ACTIVE {
		return errorsmod.Wrapf(types.ErrLeaseClosed, "lease %d", l.Id)
	}
	var reason types.CloseReason
	switch msg.Sender {
	case l.Owner:
		reason = types.CLOSE_REASON_OWNER
	case l.Provider:
		reason = types.CLOSE_REASON_PROVIDER
	default:
		return errorsmod.Wrapf(types.ErrUnauthorized, "only lease %d's owner or provider may close it", l.Id)
	}
	if h := k.hooks.hooks; h != nil && reason == types.CLOSE_REASON_OWNER {
		// Closing the leases one by one ends the order as closing it does: the same rules.
		o, err := k.getOrder(ctx, l.OrderId)
		if err != nil {
			return err
		}
		if err := h.BeforeOwnerClosesOrder(ctx, o); err != nil {
			return err
		}
	}
	return k.endLease(ctx, l, reason, msg.Detail)
}

// CloseLeaseFor is the keeper API other modules use to end a lease: x/sla after repeated
// breaches, x/attest when a provider's attestation lapses.
func (k Keeper) CloseLeaseFor(ctx context.Context, leaseID uint64, reason types.CloseReason) error {
	l, err := k.Leases.Get(ctx, leaseID)
	if err != nil {
		return errorsmod.Wrapf(types.ErrLeaseNotFound, "lease %d", leaseID)
	}
	return k.endLease(ctx, l, reason, "")
}

// GetLease returns a lease by id.
func (k Keeper) GetLease(ctx context.Context, id uint64) (types.Lease, error) {
	l, err := k.Leases.Get(ctx, id)
	if err != nil {
		return l, errorsmod.Wrapf(types.ErrLeaseNotFound, "lease %d", id)
	}
	return l, nil
}

// GetOrder returns an order by id.
func (k Keeper) GetOrder(ctx context.Context, id uint64) (types.Order, error) {
	return k.getOrder(ctx, id)
}

// SetOrderResult records the result digest x/sla's commit-reveal agreed on for a replicated order.
func (k Keeper) SetOrderResult(ctx context.Context, orderID uint64, resultDigest string) error {
	o, err := k.getOrder(ctx, orderID)
	if err != nil {
		return err
	}
	o.ResultDigest = resultDigest
	if err := k.Orders.Set(ctx, o.Id, o); err != nil {
		return err
	}
	return emit(ctx, &types.EventOrderResult{OrderId: o.Id, ResultDigest: resultDigest})
}

// EscrowHooks returns x/market's reaction to escrow's own decisions.
func (k Keeper) EscrowHooks() escrowHooks { return escrowHooks{k} }

type escrowHooks struct{ k Keeper }

// AfterAccountDepleted closes the leases whose streams ran out, with reason insufficient funds.
func (h escrowHooks) AfterAccountDepleted(ctx context.Context, _ uint64, leaseIDs []uint64) error {
	for _, id := range leaseIDs {
		if err := h.k.CloseLeaseFor(ctx, id, types.CLOSE_REASON_INSUFFICIENT_FUNDS); err != nil {
			return err
		}
	}
	return nil
}

// recordPrice folds a clearing price into the (SKU, metro, denom) index: last price, an integer
// EMA weighted by params and a count.
func (k Keeper) recordPrice(ctx context.Context, req types.Requirements, price sdk.Coin) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	key := collections.Join3(req.GpuSku, req.Metro, price.Denom)
	e, err := k.Prices.Get(ctx, key)
	if err != nil {
		e = types.PriceIndexEntry{GpuSku: req.GpuSku, Metro: req.Metro, Denom: price.Denom, Ema: price.Amount}
	} else {
		w := int64(params.PriceEmaWeightBps)
		e.Ema = e.Ema.MulRaw(10_000 - w).Add(price.Amount.MulRaw(w)).QuoRaw(10_000)
	}
	e.LastPrice, e.Count, e.UpdatedHeight = price.Amount, e.Count+1, height(ctx)
	if err := k.Prices.Set(ctx, key, e); err != nil {
		return err
	}
	return emit(ctx, &types.EventPriceUpdated{
		GpuSku: e.GpuSku, Metro: e.Metro, Denom: e.Denom, LastPrice: e.LastPrice.String(), Ema: e.Ema.String(), Count: e.Count,
	})
}

// LeasedGPUs is how many GPUs of sku provider's active leases hold; x/attest refuses a record
// that would replace one covering them with one that does not.
func (k Keeper) LeasedGPUs(ctx context.Context, provider sdk.AccAddress, sku string) (uint32, error) {
	return k.leasedGPUs(ctx, provider, sku)
}

// ActiveLeaseCount is how many active leases provider holds; x/attest refuses to deregister a
// provider while it has any. It reads only that provider's active leases' keys.
func (k Keeper) ActiveLeaseCount(ctx context.Context, provider sdk.AccAddress) (uint64, error) {
	iter, err := k.LiveLeases.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, uint64](provider))
	if err != nil {
		return 0, err
	}
	defer iter.Close()
	var n uint64
	for ; iter.Valid(); iter.Next() {
		n++
	}
	return n, nil
}
