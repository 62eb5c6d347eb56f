package types_test

import (
	"math"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/sla/types"
)

// arbiter is a well-formed bech32 account address.
const arbiter = "cosmos1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du"

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.NoError(t, types.DefaultGenesis().Validate())
	good := types.DefaultParams()
	good.Arbiters = []string{arbiter}
	good.ReportGraceBlocks = 1
	good.UnbondingBlocks = types.MaxParamBlocks
	require.NoError(t, good.Validate(), "an arbiter, the shortest grace, the longest unbonding")
	require.True(t, good.IsArbiter(arbiter))
	require.False(t, good.IsArbiter("cosmos1other"))
	require.True(t, good.IsBondable(types.DevStableDenom))
	require.False(t, good.IsBondable("uatom"))

	cases := map[string]func(p *types.Params){
		"no bond denoms":                       func(p *types.Params) { p.BondDenoms = nil },
		"invalid bond denom":                   func(p *types.Params) { p.BondDenoms = []string{"-"} },
		"duplicate bond denom":                 func(p *types.Params) { p.BondDenoms = []string{"ucmpt", "ucmpt"} },
		"zero unbonding":                       func(p *types.Params) { p.UnbondingBlocks = 0 },
		"zero breaches":                        func(p *types.Params) { p.BreachesToTerminate = 0 },
		"zero dispute window":                  func(p *types.Params) { p.DisputeWindowBlocks = 0 },
		"slash above 100 percent":              func(p *types.Params) { p.ReplicaSlashBps = 10_001 },
		"zero response period":                 func(p *types.Params) { p.DisputeResponseBlocks = 0 },
		"zero vote period":                     func(p *types.Params) { p.DisputeVoteBlocks = 0 },
		"zero reputation weight":               func(p *types.Params) { p.ReputationWeightBps = 0 },
		"reputation weight above 100 percent":  func(p *types.Params) { p.ReputationWeightBps = 10_001 },
		"initial reputation above 100 percent": func(p *types.Params) { p.InitialReputationBps = 10_001 },
		"zero commit period":                   func(p *types.Params) { p.CommitBlocks = 0 },
		"zero reveal period":                   func(p *types.Params) { p.RevealBlocks = 0 },
		"zero dispute deposit":                 func(p *types.Params) { p.DisputeDeposit = sdk.NewInt64Coin("ucmpt", 0) },
		"dispute deposit without amount":       func(p *types.Params) { p.DisputeDeposit = sdk.Coin{Denom: "ucmpt"} },
		"dispute deposit with a bad denom":     func(p *types.Params) { p.DisputeDeposit = sdk.Coin{Denom: "-", Amount: sdkmath.OneInt()} },
		"arbiter not an address":               func(p *types.Params) { p.Arbiters = []string{"nope"} },
		"duplicate arbiter":                    func(p *types.Params) { p.Arbiters = []string{arbiter, arbiter} },
		"unbonding beyond ten years":           func(p *types.Params) { p.UnbondingBlocks = types.MaxParamBlocks + 1 },
		"grace that would wrap heights":        func(p *types.Params) { p.ReportGraceBlocks = math.MaxUint64 },
		"no grace":                             func(p *types.Params) { p.ReportGraceBlocks = 0 },
		"arbiter in upper case":                func(p *types.Params) { p.Arbiters = []string{strings.ToUpper(arbiter)} },
		"dispute window beyond ten years":      func(p *types.Params) { p.DisputeWindowBlocks = types.MaxParamBlocks + 1 },
		"response beyond ten years":            func(p *types.Params) { p.DisputeResponseBlocks = types.MaxParamBlocks + 1 },
		"vote beyond ten years":                func(p *types.Params) { p.DisputeVoteBlocks = types.MaxParamBlocks + 1 },
		"commit beyond ten years":              func(p *types.Params) { p.CommitBlocks = types.MaxParamBlocks + 1 },
		"reveal beyond ten years":              func(p *types.Params) { p.RevealBlocks = types.MaxParamBlocks + 1 },
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
