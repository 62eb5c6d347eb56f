package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// MaxTakeRateBps caps the protocol take at 50%: a higher take would leave providers paying to work.
const MaxTakeRateBps = 5000

// MaxLowWaterBlocks bounds a refill policy's low-water mark (ten years of 1 s blocks): it is
// subtracted from a height as an int64.
const MaxLowWaterBlocks = 10 * 365 * 24 * 60 * 60

// DevStableDenom is the stand-in stable coin funded by dev genesis before IBC USDC is connected.
const DevStableDenom = "uusdc"

// DefaultParams accept the staking token and the dev stable coin, with a 1% take.
func DefaultParams() Params {
	return Params{
		AllowedDenoms: []string{sdk.DefaultBondDenom, DevStableDenom},
		TakeRateBps:   100,
		MinDeposits:   nil, // no minimum for any denom
	}
}

// Validate rejects malformed, duplicate or unlisted denoms and an out-of-range take.
func (p Params) Validate() error {
	if len(p.AllowedDenoms) == 0 {
		return fmt.Errorf("allowed_denoms must list at least one denom")
	}
	seen := make(map[string]bool, len(p.AllowedDenoms))
	for _, d := range p.AllowedDenoms {
		if err := sdk.ValidateDenom(d); err != nil {
			return fmt.Errorf("allowed_denoms: %w", err)
		}
		if seen[d] {
			return fmt.Errorf("allowed_denoms: duplicate denom %s", d)
		}
		seen[d] = true
	}
	if p.TakeRateBps > MaxTakeRateBps {
		return fmt.Errorf("take_rate_bps must be at most %d, got %d", MaxTakeRateBps, p.TakeRateBps)
	}
	if err := p.MinDeposits.Validate(); err != nil {
		return fmt.Errorf("min_deposits: %w", err)
	}
	for _, c := range p.MinDeposits {
		if !seen[c.Denom] {
			return fmt.Errorf("min_deposits: denom %s is not in allowed_denoms", c.Denom)
		}
	}
	return nil
}
