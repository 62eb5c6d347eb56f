package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// BidFilter is x/attest as x/market's ProviderFilter. It is a type of its own rather than
// methods on Keeper because depinject binds an interface to every provided type implementing it:
// were Keeper itself a ProviderFilter, providing both would be a duplicate provision.
type BidFilter struct{ k Keeper }

var _ markettypes.ProviderFilter = BidFilter{}

// BidFilter returns the keeper's ProviderFilter.
func (k Keeper) BidFilter() BidFilter { return BidFilter{k: k} }

// CheckBidder implements x/market's ProviderFilter: the provider must be registered in the
// order's metro and hold, for every evidence type the order names (any type if it names none), a
// record still valid at this block's time covering at least gpu_count GPUs of the SKU with enough
// memory. Reputation and bond are x/sla's to check: it wraps this filter.
func (f BidFilter) CheckBidder(ctx context.Context, provider sdk.AccAddress, req markettypes.Requirements) error {
	k := f.k
	p, err := k.getProvider(ctx, provider, provider.String())
	if err != nil {
		return err
	}
	if p.Metro != req.Metro {
		return errorsmod.Wrapf(types.ErrMetroMismatch, "provider in %s, order in %s", p.Metro, req.Metro)
	}
	now := blockTime(ctx)
	if len(req.Evidence) == 0 {
		records, err := k.providerRecords(ctx, provider)
		if err != nil {
			return err
		}
		for _, r := range records {
			if covers(r, req, now) {
				return nil
			}
		}
		return errorsmod.Wrapf(types.ErrNotAttested, "no valid record covers %d x %s (>= %d GiB)", req.GpuCount, req.GpuSku, req.MinVramGib)
	}
	for _, t := range req.Evidence {
		r, err := k.Records.Get(ctx, collections.Join([]byte(provider), int32(t)))
		if errors.Is(err, collections.ErrNotFound) {
			return errorsmod.Wrapf(types.ErrNotAttested, "no %s record", t)
		} else if err != nil {
			return err
		}
		if !covers(r, req, now) {
			return errorsmod.Wrapf(types.ErrNotAttested, "%s record does not cover %d x %s (>= %d GiB) or has lapsed", t, req.GpuCount, req.GpuSku, req.MinVramGib)
		}
	}
	return nil
}

// CheckWinner implements ProviderFilter: at clearing, the bid's checks again, since a record
// may have lapsed or the provider deregistered since it bid.
func (f BidFilter) CheckWinner(ctx context.Context, provider sdk.AccAddress, req markettypes.Requirements) error {
	return f.CheckBidder(ctx, provider, req)
}

// covers reports whether r is valid at now and lists enough GPUs of the SKU. A record whose time
// has come but which EndBlock has not yet removed (it runs after this block's transactions)
// already counts as lapsed.
func covers(r types.AttestationRecord, req markettypes.Requirements, now int64) bool {
	if now >= r.ValidUntil {
		return false
	}
	var n uint32
	for _, g := range r.Gpus {
		if g.Sku == req.GpuSku && g.VramGib >= req.MinVramGib {
			n++
		}
	}
	return n >= req.GpuCount && n > 0
}

// Reputation implements ProviderFilter; x/sla owns reputation and answers for it.
func (BidFilter) Reputation(context.Context, sdk.AccAddress) (uint32, error) { return 0, nil }
