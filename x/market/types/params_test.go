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

// Genesis orders and bids must be what the keeper can run: one open bid per provider per order
// (the open-bid index clearing settles from holds one; a second would never be settled) and no
// replicated job with a duration (its leases end at resolution).
func TestGenesisOrdersAndBidsValidate(t *testing.T) {
	wasm := types.Workload{WasmHash: "ab"}
	valid := func() types.GenesisState {
		return types.GenesisState{
			Params: types.DefaultParams(), NextOrderId: 2, NextBidId: 3,
			Orders: []types.Order{{Id: 1, Replicas: 1, Workload: wasm, DurationBlocks: 10}, {Id: 2, Replicas: 2, Workload: wasm}},
			Bids: []types.Bid{
				{Id: 1, OrderId: 1, Provider: "p", State: types.BID_STATE_CLOSED},
				{Id: 2, OrderId: 1, Provider: "p", State: types.BID_STATE_OPEN},
				{Id: 3, OrderId: 2, Provider: "p", State: types.BID_STATE_OPEN},
			},
		}
	}
	g := valid()
	require.NoError(t, g.Validate())
	for name, mutate := range map[string]func(g *types.GenesisState){
		"two open bids of one provider":  func(g *types.GenesisState) { g.Bids[0].State = types.BID_STATE_OPEN },
		"replicated job with a duration": func(g *types.GenesisState) { g.Orders[1].DurationBlocks = 5 },
	} {
		t.Run(name, func(t *testing.T) {
			g := valid()
			mutate(&g)
			require.ErrorIs(t, g.Validate(), types.ErrInvalidGenesis)
		})
	}
}
