package types

import (
	"fmt"
	"strings"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"
)

// DevStableDenom is x/escrow's development stable coin; bonds may be posted in it so penalties on
// leases priced in it can be paid.
const DevStableDenom = "uusdc"

// DefaultParams: bonds in the staking token and the dev stable coin, a one-day challenge period
// and a two-day unbonding at 1 s blocks (longer than a window's grace, challenge, response and
// vote together, so unbonding cannot escape a penalty), five blocks to report a window, three
// breaches end a lease, a dissenting replica loses 10% of its bond, reputation starts at 50% and
// moves 10% per window.
func DefaultParams() Params {
	return Params{
		BondDenoms:            []string{sdk.DefaultBondDenom, DevStableDenom},
		UnbondingBlocks:       172_800,
		BreachesToTerminate:   3,
		DisputeWindowBlocks:   86_400,
		ReplicaSlashBps:       1000,
		ReportGraceBlocks:     5,
		DisputeDeposit:        sdk.NewInt64Coin(sdk.DefaultBondDenom, 1_000_000),
		DisputeResponseBlocks: 14_400,
		DisputeVoteBlocks:     28_800,
		ReputationWeightBps:   1000,
		InitialReputationBps:  5000,
		CommitBlocks:          100,
		RevealBlocks:          100,
	}
}

// MaxParamBlocks bounds every block-count param (ten years of one-second blocks): a larger count
// added to a height could wrap int64 and put a deadline in the past.
const MaxParamBlocks = 10 * 365 * 24 * 60 * 60

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
	switch {
	case p.UnbondingBlocks == 0:
		return fmt.Errorf("unbonding_blocks must be positive")
	case p.ReportGraceBlocks == 0:
		// A window's report would have to land in the block that ends it, before anyone has
		// seen that block: every window would be judged MISSING.
		return fmt.Errorf("report_grace_blocks must be positive")
	case p.BreachesToTerminate == 0:
		return fmt.Errorf("breaches_to_terminate must be positive")
	case p.DisputeWindowBlocks == 0:
		return fmt.Errorf("dispute_window_blocks must be positive")
	case p.ReplicaSlashBps > 10_000:
		return fmt.Errorf("replica_slash_bps must be at most 10000, got %d", p.ReplicaSlashBps)
	case p.DisputeResponseBlocks == 0 || p.DisputeVoteBlocks == 0:
		return fmt.Errorf("dispute_response_blocks and dispute_vote_blocks must be positive")
	case p.ReputationWeightBps == 0 || p.ReputationWeightBps > 10_000:
		return fmt.Errorf("reputation_weight_bps must be in 1..10000, got %d", p.ReputationWeightBps)
	case p.InitialReputationBps > 10_000:
		return fmt.Errorf("initial_reputation_bps must be at most 10000, got %d", p.InitialReputationBps)
	case p.CommitBlocks == 0 || p.RevealBlocks == 0:
		return fmt.Errorf("commit_blocks and reveal_blocks must be positive")
	}
	// A slice, not a map: the first bad field named must not depend on iteration order.
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"unbonding_blocks", p.UnbondingBlocks}, {"dispute_window_blocks", p.DisputeWindowBlocks},
		{"report_grace_blocks", p.ReportGraceBlocks}, {"dispute_response_blocks", p.DisputeResponseBlocks},
		{"dispute_vote_blocks", p.DisputeVoteBlocks}, {"commit_blocks", p.CommitBlocks}, {"reveal_blocks", p.RevealBlocks},
	} {
		if f.v > MaxParamBlocks {
			return fmt.Errorf("%s must be at most %d, got %d", f.name, MaxParamBlocks, f.v)
		}
	}
	// Penalties reach unbondings that started after the infraction only until they complete
	// (slash in the keeper): one started as a window ended must outlast that window's verdict
	// and a dispute of it to the last vote. One started while a window runs completes after
	// that window's verdict too (the keeper's unbondingCompletion), however long the window.
	if guard := p.ReportGraceBlocks + p.DisputeWindowBlocks + p.DisputeResponseBlocks + p.DisputeVoteBlocks; p.UnbondingBlocks <= guard {
		return fmt.Errorf("unbonding_blocks must exceed report_grace_blocks + dispute_window_blocks + dispute_response_blocks + dispute_vote_blocks (%d), got %d: "+
			"an unbonding must still be slashable when a dispute of a window that ended as it started is resolved", guard, p.UnbondingBlocks)
	}
	if err := p.DisputeDeposit.Validate(); err != nil {
		return fmt.Errorf("dispute_deposit: %w", err)
	}
	if !p.DisputeDeposit.IsPositive() {
		return fmt.Errorf("dispute_deposit must be positive")
	}
	arb := make(map[string]bool, len(p.Arbiters))
	for _, a := range p.Arbiters {
		if _, _, err := bech32.DecodeAndConvert(a); err != nil {
			return fmt.Errorf("arbiters: %q: %w", a, err)
		}
		// Votes come from canonical (lower-case) addresses only; a seat listed otherwise could
		// never vote and the majority could become unreachable.
		if a != strings.ToLower(a) {
			return fmt.Errorf("arbiters: %q must be in canonical (lower-case) form", a)
		}
		if arb[a] {
			return fmt.Errorf("arbiters: duplicate %s", a)
		}
		arb[a] = true
	}
	return nil
}

// IsBondable reports whether denom may be bonded.
func (p Params) IsBondable(denom string) bool {
	for _, d := range p.BondDenoms {
		if d == denom {
			return true
		}
	}
	return false
}

// IsArbiter reports whether addr is a registered arbiter.
func (p Params) IsArbiter(addr string) bool {
	for _, a := range p.Arbiters {
		if a == addr {
			return true
		}
	}
	return false
}
