package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	"github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/internal/addrs"
)

// InitGenesis writes a validated genesis state and rebuilds the indexes and queues from it.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, acc := range gs.Accounts {
		owner, err := addrs.Decode(k.addressCodec, acc.Owner)
		if err != nil {
			return errorsmod.Wrapf(types.ErrInvalidAddress, "account %d owner %q: %v", acc.Id, acc.Owner, err)
		}
		if err := k.AccountsByOwner.Set(ctx, pairKey(owner, acc.Id)); err != nil {
			return err
		}
		if err := k.Accounts.Set(ctx, acc.Id, acc); err != nil {
			return err
		}
		if acc.DepletionHeight != 0 {
			if err := k.DepletionQueue.Set(ctx, pairKey(acc.DepletionHeight, acc.Id)); err != nil {
				return err
			}
		}
		if acc.RefillHeight != 0 {
			if err := k.RefillQueue.Set(ctx, pairKey(acc.RefillHeight, acc.Id)); err != nil {
				return err
			}
		}
	}
	for _, s := range gs.Streams {
		if err := k.Streams.Set(ctx, s.LeaseId, s); err != nil {
			return err
		}
		if err := k.StreamsByAccount.Set(ctx, pairKey(s.AccountId, s.LeaseId)); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis reads the module's whole state back out, in key order.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if err := k.Accounts.Walk(ctx, nil, func(_ uint64, a types.Account) (bool, error) {
		gs.Accounts = append(gs.Accounts, a)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Streams.Walk(ctx, nil, func(_ uint64, s types.Stream) (bool, error) {
		gs.Streams = append(gs.Streams, s)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
