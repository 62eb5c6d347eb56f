package types

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
)

// BankKeeper moves bonds, penalties and dispute deposits.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	GetAllBalances(ctx context.Context, addr sdk.AccAddress) sdk.Coins
}

// AccountKeeper resolves the module account's address.
type AccountKeeper interface {
	GetModuleAddress(moduleName string) sdk.AccAddress
}

// EscrowKeeper is the part of x/escrow's SLA API that x/sla uses for replicated jobs.
type EscrowKeeper interface {
	PauseStream(ctx context.Context, leaseID uint64) error
	PayStream(ctx context.Context, leaseID uint64, amount sdkmath.Int) (sdkmath.Int, error)
	// StreamFunds is what is left in the account lease's stream draws on.
	StreamFunds(ctx context.Context, leaseID uint64) (sdkmath.Int, error)
}

// MarketKeeper is x/market as x/sla uses it. It reaches x/sla after construction (x/market
// depends on x/sla's bid filter, so the keepers cannot be built in one order).
type MarketKeeper interface {
	GetLease(ctx context.Context, id uint64) (markettypes.Lease, error)
	GetOrder(ctx context.Context, id uint64) (markettypes.Order, error)
	CloseLeaseFor(ctx context.Context, leaseID uint64, reason markettypes.CloseReason) error
	SetOrderResult(ctx context.Context, orderID uint64, resultDigest string) error
}
