package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BankKeeper moves bid deposits in and out of the market module account.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	GetAllBalances(ctx context.Context, addr sdk.AccAddress) sdk.Coins
}

// AccountKeeper resolves the module account's address.
type AccountKeeper interface {
	GetModuleAddress(moduleName string) sdk.AccAddress
}

// EscrowKeeper is x/escrow as x/market uses it: one account per order, one stream per lease.
type EscrowKeeper interface {
	ValidateDeposit(ctx context.Context, coin sdk.Coin) error
	IsDenomAllowed(ctx context.Context, denom string) (bool, error)
	OpenAccount(ctx context.Context, id uint64, owner sdk.AccAddress, deposit sdk.Coin) error
	OpenStream(ctx context.Context, accountID, leaseID uint64, payee sdk.AccAddress, rate sdk.Coin) error
	CloseStream(ctx context.Context, leaseID uint64, reason string) error
	CloseAccount(ctx context.Context, id uint64, reason string) error
}

// ProviderFilter answers whether a provider may bid for some requirements right now, and how
// reputable it is. x/attest (attested GPUs, evidence types) and x/sla (bond, reputation)
// implement it; until they are wired, DefaultProviderFilter refuses what it cannot check.
type ProviderFilter interface {
	// CheckBidder returns nil if provider may bid for req now, else a registered error saying why.
	CheckBidder(ctx context.Context, provider sdk.AccAddress, req Requirements) error
	// CheckWinner returns nil if a provider whose bid was taken may still win req now: what can
	// lapse between a bid and its clearing (registration, attestation), not bond or reputation,
	// which the lease's bond lock and the bid's own check cover.
	CheckWinner(ctx context.Context, provider sdk.AccAddress, req Requirements) error
	// Reputation is the provider's reputation in basis points (higher wins clearing ties).
	Reputation(ctx context.Context, provider sdk.AccAddress) (uint32, error)
}
