package types_test

import (
	"math"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/market/types"
)

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.NoError(t, types.DefaultGenesis().Validate())

	cases := map[string]func(p *types.Params){
		"zero min window":         func(p *types.Params) { p.MinBiddingWindowBlocks = 0 },
		"max window below min":    func(p *types.Params) { p.MaxBiddingWindowBlocks = p.MinBiddingWindowBlocks - 1 },
		"window beyond ten years": func(p *types.Params) { p.MaxBiddingWindowBlocks = math.MaxUint64 },
		"zero bids per order":     func(p *types.Params) { p.MaxBidsPerOrder = 0 },
		"unbounded bids":          func(p *types.Params) { p.MaxBidsPerOrder = 1001 },
		"zero replicas":           func(p *types.Params) { p.MaxReplicas = 0 },
		"replicas above bids":     func(p *types.Params) { p.MaxReplicas = p.MaxBidsPerOrder + 1 },
		"bad bid deposit denom":   func(p *types.Params) { p.BidDeposit = sdk.Coin{Denom: "1bad", Amount: sdkmath.OneInt()} },
		"negative bid deposit":    func(p *types.Params) { p.BidDeposit = sdk.Coin{Denom: "ucmpt", Amount: sdkmath.NewInt(-1)} },
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
