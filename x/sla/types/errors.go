package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/sla. Codes are part of the public API: never renumber.
var (
	ErrInvalidParams  = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidGenesis = errorsmod.Register(ModuleName, 3, "invalid genesis")
)
