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
		if p := a.Refill; p != nil {
			// Refills compare and subtract these: a nil one panics in every transaction that
			// touches the account.
			if bad(p.Amount) || bad(p.Cap) || bad(p.Refilled) || !p.Amount.IsPositive() || p.Refilled.GT(p.Cap) ||
				p.LowWaterBlocks == 0 || p.LowWaterBlocks > MaxLowWaterBlocks {
				return errorsmod.Wrapf(ErrInvalidGenesis, "account %d: bad refill policy %+v", a.Id, *p)
			}
		}
		accounts[a.Id] = a
	}
	// An account's rate is what its active streams draw: settle pays each stream its rate and
	// takes the account's, so a mismatch creates or destroys money.
	rates := make(map[uint64]sdkmath.Int, len(accounts))
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
		if _, known := StreamState_name[int32(s.State)]; !known || s.State == STREAM_STATE_UNSPECIFIED {
			return errorsmod.Wrapf(ErrInvalidGenesis, "stream %d: bad state %s", s.LeaseId, s.State)
		}
		if s.State == STREAM_STATE_ACTIVE {
			r, ok := rates[s.AccountId]
			if !ok {
				r = sdkmath.ZeroInt()
			}
			rates[s.AccountId] = r.Add(s.Rate)
		}
	}
	for _, a := range gs.Accounts {
		want, ok := rates[a.Id]
		if !ok {
			want = sdkmath.ZeroInt()
		}
		if !a.Rate.Equal(want) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "account %d: rate %s, but its active streams draw %s", a.Id, a.Rate, want)
		}
	}
	return nil
}
