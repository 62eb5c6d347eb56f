package types

import (
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
)

func bad(i sdkmath.Int) bool { return i.IsNil() || i.IsNegative() }

// DefaultGenesis is the state a fresh chain starts with.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks a genesis state before it is written to the store.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidGenesis, err.Error())
	}
	accounts := make(map[uint64]Account, len(gs.Accounts))
	for _, a := range gs.Accounts {
		if _, dup := accounts[a.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate account %d", a.Id)
		}
		if bad(a.Balance) || bad(a.Rate) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "account %d: negative or missing balance or rate", a.Id)
		}
		if a.State != ACCOUNT_STATE_OPEN && a.State != ACCOUNT_STATE_CLOSED {
			return errorsmod.Wrapf(ErrInvalidGenesis, "account %d: bad state %s", a.Id, a.State)
		}
		accounts[a.Id] = a
	}
	seen := make(map[uint64]bool, len(gs.Streams))
	for _, s := range gs.Streams {
		if seen[s.LeaseId] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate stream %d", s.LeaseId)
		}
		seen[s.LeaseId] = true
		if _, ok := accounts[s.AccountId]; !ok {
			return errorsmod.Wrapf(ErrInvalidGenesis, "stream %d: unknown account %d", s.LeaseId, s.AccountId)
		}
		if bad(s.Rate) || bad(s.Earned) || bad(s.Withdrawn) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "stream %d: negative or missing rate, earned or withdrawn", s.LeaseId)
		}
	}
	return nil
}
