package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/escrow. Codes are part of the public API: never renumber.
var (
	ErrInvalidParams       = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidGenesis      = errorsmod.Register(ModuleName, 3, "invalid genesis")
	ErrAccountNotFound     = errorsmod.Register(ModuleName, 4, "escrow account not found")
	ErrAccountClosed       = errorsmod.Register(ModuleName, 5, "escrow account is closed")
	ErrAccountExists       = errorsmod.Register(ModuleName, 6, "escrow account already exists")
	ErrStreamNotFound      = errorsmod.Register(ModuleName, 7, "payment stream not found")
	ErrStreamExists        = errorsmod.Register(ModuleName, 8, "payment stream already exists")
	ErrStreamClosed        = errorsmod.Register(ModuleName, 9, "payment stream is closed")
	ErrDenomNotAllowed     = errorsmod.Register(ModuleName, 10, "denom is not allowed for payment")
	ErrDenomMismatch       = errorsmod.Register(ModuleName, 11, "denom does not match the account's denom")
	ErrInvalidAmount       = errorsmod.Register(ModuleName, 12, "invalid amount")
	ErrDepositTooSmall     = errorsmod.Register(ModuleName, 13, "deposit below the minimum")
	ErrUnauthorized        = errorsmod.Register(ModuleName, 14, "signer is not allowed to do this")
	ErrNothingToWithdraw   = errorsmod.Register(ModuleName, 15, "nothing to withdraw")
	ErrInvalidRefillPolicy = errorsmod.Register(ModuleName, 16, "invalid refill policy")
	ErrInvalidAddress      = errorsmod.Register(ModuleName, 17, "invalid address")
)
