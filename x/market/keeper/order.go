package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/internal/addrs"
	"github.com/computed-network/computed/x/market/types"
)

func height(ctx context.Context) int64 { return sdk.UnwrapSDKContext(ctx).BlockHeight() }

func emit(ctx context.Context, ev proto.Message) error {
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(ev)
}

func (k Keeper) addr(s, field string) (sdk.AccAddress, error) {
	a, err := addrs.Decode(k.addressCodec, s)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, s, err)
	}
	return a, nil
}

func (k Keeper) getOrder(ctx context.Context, id uint64) (types.Order, error) {
	o, err := k.Orders.Get(ctx, id)
	if err != nil {
		return o, errorsmod.Wrapf(types.ErrOrderNotFound, "order %d", id)
	}
	return o, nil
}

// createOrder validates msg against params and escrow, locks the deposit and queues the order's
// clearing at the end of its bidding window.
func (k Keeper) createOrder(ctx context.Context, msg *types.MsgCreateOrder) (uint64, error) {
	owner, err := k.addr(msg.Owner, "owner")
	if err != nil {
		return 0, err
	}
	if err := msg.ValidateStateless(); err != nil {
		return 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	switch {
	case msg.BiddingWindowBlocks < params.MinBiddingWindowBlocks || msg.BiddingWindowBlocks > params.MaxBiddingWindowBlocks:
		return 0, errorsmod.Wrapf(types.ErrInvalidOrder, "bidding_window_blocks must be in %d..%d, got %d",
			params.MinBiddingWindowBlocks, params.MaxBiddingWindowBlocks, msg.BiddingWindowBlocks)
	case msg.Replicas > params.MaxReplicas:
		return 0, errorsmod.Wrapf(types.ErrInvalidOrder, "replicas must be at most %d, got %d", params.MaxReplicas, msg.Replicas)
	}
	closes := height(ctx) + int64(msg.BiddingWindowBlocks)
	if n, err := k.clearingsAt(ctx, closes); err != nil {
		return 0, err
	} else if n >= params.MaxClearingsPerBlock {
		return 0, errorsmod.Wrapf(types.ErrClearingHeightFull, "%d orders already close at height %d (max_clearings_per_block): choose another bidding window", n, closes)
	}
	id, err := nextID(ctx, k.OrderSeq)
	if err != nil {
		return 0, err
	}
	// Escrow checks the denom is on the allow-list and the deposit meets the minimum.
	if err := k.escrow.OpenAccount(ctx, id, owner, msg.Deposit); err != nil {
		return 0, err
	}
	now := height(ctx)
	o := types.Order{
		Id: id, Owner: msg.Owner, Requirements: msg.Requirements, MaxPricePerBlock: msg.MaxPricePerBlock,
		DurationBlocks: msg.DurationBlocks, BiddingWindowBlocks: msg.BiddingWindowBlocks, Policy: msg.Policy,
		Sla: msg.Sla, Workload: msg.Workload, Replicas: msg.Replicas, State: types.ORDER_STATE_OPEN,
		CreatedHeight: now, BiddingClosesHeight: now + int64(msg.BiddingWindowBlocks),
	}
	if err := k.Orders.Set(ctx, id, o); err != nil {
		return 0, err
	}
	if err := k.OrdersByOwner.Set(ctx, collections.Join([]byte(owner), id)); err != nil {
		return 0, err
	}
	if err := k.queueClearing(ctx, o); err != nil {
		return 0, err
	}
	return id, emit(ctx, &types.EventOrderCreated{
		OrderId: id, Owner: o.Owner, GpuSku: o.Requirements.GpuSku, GpuCount: o.Requirements.GpuCount,
		Metro: o.Requirements.Metro, MaxPricePerBlock: o.MaxPricePerBlock.String(),
		BiddingClosesHeight: o.BiddingClosesHeight, Replicas: o.Replicas,
	})
}

// clearingsAt is how many orders' bidding closes at h.
func (k Keeper) clearingsAt(ctx context.Context, h int64) (uint32, error) {
	n, err := k.ClearingsAt.Get(ctx, h)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

// queueClearing puts o in the bidding-close queue and counts it at its height.
func (k Keeper) queueClearing(ctx context.Context, o types.Order) error {
	n, err := k.clearingsAt(ctx, o.BiddingClosesHeight)
	if err != nil {
		return err
	}
	if err := k.ClearingsAt.Set(ctx, o.BiddingClosesHeight, n+1); err != nil {
		return err
	}
	return k.BiddingCloseQueue.Set(ctx, collections.Join(o.BiddingClosesHeight, o.Id))
}

// unqueueClearing takes o out of the bidding-close queue and its count: an order closed or
// accepted before its window ends frees its place for another.
func (k Keeper) unqueueClearing(ctx context.Context, o types.Order) error {
	key := collections.Join(o.BiddingClosesHeight, o.Id)
	if has, err := k.BiddingCloseQueue.Has(ctx, key); err != nil || !has {
		return err
	}
	if err := k.BiddingCloseQueue.Remove(ctx, key); err != nil {
		return err
	}
	switch n, err := k.clearingsAt(ctx, o.BiddingClosesHeight); {
	case err != nil:
		return err
	case n <= 1:
		return k.ClearingsAt.Remove(ctx, o.BiddingClosesHeight)
	default:
		return k.ClearingsAt.Set(ctx, o.BiddingClosesHeight, n-1)
	}
}

// closeOrder ends an order for good: open bids are refunded, active leases closed, and escrow
// pays what is owed and refunds the rest.
func (k Keeper) closeOrder(ctx context.Context, o types.Order, reason types.CloseReason) error {
	if o.State == types.ORDER_STATE_CLOSED {
		return nil
	}
	if o.State == types.ORDER_STATE_OPEN {
		if err := k.unqueueClearing(ctx, o); err != nil {
			return err
		}
	}
	if err := k.refundOpenBids(ctx, o.Id, types.BID_STATE_CLOSED); err != nil {
		return err
	}
	leases, err := k.orderLeases(ctx, o.Id)
	if err != nil {
		return err
	}
	for _, l := range leases {
		if l.State == types.LEASE_STATE_ACTIVE {
			if err := k.endLease(ctx, l, reason, ""); err != nil {
				return err
			}
		}
	}
	o, err = k.Orders.Get(ctx, o.Id) // closing its last lease may have closed the order
	if err != nil || o.State == types.ORDER_STATE_CLOSED {
		return err
	}
	return k.finishOrder(ctx, o, reason)
}

// finishOrder marks the order closed and closes its escrow account.
func (k Keeper) finishOrder(ctx context.Context, o types.Order, reason types.CloseReason) error {
	o.State, o.CloseReason, o.ClosedHeight, o.OpenBids = types.ORDER_STATE_CLOSED, reason, height(ctx), 0
	if err := k.Orders.Set(ctx, o.Id, o); err != nil {
		return err
	}
	if err := k.escrow.CloseAccount(ctx, o.Id, reason.String()); err != nil {
		return err
	}
	return emit(ctx, &types.EventOrderClosed{OrderId: o.Id, Reason: reason.String()})
}

func (k Keeper) orderLeases(ctx context.Context, orderID uint64) ([]types.Lease, error) {
	iter, err := k.LeasesByOrder.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint64](orderID))
	if err != nil {
		return nil, err
	}
	keys, err := iter.Keys()
	if err != nil {
		return nil, err
	}
	leases := make([]types.Lease, 0, len(keys))
	for _, key := range keys {
		l, err := k.Leases.Get(ctx, key.K2())
		if err != nil {
			return nil, err
		}
		leases = append(leases, l)
	}
	return leases, nil
}
