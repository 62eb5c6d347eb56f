package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/market. Codes are part of the public API: never renumber.
var (
	ErrInvalidParams        = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidGenesis       = errorsmod.Register(ModuleName, 3, "invalid genesis")
	ErrInvalidOrder         = errorsmod.Register(ModuleName, 4, "invalid order")
	ErrOrderNotFound        = errorsmod.Register(ModuleName, 5, "order not found")
	ErrOrderNotOpen         = errorsmod.Register(ModuleName, 6, "order is not open for bids")
	ErrOrderClosed          = errorsmod.Register(ModuleName, 7, "order is closed")
	ErrBidNotFound          = errorsmod.Register(ModuleName, 8, "bid not found")
	ErrBidNotOpen           = errorsmod.Register(ModuleName, 9, "bid is not open")
	ErrDuplicateBid         = errorsmod.Register(ModuleName, 10, "provider already bid on this order")
	ErrTooManyBids          = errorsmod.Register(ModuleName, 11, "order has the maximum number of bids")
	ErrPriceAboveCeiling    = errorsmod.Register(ModuleName, 12, "price above the order's ceiling")
	ErrDenomMismatch        = errorsmod.Register(ModuleName, 13, "denom does not match the order's")
	ErrBiddingClosed        = errorsmod.Register(ModuleName, 14, "bidding window has closed")
	ErrWrongPolicy          = errorsmod.Register(ModuleName, 15, "not allowed under the order's acceptance policy")
	ErrUnauthorized         = errorsmod.Register(ModuleName, 16, "signer is not allowed to do this")
	ErrLeaseNotFound        = errorsmod.Register(ModuleName, 17, "lease not found")
	ErrLeaseClosed          = errorsmod.Register(ModuleName, 18, "lease is closed")
	ErrProviderIneligible   = errorsmod.Register(ModuleName, 19, "provider does not meet the order's requirements")
	ErrRequirementUnchecked = errorsmod.Register(ModuleName, 20, "requirement cannot be checked on this chain")
	ErrInvalidBid           = errorsmod.Register(ModuleName, 21, "invalid bid")
	ErrInvalidAddress       = errorsmod.Register(ModuleName, 22, "invalid address")
	ErrSelfBid              = errorsmod.Register(ModuleName, 23, "an order's owner may not bid on it")
	ErrInvalidAccept        = errorsmod.Register(ModuleName, 24, "invalid bid acceptance")
	ErrAtCapacity           = errorsmod.Register(ModuleName, 25, "provider's attested GPUs are already leased")
	ErrClearingHeightFull   = errorsmod.Register(ModuleName, 26, "too many orders close their bidding at this height")
)
