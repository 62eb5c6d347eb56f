package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	"github.com/computed-network/computed/x/attest/types"
)

// checkProviderDetails validates what a provider states about itself.
func (k Keeper) checkProviderDetails(metro, endpoint, hotKey string) error {
	if err := types.ValidateMetro(metro); err != nil {
		return err
	}
	if err := types.ValidateEndpoint(endpoint); err != nil {
		return err
	}
	if hotKey != "" {
		if _, err := k.addr(hotKey, "hot_key"); err != nil {
			return err
		}
	}
	return nil
}

func (k Keeper) getProvider(ctx context.Context, operator []byte, name string) (types.Provider, error) {
	p, err := k.Providers.Get(ctx, operator)
	if errors.Is(err, collections.ErrNotFound) {
		return p, errorsmod.Wrapf(types.ErrProviderNotFound, "%s", name)
	}
	return p, err
}

func (k Keeper) registerProvider(ctx context.Context, msg *types.MsgRegisterProvider) error {
	operator, err := k.addr(msg.Operator, "operator")
	if err != nil {
		return err
	}
	if err := k.checkProviderDetails(msg.Metro, msg.Endpoint, msg.HotKey); err != nil {
		return err
	}
	if has, err := k.Providers.Has(ctx, operator); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrProviderExists, "%s", msg.Operator)
	}
	h := height(ctx)
	p := types.Provider{
		Operator: msg.Operator, Metro: msg.Metro, Endpoint: msg.Endpoint, HotKey: msg.HotKey,
		RegisteredHeight: h, UpdatedHeight: h,
	}
	if err := k.Providers.Set(ctx, operator, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventProviderRegistered{Operator: p.Operator, Metro: p.Metro, Endpoint: p.Endpoint, HotKey: p.HotKey})
}

func (k Keeper) updateProvider(ctx context.Context, msg *types.MsgUpdateProvider) error {
	operator, err := k.addr(msg.Operator, "operator")
	if err != nil {
		return err
	}
	if err := k.checkProviderDetails(msg.Metro, msg.Endpoint, msg.HotKey); err != nil {
		return err
	}
	p, err := k.getProvider(ctx, operator, msg.Operator)
	if err != nil {
		return err
	}
	p.Metro, p.Endpoint, p.HotKey, p.UpdatedHeight = msg.Metro, msg.Endpoint, msg.HotKey, height(ctx)
	if err := k.Providers.Set(ctx, operator, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventProviderUpdated{Operator: p.Operator, Metro: p.Metro, Endpoint: p.Endpoint, HotKey: p.HotKey})
}

// deregisterProvider removes a provider and its records. Outstanding challenges are left to
// expire (submission requires registration), and the challenge counter is kept so that a
// re-registered provider never sees a nonce twice.
func (k Keeper) deregisterProvider(ctx context.Context, msg *types.MsgDeregisterProvider) error {
	operator, err := k.addr(msg.Operator, "operator")
	if err != nil {
		return err
	}
	if _, err := k.getProvider(ctx, operator, msg.Operator); err != nil {
		return err
	}
	if lc := k.deps.leaseCounter; lc != nil {
		n, err := lc.ActiveLeaseCount(ctx, operator)
		if err != nil {
			return err
		}
		if n > 0 {
			return errorsmod.Wrapf(types.ErrProviderHasLeases, "%s has %d active leases", msg.Operator, n)
		}
	}
	records, err := k.providerRecords(ctx, operator)
	if err != nil {
		return err
	}
	for _, r := range records {
		if err := k.removeRecord(ctx, operator, r); err != nil {
			return err
		}
	}
	if err := k.Providers.Remove(ctx, operator); err != nil {
		return err
	}
	return emit(ctx, &types.EventProviderDeregistered{Operator: msg.Operator, RecordsRemoved: uint32(len(records))})
}
