package types_test

import (
	"math"
	"strings"
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
		"no clearings per block":  func(p *types.Params) { p.MaxClearingsPerBlock = 0 },
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
	wasm := types.Workload{WasmHash: strings.Repeat("ab", 32)}
	price := sdk.NewInt64Coin("uusdc", 10)
	order := func(id uint64, replicas uint32, duration uint64) types.Order {
		return types.Order{
			Id: id, Owner: "owner", Requirements: types.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 1, Metro: "FRA"},
			MaxPricePerBlock: price, DurationBlocks: duration, Policy: types.ACCEPTANCE_POLICY_AUTO, Workload: wasm,
			Replicas: replicas, State: types.ORDER_STATE_OPEN,
		}
	}
	valid := func() types.GenesisState {
		return types.GenesisState{
			Params: types.DefaultParams(), NextOrderId: 2, NextBidId: 3,
			Orders: []types.Order{order(1, 1, 10), order(2, 2, 0)},
			Bids: []types.Bid{
				{Id: 1, OrderId: 1, Provider: "p", State: types.BID_STATE_CLOSED, PricePerBlock: price},
				{Id: 2, OrderId: 1, Provider: "p", State: types.BID_STATE_OPEN, PricePerBlock: price},
				{Id: 3, OrderId: 2, Provider: "p", State: types.BID_STATE_OPEN, PricePerBlock: price},
			},
		}
	}
	g := valid()
	require.NoError(t, g.Validate())
	for name, mutate := range map[string]func(g *types.GenesisState){
		"two open bids of one provider":  func(g *types.GenesisState) { g.Bids[0].State = types.BID_STATE_OPEN },
		"replicated job with a duration": func(g *types.GenesisState) { g.Orders[1].DurationBlocks = 5 },
		"order with no replica":          func(g *types.GenesisState) { g.Orders[0].Replicas = 0 },
		"order with a nil price":         func(g *types.GenesisState) { g.Orders[0].MaxPricePerBlock = sdk.Coin{Denom: "uusdc"} },
		"order without a state":          func(g *types.GenesisState) { g.Orders[0].State = types.ORDER_STATE_UNSPECIFIED },
		"bid with a nil price":           func(g *types.GenesisState) { g.Bids[1].PricePerBlock = sdk.Coin{} },
		"bid of an unknown state":        func(g *types.GenesisState) { g.Bids[0].State = 42 },
	} {
		t.Run(name, func(t *testing.T) {
			g := valid()
			mutate(&g)
			require.ErrorIs(t, g.Validate(), types.ErrInvalidGenesis)
		})
	}
}
