package keeper

import (
	"context"

	"github.com/computed-network/computed/x/internal/govparams"
	"github.com/computed-network/computed/x/sla/types"
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
