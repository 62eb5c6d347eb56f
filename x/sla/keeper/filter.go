package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// BidFilter is the one ProviderFilter x/market uses: x/attest's checks (attested GPUs in the
// order's metro) followed by x/sla's (free bond, reputation). A type of its own so the keeper is
// not itself a ProviderFilter in depinject's eyes.
type BidFilter struct{ k Keeper }

var _ markettypes.ProviderFilter = BidFilter{}

// BidFilter returns the composed filter.
func (k Keeper) BidFilter() BidFilter { return BidFilter{k} }

// CheckBidder implements markettypes.ProviderFilter.
func (f BidFilter) CheckBidder(ctx context.Context, provider sdk.AccAddress, req markettypes.Requirements) error {
	k := f.k
	if k.attest != nil {
		if err := k.attest.CheckBidder(ctx, provider, req); err != nil {
			return err
		}
	} else if len(req.Evidence) > 0 {
		return errorsmod.Wrap(markettypes.ErrRequirementUnchecked, "order requires attestation evidence but no attestation module is wired")
	}
	if req.MinReputationBps > 0 {
		score, _, err := k.reputation(ctx, provider)
		if err != nil {
			return err
		}
		if score < req.MinReputationBps {
			return errorsmod.Wrapf(markettypes.ErrProviderIneligible, "reputation %d bps below the order's minimum %d", score, req.MinReputationBps)
		}
	}
	if min := req.MinProviderBond; min.Denom != "" && min.IsPositive() {
		free, err := k.FreeBond(ctx, provider, min.Denom)
		if err != nil {
			return err
		}
		if free.LT(min.Amount) {
			return errorsmod.Wrapf(types.ErrInsufficientBond, "free bond %s%s below the order's minimum %s", free, min.Denom, min)
		}
	}
	return nil
}

// CheckWinner implements markettypes.ProviderFilter: every check of the bid again. Between the
// bid and its clearing the provider's free bond can go (an unbonding, or the locks of leases it
// won meanwhile: one bond bid on three orders would otherwise back all three) and its
// reputation can fall; a lease then locked what was free and started short of the bond the
// buyer asked for.
func (f BidFilter) CheckWinner(ctx context.Context, provider sdk.AccAddress, req markettypes.Requirements) error {
	return f.CheckBidder(ctx, provider, req)
}

// Reputation implements markettypes.ProviderFilter: the provider's score, initial_reputation_bps
// before its first judged window.
func (f BidFilter) Reputation(ctx context.Context, provider sdk.AccAddress) (uint32, error) {
	score, _, err := f.k.reputation(ctx, provider)
	return score, err
}
