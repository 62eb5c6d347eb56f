package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	"github.com/computed-network/computed/x/internal/govparams"
	"github.com/computed-network/computed/x/market/types"
)

type msgServer struct {
	k Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the module's Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

// UpdateParams replaces params; only the authority may call it.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	event := &types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params}
	if err := govparams.Apply(ctx, m.k.Params, m.k.authority, msg.Authority, msg.Params, types.ErrInvalidParams, event); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

// CreateOrder opens an order and locks its deposit.
func (m msgServer) CreateOrder(ctx context.Context, msg *types.MsgCreateOrder) (*types.MsgCreateOrderResponse, error) {
	id, err := m.k.createOrder(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateOrderResponse{OrderId: id}, nil
}

// CloseOrder closes the owner's order with reason owner.
func (m msgServer) CloseOrder(ctx context.Context, msg *types.MsgCloseOrder) (*types.MsgCloseOrderResponse, error) {
	if _, err := m.k.addr(msg.Owner, "owner"); err != nil {
		return nil, err
	}
	o, err := m.k.getOrder(ctx, msg.OrderId)
	if err != nil {
		return nil, err
	}
	if o.Owner != msg.Owner {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "order %d belongs to %s", o.Id, o.Owner)
	}
	if o.State == types.ORDER_STATE_CLOSED {
		return nil, errorsmod.Wrapf(types.ErrOrderClosed, "order %d", o.Id)
	}
	if h := m.k.hooks.hooks; h != nil {
		if err := h.BeforeOwnerClosesOrder(ctx, o); err != nil {
			return nil, err
		}
	}
	if err := m.k.closeOrder(ctx, o, types.CLOSE_REASON_OWNER); err != nil {
		return nil, err
	}
	return &types.MsgCloseOrderResponse{}, nil
}

// CreateBid places a provider's bid.
func (m msgServer) CreateBid(ctx context.Context, msg *types.MsgCreateBid) (*types.MsgCreateBidResponse, error) {
	id, err := m.k.createBid(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateBidResponse{BidId: id}, nil
}

// CloseBid withdraws a provider's open bid.
func (m msgServer) CloseBid(ctx context.Context, msg *types.MsgCloseBid) (*types.MsgCloseBidResponse, error) {
	if _, err := m.k.addr(msg.Provider, "provider"); err != nil {
		return nil, err
	}
	if err := m.k.closeBid(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgCloseBidResponse{}, nil
}

// AcceptBid clears a MANUAL order with the owner's chosen bids.
func (m msgServer) AcceptBid(ctx context.Context, msg *types.MsgAcceptBid) (*types.MsgAcceptBidResponse, error) {
	if _, err := m.k.addr(msg.Owner, "owner"); err != nil {
		return nil, err
	}
	ids, err := m.k.acceptBids(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgAcceptBidResponse{LeaseIds: ids}, nil
}

// CloseLease ends a lease at its owner's or provider's request.
func (m msgServer) CloseLease(ctx context.Context, msg *types.MsgCloseLease) (*types.MsgCloseLeaseResponse, error) {
	if err := m.k.closeLease(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgCloseLeaseResponse{}, nil
}
