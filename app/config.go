package app

import (
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

var setPrefixesOnce sync.Once

// SetAddressPrefixes sets the bech32 prefixes (cmpt, cmptvaloper, cmptvalcons) in the SDK's global
// config once; every binary and test that builds addresses must call it before the first one.
func SetAddressPrefixes() {
	setPrefixesOnce.Do(func() {
		cfg := sdk.GetConfig()
		cfg.SetBech32PrefixForAccount(AccountAddressPrefix, AccountAddressPrefix+sdk.PrefixPublic)
		cfg.SetBech32PrefixForValidator(AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixOperator,
			AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixOperator+sdk.PrefixPublic)
		cfg.SetBech32PrefixForConsensusNode(AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixConsensus,
			AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixConsensus+sdk.PrefixPublic)
		cfg.Seal()
	})
}
