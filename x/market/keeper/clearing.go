package keeper

import (
	"context"
	"errors"
	"sort"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/internal/heightqueue"
	"github.com/computed-network/computed/x/market/types"
)

// EndBlocker handles only what is due at this height, found through height-keyed queues: leases
// whose duration ends, then orders whose bidding window closes. Each item runs in its own branch
// of state (heightqueue.Process), so a bad item can never halt the chain.
func (k Keeper) EndBlocker(ctx context.Context) error {
	h := height(ctx)
	if err := heightqueue.Process(ctx, k.LeaseEndQueue, h, types.ModuleName, "lease end",
		func(c context.Context, id uint64) error {
			l, err := k.Leases.Get(c, id)
			if err != nil {
				return err
			}
			return k.endLease(c, l, types.CLOSE_REASON_DURATION_ENDED, "")
		}); err != nil {
		return err
	}
	if err := heightqueue.Process(ctx, k.BiddingCloseQueue, h, types.ModuleName, "clearing", k.clearOrClose); err != nil {
		return err
	}
	// Whatever became of them (a failed item is dropped from the queue uncounted), the
	// clearings due by this height are done: those of past heights too (an order imported
	// with its window already closed is cleared in the first block).
	return k.ClearingsAt.Clear(ctx, new(collections.Range[int64]).EndInclusive(h))
}

// clearOrClose clears the order, or, if that fails, closes it (CLOSE_REASON_CLEARING_FAILED) in
// place of the failed clearing's dropped writes: dropped alone, the order stayed OPEN out of
// every queue, never cleared or expired, its deposit and its bidders' locked until each closed
// theirs by hand. The failure is reported as end_block_item_failed. If the close fails too,
// heightqueue drops the item as before.
func (k Keeper) clearOrClose(ctx context.Context, orderID uint64) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cache, write := sdkCtx.CacheContext()
	err := heightqueue.Recovered(func() error { return k.clear(cache, orderID) })
	if err == nil {
		write()
		return nil
	}
	o, gerr := k.getOrder(ctx, orderID)
	if gerr != nil {
		return errors.Join(err, gerr)
	}
	if cerr := k.closeOrder(ctx, o, types.CLOSE_REASON_CLEARING_FAILED); cerr != nil {
		return errors.Join(err, cerr)
	}
	heightqueue.ReportFailed(sdkCtx, types.ModuleName, "clearing", orderID, "order closed and refunded", err)
	return nil
}

// clear settles an order whose bidding window closed: AUTO orders take the best bids, MANUAL
// orders that were not accepted expire.
func (k Keeper) clear(ctx context.Context, orderID uint64) error {
	o, err := k.getOrder(ctx, orderID)
	if err != nil {
		return err
	}
	if o.State != types.ORDER_STATE_OPEN {
		return k.unqueueClearing(ctx, o)
	}
	if o.Policy == types.ACCEPTANCE_POLICY_MANUAL {
		return k.closeOrder(ctx, o, types.CLOSE_REASON_EXPIRED)
	}
	bids, err := k.openBids(ctx, o.Id)
	if err != nil {
		return err
	}
	if bids, err = k.qualified(ctx, o, bids); err != nil {
		return err
	}
	if uint32(len(bids)) < o.Replicas {
		return k.closeOrder(ctx, o, types.CLOSE_REASON_NO_BIDS)
	}
	ranked, err := k.rank(ctx, bids)
	if err != nil {
		return err
	}
	return k.award(ctx, o, ranked[:o.Replicas])
}

// qualified returns the bids whose providers may still win the order, and closes the others as
// lost (deposit refunded, EventBidDisqualified): a bidding window can outlast an attestation
// record, and a provider may deregister while its bid is open.
func (k Keeper) qualified(ctx context.Context, o types.Order, bids []types.Bid) ([]types.Bid, error) {
	out := make([]types.Bid, 0, len(bids))
	for _, b := range bids {
		why, err := k.checkWinner(ctx, o, b)
		if err != nil {
			return nil, err
		}
		if why == nil {
			out = append(out, b)
			continue
		}
		if err := k.settleBid(ctx, b, types.BID_STATE_LOST); err != nil {
			return nil, err
		}
		if err := emit(ctx, &types.EventBidDisqualified{BidId: b.Id, OrderId: o.Id, Provider: b.Provider, Reason: why.Error()}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkWinner is why bid b's provider may no longer win order o (nil if it may), or an error
// reading the bid.
func (k Keeper) checkWinner(ctx context.Context, o types.Order, b types.Bid) (why, err error) {
	provider, err := k.addressCodec.StringToBytes(b.Provider)
	if err != nil {
		return nil, err
	}
	if why := k.filter.CheckWinner(ctx, provider, o.Requirements); why != nil {
		return why, nil
	}
	// Capacity can run out between bid and clearing: the provider may have won other orders.
	return k.checkCapacity(ctx, provider, o.Requirements), nil
}

// rank orders bids by price (lowest first), then reputation (highest first), then bid id (earliest).
func (k Keeper) rank(ctx context.Context, bids []types.Bid) ([]types.Bid, error) {
	rep := make([]uint32, len(bids))
	for i, b := range bids {
		provider, err := k.addressCodec.StringToBytes(b.Provider)
		if err != nil {
			return nil, err
		}
		if rep[i], err = k.filter.Reputation(ctx, provider); err != nil {
			return nil, err
		}
	}
	idx := make([]int, len(bids))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := bids[idx[a]], bids[idx[b]]
		if !x.PricePerBlock.Amount.Equal(y.PricePerBlock.Amount) {
			return x.PricePerBlock.Amount.LT(y.PricePerBlock.Amount)
		}
		if rep[idx[a]] != rep[idx[b]] {
			return rep[idx[a]] > rep[idx[b]]
		}
		return x.Id < y.Id
	})
	out := make([]types.Bid, len(bids))
	for i, j := range idx {
		out[i] = bids[j]
	}
	return out, nil
}

// award turns the winning bids into leases, refunds every other open bid and activates the order.
func (k Keeper) award(ctx context.Context, o types.Order, winners []types.Bid) error {
	if err := k.unqueueClearing(ctx, o); err != nil {
		return err
	}
	won := map[uint64]bool{}
	var winningIDs, leaseIDs []uint64
	for _, b := range winners {
		won[b.Id] = true
		winningIDs = append(winningIDs, b.Id)
		if err := k.settleBid(ctx, b, types.BID_STATE_WON); err != nil {
			return err
		}
		id, err := k.startLease(ctx, o, b)
		if err != nil {
			return err
		}
		leaseIDs = append(leaseIDs, id)
	}
	bids, err := k.openBids(ctx, o.Id)
	if err != nil {
		return err
	}
	for _, b := range bids {
		if !won[b.Id] {
			if err := k.settleBid(ctx, b, types.BID_STATE_LOST); err != nil {
				return err
			}
		}
	}
	o.State, o.OpenBids, o.ActiveLeases = types.ORDER_STATE_ACTIVE, 0, uint32(len(winners))
	if err := k.Orders.Set(ctx, o.Id, o); err != nil {
		return err
	}
	return emit(ctx, &types.EventOrderCleared{OrderId: o.Id, WinningBids: winningIDs, LeaseIds: leaseIDs})
}

// acceptBids clears a MANUAL order with exactly one chosen bid per replica.
func (k Keeper) acceptBids(ctx context.Context, msg *types.MsgAcceptBid) ([]uint64, error) {
	o, err := k.getOrder(ctx, msg.OrderId)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Owner != msg.Owner:
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "order %d belongs to %s", o.Id, o.Owner)
	case o.Policy != types.ACCEPTANCE_POLICY_MANUAL:
		return nil, errorsmod.Wrapf(types.ErrWrongPolicy, "order %d clears automatically", o.Id)
	case o.State != types.ORDER_STATE_OPEN:
		return nil, errorsmod.Wrapf(types.ErrOrderNotOpen, "order %d is %s", o.Id, o.State)
	case uint32(len(msg.BidIds)) != o.Replicas:
		return nil, errorsmod.Wrapf(types.ErrInvalidAccept, "order %d needs %d bids, got %d", o.Id, o.Replicas, len(msg.BidIds))
	}
	seen := map[uint64]bool{}
	winners := make([]types.Bid, 0, len(msg.BidIds))
	for _, id := range msg.BidIds {
		if seen[id] {
			return nil, errorsmod.Wrapf(types.ErrInvalidAccept, "bid %d listed twice", id)
		}
		seen[id] = true
		b, err := k.Bids.Get(ctx, id)
		if err != nil {
			return nil, errorsmod.Wrapf(types.ErrBidNotFound, "bid %d", id)
		}
		if b.OrderId != o.Id || b.State != types.BID_STATE_OPEN {
			return nil, errorsmod.Wrapf(types.ErrBidNotOpen, "bid %d is not an open bid on order %d", id, o.Id)
		}
		why, err := k.checkWinner(ctx, o, b)
		if err != nil {
			return nil, err
		}
		if why != nil {
			return nil, errorsmod.Wrapf(why, "bid %d's provider can no longer win", id)
		}
		winners = append(winners, b)
	}
	if err := k.award(ctx, o, winners); err != nil {
		return nil, err
	}
	o, _ = k.Orders.Get(ctx, o.Id)
	leases, err := k.orderLeases(ctx, o.Id)
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(leases))
	for i, l := range leases {
		ids[i] = l.Id
	}
	return ids, nil
}
