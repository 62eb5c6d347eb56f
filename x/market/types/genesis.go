package types

import errorsmod "cosmossdk.io/errors"

// DefaultGenesis is the state a fresh chain starts with.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks a genesis state before it is written to the store.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidGenesis, err.Error())
	}
	return nil
}
