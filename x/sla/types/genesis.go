package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"
)

// DefaultGenesis is the state a fresh chain starts with.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks a genesis state before it is written to the store.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidGenesis, err.Error())
	}
	bad := func(format string, a ...any) error { return errorsmod.Wrapf(ErrInvalidGenesis, format, a...) }
	seen := map[string]bool{}
	for _, b := range gs.Bonds {
		if seen[b.Provider] {
			return bad("duplicate bond of %s", b.Provider)
		}
		seen[b.Provider] = true
		if err := b.Bonded.Validate(); err != nil {
			return bad("bond of %s: %v", b.Provider, err)
		}
		if err := b.Locked.Validate(); err != nil {
			return bad("lock of %s: %v", b.Provider, err)
		}
	}
	ids := map[uint64]bool{}
	for _, u := range gs.Unbondings {
		if u.Id == 0 || u.Id > gs.NextUnbondingId || ids[u.Id] {
			return bad("unbonding id %d duplicate or beyond next id %d", u.Id, gs.NextUnbondingId)
		}
		ids[u.Id] = true
		if err := u.Amount.Validate(); err != nil || !u.Amount.IsPositive() {
			return bad("unbonding %d amount %s", u.Id, u.Amount)
		}
		if u.CreationHeight < 0 || u.CreationHeight > u.CompletionHeight {
			return bad("unbonding %d created at %d, completing at %d", u.Id, u.CreationHeight, u.CompletionHeight)
		}
	}
	leases := map[uint64]bool{}
	for _, l := range gs.Leases {
		if l.LeaseId == 0 || leases[l.LeaseId] {
			return bad("lease %d zero or duplicate", l.LeaseId)
		}
		leases[l.LeaseId] = true
		// Penalties and locks build coins from these denoms; an empty one would panic there.
		if err := l.PricePerBlock.Validate(); err != nil {
			return bad("lease %d price: %v", l.LeaseId, err)
		}
		if err := l.LockedBond.Validate(); err != nil {
			return bad("lease %d locked bond: %v", l.LeaseId, err)
		}
	}
	for _, r := range gs.Reports {
		if !leases[r.LeaseId] || r.Window == 0 {
			return bad("report of lease %d window %d has no lease", r.LeaseId, r.Window)
		}
	}
	for _, b := range gs.Batches {
		if !leases[b.LeaseId] || b.FirstSequence == 0 || b.LastSequence < b.FirstSequence {
			return bad("batch %d..%d of lease %d", b.FirstSequence, b.LastSequence, b.LeaseId)
		}
	}
	dids := map[uint64]bool{}
	for _, d := range gs.Disputes {
		if d.Id == 0 || d.Id > gs.NextDisputeId || dids[d.Id] {
			return bad("dispute id %d duplicate or beyond next id %d", d.Id, gs.NextDisputeId)
		}
		dids[d.Id] = true
		if !leases[d.LeaseId] {
			return bad("dispute %d names unknown lease %d", d.Id, d.LeaseId)
		}
	}
	for _, r := range gs.Reputations {
		if r.ScoreBps > 10_000 {
			return bad("reputation of %s is %d bps", r.Provider, r.ScoreBps)
		}
	}
	if len(gs.Replications) > 0 {
		orders := map[uint64]bool{}
		for _, r := range gs.Replications {
			if orders[r.OrderId] {
				return errorsmod.Wrap(ErrInvalidGenesis, fmt.Sprintf("duplicate replication of order %d", r.OrderId))
			}
			orders[r.OrderId] = true
		}
	}
	return nil
}
