package types

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultProviderFilter stands in while no attestation or bond module is wired: it fails closed,
// refusing bids on orders that require evidence, reputation or a bond it cannot check, and lets
// any provider bid on orders that require none of these. Every provider's reputation is zero.
type DefaultProviderFilter struct{}

var _ ProviderFilter = DefaultProviderFilter{}

// CheckBidder implements ProviderFilter.
func (DefaultProviderFilter) CheckBidder(_ context.Context, _ sdk.AccAddress, req Requirements) error {
	switch {
	case len(req.Evidence) > 0:
		return errorsmod.Wrap(ErrRequirementUnchecked, "order requires attestation evidence but no attestation module is wired")
	case req.MinReputationBps > 0:
		return errorsmod.Wrap(ErrRequirementUnchecked, "order requires a minimum reputation but no reputation module is wired")
	case req.MinProviderBond.Denom != "" && req.MinProviderBond.IsPositive():
		return errorsmod.Wrap(ErrRequirementUnchecked, "order requires a provider bond but no bond module is wired")
	}
	return nil
}

// CheckWinner implements ProviderFilter: nothing a bid passed here can lapse.
func (DefaultProviderFilter) CheckWinner(context.Context, sdk.AccAddress, Requirements) error {
	return nil
}

// Reputation implements ProviderFilter.
func (DefaultProviderFilter) Reputation(context.Context, sdk.AccAddress) (uint32, error) {
	return 0, nil
}
