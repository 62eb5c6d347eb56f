package types

import (
	"context"
	"errors"
)

// EscrowHooks lets x/market learn of closes that escrow decides on its own (in EndBlock).
type EscrowHooks interface {
	// AfterAccountDepleted is called at the last block an account could pay for, after its
	// streams are closed and its remainder refunded, with the leases whose streams closed.
	AfterAccountDepleted(ctx context.Context, accountID uint64, leaseIDs []uint64) error
}

// EscrowHooksWrapper lets depinject collect hooks from every module (one per module).
type EscrowHooksWrapper struct{ EscrowHooks }

// IsOnePerModuleType implements depinject.OnePerModuleType.
func (EscrowHooksWrapper) IsOnePerModuleType() {}

// MultiEscrowHooks calls several hooks in a fixed order.
type MultiEscrowHooks []EscrowHooks

// AfterAccountDepleted calls every hook; all run even if one fails.
func (m MultiEscrowHooks) AfterAccountDepleted(ctx context.Context, accountID uint64, leaseIDs []uint64) error {
	var errs []error
	for _, h := range m {
		errs = append(errs, h.AfterAccountDepleted(ctx, accountID, leaseIDs))
	}
	return errors.Join(errs...)
}
