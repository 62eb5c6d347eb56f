package types

import (
	"slices"

	sdkmath "cosmossdk.io/math"
)

// BpsDenominator is 100% in basis points.
const BpsDenominator = 10_000

// IsAllowed reports whether denom may price and pay orders.
func (p Params) IsAllowed(denom string) bool { return slices.Contains(p.AllowedDenoms, denom) }

// MinDeposit is the smallest opening deposit in denom (zero when none is set).
func (p Params) MinDeposit(denom string) sdkmath.Int {
	return p.MinDeposits.AmountOf(denom)
}

// Take is the protocol's share of earned, rounded down so the payee is never short-changed.
func (p Params) Take(earned sdkmath.Int) sdkmath.Int {
	return earned.MulRaw(int64(p.TakeRateBps)).QuoRaw(BpsDenominator)
}
