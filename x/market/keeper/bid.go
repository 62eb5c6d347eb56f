package keeper

import (
	"context"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/market/types"
)

// createBid re-checks everything on chain: the order is open and in its window, the price is in
// the order's denom and under its ceiling, the provider passes the requirement filter (attested
// for the SKU and count, bond, reputation), has no other bid on the order, and pays the deposit.
func (k Keeper) createBid(ctx context.Context, msg *types.MsgCreateBid) (uint64, error) {
	provider, err := k.addr(msg.Provider, "provider")
	if err != nil {
		return 0, err
	}
	if err := types.ValidateCoin(msg.PricePerBlock); err != nil {
		return 0, errorsmod.Wrapf(types.ErrInvalidBid, "price_per_block: %s", err)
	}
	o, err := k.getOrder(ctx, msg.OrderId)
	if err != nil {
		return 0, err
	}
	now := height(ctx)
	switch {
	case o.State != types.ORDER_STATE_OPEN:
		return 0, errorsmod.Wrapf(types.ErrOrderNotOpen, "order %d is %s", o.Id, o.State)
	case now > o.BiddingClosesHeight:
		return 0, errorsmod.Wrapf(types.ErrBiddingClosed, "order %d stopped taking bids at height %d", o.Id, o.BiddingClosesHeight)
	case o.Owner == msg.Provider:
		return 0, errorsmod.Wrapf(types.ErrSelfBid, "order %d", o.Id)
	case msg.PricePerBlock.Denom != o.MaxPricePerBlock.Denom:
		return 0, errorsmod.Wrapf(types.ErrDenomMismatch, "bid in %s, order priced in %s", msg.PricePerBlock.Denom, o.MaxPricePerBlock.Denom)
	case msg.PricePerBlock.Amount.GT(o.MaxPricePerBlock.Amount):
		return 0, errorsmod.Wrapf(types.ErrPriceAboveCeiling, "%s > %s", msg.PricePerBlock, o.MaxPricePerBlock)
	}
	if has, err := k.BidByOrderProvider.Has(ctx, collections.Join(o.Id, []byte(provider))); err != nil {
		return 0, err
	} else if has {
		return 0, errorsmod.Wrapf(types.ErrDuplicateBid, "provider %s on order %d", msg.Provider, o.Id)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	if o.OpenBids >= params.MaxBidsPerOrder {
		return 0, errorsmod.Wrapf(types.ErrTooManyBids, "order %d has %d bids", o.Id, o.OpenBids)
	}
	if err := k.filter.CheckBidder(ctx, provider, o.Requirements); err != nil {
		return 0, err
	}
	if err := k.checkCapacity(ctx, provider, o.Requirements); err != nil {
		return 0, err
	}
	if params.BidDeposit.IsPositive() {
		if err := k.bank.SendCoinsFromAccountToModule(ctx, provider, types.ModuleName, sdk.NewCoins(params.BidDeposit)); err != nil {
			return 0, errorsmod.Wrapf(err, "paying the bid deposit %s", params.BidDeposit)
		}
	}
	id, err := nextID(ctx, k.BidSeq)
	if err != nil {
		return 0, err
	}
	b := types.Bid{
		Id: id, OrderId: o.Id, Provider: msg.Provider, PricePerBlock: msg.PricePerBlock,
		Deposit: params.BidDeposit, State: types.BID_STATE_OPEN, CreatedHeight: now,
	}
	if err := k.Bids.Set(ctx, id, b); err != nil {
		return 0, err
	}
	if err := k.BidsByOrder.Set(ctx, collections.Join(o.Id, id)); err != nil {
		return 0, err
	}
	if err := k.BidsByProvider.Set(ctx, collections.Join([]byte(provider), id)); err != nil {
		return 0, err
	}
	if err := k.LiveBids.Set(ctx, collections.Join([]byte(provider), id)); err != nil {
		return 0, err
	}
	if err := k.BidByOrderProvider.Set(ctx, collections.Join(o.Id, []byte(provider)), id); err != nil {
		return 0, err
	}
	o.OpenBids++
	if err := k.Orders.Set(ctx, o.Id, o); err != nil {
		return 0, err
	}
	return id, emit(ctx, &types.EventBidCreated{BidId: id, OrderId: o.Id, Provider: msg.Provider, PricePerBlock: msg.PricePerBlock.String()})
}

// settleBid takes an open bid out of the running in the given state and refunds its deposit.
// It does not touch the order's counter; callers do.
func (k Keeper) settleBid(ctx context.Context, b types.Bid, state types.BidState) error {
	provider, err := k.addressCodec.StringToBytes(b.Provider)
	if err != nil {
		return err
	}
	if b.Deposit.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, provider, sdk.NewCoins(b.Deposit)); err != nil {
			return err
		}
	}
	if err := k.BidByOrderProvider.Remove(ctx, collections.Join(b.OrderId, provider)); err != nil {
		return err
	}
	if err := k.LiveBids.Remove(ctx, collections.Join(provider, b.Id)); err != nil {
		return err
	}
	b.State = state
	if err := k.Bids.Set(ctx, b.Id, b); err != nil {
		return err
	}
	return emit(ctx, &types.EventBidClosed{BidId: b.Id, OrderId: b.OrderId, State: state.String(), Refunded: b.Deposit.String()})
}

// closeBid is the provider withdrawing its bid before the order clears.
func (k Keeper) closeBid(ctx context.Context, msg *types.MsgCloseBid) error {
	b, err := k.Bids.Get(ctx, msg.BidId)
	if err != nil {
		return errorsmod.Wrapf(types.ErrBidNotFound, "bid %d", msg.BidId)
	}
	if b.Provider != msg.Provider {
		return errorsmod.Wrapf(types.ErrUnauthorized, "bid %d belongs to %s", b.Id, b.Provider)
	}
	if b.State != types.BID_STATE_OPEN {
		return errorsmod.Wrapf(types.ErrBidNotOpen, "bid %d is %s", b.Id, b.State)
	}
	o, err := k.getOrder(ctx, b.OrderId)
	if err != nil {
		return err
	}
	if err := k.settleBid(ctx, b, types.BID_STATE_CLOSED); err != nil {
		return err
	}
	o.OpenBids--
	return k.Orders.Set(ctx, o.Id, o)
}

// openBids returns an order's open bids in bid-id order. It reads the open-bid index (at most
// max_bids_per_order entries), not every bid the order ever had: a provider bidding and closing
// over and over would otherwise make each clearing read thousands.
func (k Keeper) openBids(ctx context.Context, orderID uint64) ([]types.Bid, error) {
	iter, err := k.BidByOrderProvider.Iterate(ctx, collections.NewPrefixedPairRange[uint64, []byte](orderID))
	if err != nil {
		return nil, err
	}
	ids, err := iter.Values()
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	bids := make([]types.Bid, 0, len(ids))
	for _, id := range ids {
		b, err := k.Bids.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if b.State == types.BID_STATE_OPEN {
			bids = append(bids, b)
		}
	}
	return bids, nil
}

// refundOpenBids settles every open bid of an order in the given state.
func (k Keeper) refundOpenBids(ctx context.Context, orderID uint64, state types.BidState) error {
	bids, err := k.openBids(ctx, orderID)
	if err != nil {
		return err
	}
	for _, b := range bids {
		if err := k.settleBid(ctx, b, state); err != nil {
			return err
		}
	}
	return nil
}
