package types

import (
	"context"
	"errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AttestHooks lets other modules (x/sla) act when a provider's attestation lapses in EndBlock.
type AttestHooks interface {
	// AfterAttestationLapsed is called after one of provider's records expired and was deleted.
	AfterAttestationLapsed(ctx context.Context, provider sdk.AccAddress) error
}

// AttestHooksWrapper lets depinject collect hooks from every module (one per module).
type AttestHooksWrapper struct{ AttestHooks }

// IsOnePerModuleType implements depinject.OnePerModuleType.
func (AttestHooksWrapper) IsOnePerModuleType() {}

// MultiAttestHooks calls several hooks in a fixed order.
type MultiAttestHooks []AttestHooks

// AfterAttestationLapsed calls every hook; all run even if one fails.
func (m MultiAttestHooks) AfterAttestationLapsed(ctx context.Context, provider sdk.AccAddress) error {
	var errs []error
	for _, h := range m {
		errs = append(errs, h.AfterAttestationLapsed(ctx, provider))
	}
	return errors.Join(errs...)
}
