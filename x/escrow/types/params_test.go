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

// Genesis accounts and streams must be what the keeper can run: an account's rate is its active
// streams' (settle would create or destroy money otherwise) and a refill policy's integers are
// set and consistent (a nil one panics in every transaction touching the account).
func TestGenesisAccountsValidate(t *testing.T) {
	i := sdkmath.NewInt
	valid := func() types.GenesisState {
		return types.GenesisState{
			Params: types.DefaultParams(),
			Accounts: []types.Account{{Id: 1, Owner: "o", Denom: "uusdc", Balance: i(100), Rate: i(7), State: types.ACCOUNT_STATE_OPEN,
				Refill: &types.RefillPolicy{Amount: i(10), Cap: i(100), Refilled: i(20), LowWaterBlocks: 5}}},
			Streams: []types.Stream{
				{LeaseId: 1, AccountId: 1, Rate: i(3), Earned: i(0), Withdrawn: i(0), State: types.STREAM_STATE_ACTIVE},
				{LeaseId: 2, AccountId: 1, Rate: i(4), Earned: i(0), Withdrawn: i(0), State: types.STREAM_STATE_ACTIVE},
				{LeaseId: 3, AccountId: 1, Rate: i(9), Earned: i(0), Withdrawn: i(0), State: types.STREAM_STATE_PAUSED},
			},
		}
	}
	g := valid()
	require.NoError(t, g.Validate())
	for name, mutate := range map[string]func(g *types.GenesisState){
		"rate above its streams'": func(g *types.GenesisState) { g.Accounts[0].Rate = i(8) },
		"paused stream in rate":   func(g *types.GenesisState) { g.Accounts[0].Rate = i(16) },
		"nil refill amount":       func(g *types.GenesisState) { g.Accounts[0].Refill.Amount = sdkmath.Int{} },
		"refilled beyond cap":     func(g *types.GenesisState) { g.Accounts[0].Refill.Refilled = i(101) },
		"no low-water mark":       func(g *types.GenesisState) { g.Accounts[0].Refill.LowWaterBlocks = 0 },
		"stream without state":    func(g *types.GenesisState) { g.Streams[0].State = types.STREAM_STATE_UNSPECIFIED },
	} {
		t.Run(name, func(t *testing.T) {
			g := valid()
			mutate(&g)
			require.ErrorIs(t, g.Validate(), types.ErrInvalidGenesis)
		})
	}
}
