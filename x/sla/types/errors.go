package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/sla. Codes are part of the public API: never renumber.
var (
	ErrInvalidParams      = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidGenesis     = errorsmod.Register(ModuleName, 3, "invalid genesis")
	ErrInvalidAddress     = errorsmod.Register(ModuleName, 4, "invalid address")
	ErrInvalidAmount      = errorsmod.Register(ModuleName, 5, "invalid amount")
	ErrDenomNotBondable   = errorsmod.Register(ModuleName, 6, "denom cannot be bonded")
	ErrInsufficientBond   = errorsmod.Register(ModuleName, 7, "insufficient free bond")
	ErrLeaseNotFound      = errorsmod.Register(ModuleName, 8, "lease not enforced by x/sla")
	ErrUnauthorized       = errorsmod.Register(ModuleName, 9, "unauthorized")
	ErrLeaseClosed        = errorsmod.Register(ModuleName, 10, "lease is closed")
	ErrSequenceGap        = errorsmod.Register(ModuleName, 11, "receipt sequences must continue without gap or overlap")
	ErrInvalidBatch       = errorsmod.Register(ModuleName, 12, "invalid receipt batch")
	ErrBatchNotFound      = errorsmod.Register(ModuleName, 13, "receipt batch not found")
	ErrNoSLA              = errorsmod.Register(ModuleName, 14, "lease has no SLA windows")
	ErrWindowNotOpen      = errorsmod.Register(ModuleName, 15, "window is not open for reports")
	ErrDuplicateReport    = errorsmod.Register(ModuleName, 16, "window already reported")
	ErrInvalidReport      = errorsmod.Register(ModuleName, 17, "invalid SLA report")
	ErrNotDisputable      = errorsmod.Register(ModuleName, 18, "window cannot be disputed")
	ErrDisputeNotFound    = errorsmod.Register(ModuleName, 19, "dispute not found")
	ErrDisputePhase       = errorsmod.Register(ModuleName, 20, "dispute is not in that phase")
	ErrNotArbiter         = errorsmod.Register(ModuleName, 21, "not a registered arbiter")
	ErrAlreadyVoted       = errorsmod.Register(ModuleName, 22, "arbiter already voted")
	ErrNotReplicated      = errorsmod.Register(ModuleName, 23, "lease is not a replica of a replicated order")
	ErrReplicationPhase   = errorsmod.Register(ModuleName, 24, "replication is not in that phase")
	ErrAlreadyCommitted   = errorsmod.Register(ModuleName, 25, "replica already committed")
	ErrCommitMismatch     = errorsmod.Register(ModuleName, 26, "reveal does not match the commitment")
	ErrInvalidCommitment  = errorsmod.Register(ModuleName, 27, "invalid commitment")
	ErrReportFromFuture   = errorsmod.Register(ModuleName, 28, "window has not ended")
	ErrReportTooLate      = errorsmod.Register(ModuleName, 29, "window's report deadline has passed")
	ErrDisputeWindowEnded = errorsmod.Register(ModuleName, 30, "challenge period has ended")
	ErrAlreadyRevealed    = errorsmod.Register(ModuleName, 31, "replica already revealed")
	ErrReplicationOpen    = errorsmod.Register(ModuleName, 32, "order's replicated result is not resolved yet")
	ErrTooManyUnbondings  = errorsmod.Register(ModuleName, 33, "too many unbondings in progress")
)

// MaxUnbondings is how many unbondings one provider may have in progress (x/staking's
// max_entries): slashing walks them, so one split into thousands of tiny ones would make every
// penalty walk thousands.
const MaxUnbondings = 7
