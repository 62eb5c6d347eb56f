package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultParams: bonds in the staking token, a one-day unbonding and dispute window at 1 s blocks,
// three breaches end a lease, a dissenting replica loses 10% of its bond.
func DefaultParams() Params {
	return Params{
		BondDenoms:          []string{sdk.DefaultBondDenom},
		UnbondingBlocks:     86_400,
		BreachesToTerminate: 3,
		DisputeWindowBlocks: 86_400,
		ReplicaSlashBps:     1000,
	}
}

// Validate rejects params that would make bonds meaningless or enforcement impossible.
func (p Params) Validate() error {
	if len(p.BondDenoms) == 0 {
		return fmt.Errorf("bond_denoms must list at least one denom")
	}
	seen := make(map[string]bool, len(p.BondDenoms))
	for _, d := range p.BondDenoms {
		if err := sdk.ValidateDenom(d); err != nil {
			return fmt.Errorf("bond_denoms: %w", err)
		}
		if seen[d] {
			return fmt.Errorf("bond_denoms: duplicate denom %s", d)
		}
		seen[d] = true
	}
	if p.UnbondingBlocks == 0 {
		return fmt.Errorf("unbonding_blocks must be positive")
	}
	if p.BreachesToTerminate == 0 {
		return fmt.Errorf("breaches_to_terminate must be positive")
	}
	if p.DisputeWindowBlocks == 0 {
		return fmt.Errorf("dispute_window_blocks must be positive")
	}
	if p.ReplicaSlashBps > 10_000 {
		return fmt.Errorf("replica_slash_bps must be at most 10000, got %d", p.ReplicaSlashBps)
	}
	return nil
}
