package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/market/types"
)

// An attestation says how many GPUs of a SKU a provider has, not how many are free: without
// counting what its leases already hold, one record of 8 GPUs could win any number of 8-GPU
// orders at once and sell GPUs that are running someone else's work.

// leasedGPUs is how many GPUs of sku provider's active leases hold.
func (k Keeper) leasedGPUs(ctx context.Context, provider sdk.AccAddress, sku string) (uint32, error) {
	n, err := k.GPUsLeased.Get(ctx, collections.Join([]byte(provider), sku))
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

// holdGPUs adds a starting lease's GPUs to its provider's count.
func (k Keeper) holdGPUs(ctx context.Context, provider sdk.AccAddress, req types.Requirements) error {
	n, err := k.leasedGPUs(ctx, provider, req.GpuSku)
	if err != nil {
		return err
	}
	return k.GPUsLeased.Set(ctx, collections.Join([]byte(provider), req.GpuSku), n+req.GpuCount)
}

// freeGPUs takes a closing lease's GPUs off its provider's count.
func (k Keeper) freeGPUs(ctx context.Context, provider sdk.AccAddress, req types.Requirements) error {
	key := collections.Join([]byte(provider), req.GpuSku)
	n, err := k.leasedGPUs(ctx, provider, req.GpuSku)
	if err != nil {
		return err
	}
	if n <= req.GpuCount {
		return k.GPUsLeased.Remove(ctx, key)
	}
	return k.GPUsLeased.Set(ctx, key, n-req.GpuCount)
}

// checkCapacity is nil if provider's attestation covers req's GPUs on top of those its active
// leases hold. It asks the filter's winner check (what the attestation covers) for the sum, so the
// same records, SKU and memory rules decide; with nothing leased the bid's own check has decided.
func (k Keeper) checkCapacity(ctx context.Context, provider sdk.AccAddress, req types.Requirements) error {
	leased, err := k.leasedGPUs(ctx, provider, req.GpuSku)
	if err != nil || leased == 0 {
		return err
	}
	all := req
	all.GpuCount = leased + req.GpuCount
	if why := k.filter.CheckWinner(ctx, provider, all); why != nil {
		return errorsmod.Wrapf(types.ErrAtCapacity, "%d %s GPUs are leased; no room for %d more (%s)", leased, req.GpuSku, req.GpuCount, why)
	}
	return nil
}
