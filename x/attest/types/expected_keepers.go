package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// LeaseCounter tells x/attest whether a provider still serves leases, so that a provider cannot
// deregister (and drop its attestation) from under its buyers. x/market will provide it; while
// nothing does, deregistration is allowed.
type LeaseCounter interface {
	ActiveLeaseCount(ctx context.Context, provider sdk.AccAddress) (uint64, error)
	// LeasedGPUs is how many GPUs of sku provider's active leases hold: a record replacing
	// another may not drop below it.
	LeasedGPUs(ctx context.Context, provider sdk.AccAddress, sku string) (uint32, error)
}
