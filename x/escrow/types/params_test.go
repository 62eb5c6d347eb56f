package types_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/escrow/types"
)

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.NoError(t, types.DefaultGenesis().Validate())
	withIBC := types.DefaultParams()
	withIBC.AllowedDenoms = append(withIBC.AllowedDenoms, "ibc/498A0751C798A0D9A389AA3691123DADA57DAA4FE165D5C75894505B876BA6E4")
	withIBC.MinDeposits = sdk.NewCoins(sdk.NewInt64Coin("uusdc", 1_000_000))
	require.NoError(t, withIBC.Validate())

	cases := map[string]func(p *types.Params){
		"no denoms":            func(p *types.Params) { p.AllowedDenoms = nil },
		"invalid denom":        func(p *types.Params) { p.AllowedDenoms = []string{"9x"} },
		"duplicate denom":      func(p *types.Params) { p.AllowedDenoms = []string{"uusdc", "uusdc"} },
		"take above cap":       func(p *types.Params) { p.TakeRateBps = types.MaxTakeRateBps + 1 },
		"min deposit unlisted": func(p *types.Params) { p.MinDeposits = sdk.NewCoins(sdk.NewInt64Coin("uatom", 1)) },
		"negative min deposit": func(p *types.Params) { p.MinDeposits = sdk.Coins{{Denom: "uusdc", Amount: sdkmath.NewInt(-5)}} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := types.DefaultParams()
			mutate(&p)
			require.Error(t, p.Validate())
			require.ErrorIs(t, types.GenesisState{Params: p}.Validate(), types.ErrInvalidGenesis)
		})
	}
}
