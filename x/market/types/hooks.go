package types

import (
	"context"
	"errors"
)

// MarketHooks lets x/sla follow leases: it locks bond and schedules SLA windows when a lease
// starts, and releases them when it closes.
type MarketHooks interface {
	// AfterLeaseCreated is called once the lease and its escrow stream exist.
	AfterLeaseCreated(ctx context.Context, lease Lease, order Order) error
	// AfterLeaseClosed is called once the lease is closed and its stream settled.
	AfterLeaseClosed(ctx context.Context, lease Lease) error
	// BeforeOwnerClosesOrder may refuse the owner's MsgCloseOrder, or its MsgCloseLease of one
	// of the order's leases, with a registered error; nothing has changed when it is called.
	BeforeOwnerClosesOrder(ctx context.Context, order Order) error
}

// MarketHooksWrapper lets depinject collect hooks from every module (one per module).
type MarketHooksWrapper struct{ MarketHooks }

// IsOnePerModuleType implements depinject.OnePerModuleType.
func (MarketHooksWrapper) IsOnePerModuleType() {}

// MultiMarketHooks calls several hooks in a fixed order.
type MultiMarketHooks []MarketHooks

// AfterLeaseCreated calls every hook; all run even if one fails.
func (m MultiMarketHooks) AfterLeaseCreated(ctx context.Context, lease Lease, order Order) error {
	var errs []error
	for _, h := range m {
		errs = append(errs, h.AfterLeaseCreated(ctx, lease, order))
	}
	return errors.Join(errs...)
}

// AfterLeaseClosed calls every hook; all run even if one fails.
func (m MultiMarketHooks) AfterLeaseClosed(ctx context.Context, lease Lease) error {
	var errs []error
	for _, h := range m {
		errs = append(errs, h.AfterLeaseClosed(ctx, lease))
	}
	return errors.Join(errs...)
}

// BeforeOwnerClosesOrder asks every hook in order; the first refusal stands.
func (m MultiMarketHooks) BeforeOwnerClosesOrder(ctx context.Context, order Order) error {
	for _, h := range m {
		if err := h.BeforeOwnerClosesOrder(ctx, order); err != nil {
			return err
		}
	}
	return nil
}

// AttestationFilter carries x/attest's bid filter to x/sla, which composes it with its own bond
// and reputation checks into the one ProviderFilter x/market uses. A named field rather than an
// embedded interface: an embedding would make this wrapper a ProviderFilter itself, and depinject
// would then see two candidates for x/market's input.
type AttestationFilter struct{ Filter ProviderFilter }
