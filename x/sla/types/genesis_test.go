package types_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/sla/types"
)

// validGenesis holds one of everything, consistently numbered.
func validGenesis() types.GenesisState {
	gs := *types.DefaultGenesis()
	coin := sdk.NewInt64Coin("ucmpt", 5)
	gs.Bonds = []types.Bond{{Provider: "a", Bonded: sdk.NewCoins(coin)}, {Provider: "b", Bonded: sdk.NewCoins(coin)}}
	gs.NextUnbondingId = 2
	gs.Unbondings = []types.Unbonding{{Id: 1, Provider: "a", Amount: coin}, {Id: 2, Provider: "b", Amount: coin}}
	gs.Leases = []types.LeaseSLA{
		{LeaseId: 1, PricePerBlock: sdk.NewInt64Coin("uusdc", 10), LockedBond: sdk.NewInt64Coin("uusdc", 0)},
		{LeaseId: 2, PricePerBlock: sdk.NewInt64Coin("uusdc", 10), LockedBond: coin},
	}
	gs.Reports = []types.SLAReport{{LeaseId: 1, Window: 1}}
	gs.Batches = []types.ReceiptBatch{{LeaseId: 2, FirstSequence: 1, LastSequence: 1}}
	gs.NextDisputeId = 1
	gs.Disputes = []types.Dispute{{Id: 1, LeaseId: 1}}
	gs.Replications = []types.Replication{{OrderId: 1}, {OrderId: 2}}
	gs.Reputations = []types.ReputationEntry{{Provider: "a", ScoreBps: 10_000}}
	return gs
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, validGenesis().Validate())
	cases := map[string]func(gs *types.GenesisState){
		"bad params":     func(gs *types.GenesisState) { gs.Params.BondDenoms = nil },
		"duplicate bond": func(gs *types.GenesisState) { gs.Bonds[1].Provider = "a" },
		"invalid bonded coins": func(gs *types.GenesisState) {
			gs.Bonds[0].Bonded = sdk.Coins{{Denom: "ucmpt", Amount: sdkmath.NewInt(-1)}}
		},
		"invalid locked coins":     func(gs *types.GenesisState) { gs.Bonds[0].Locked = sdk.Coins{{Denom: "-", Amount: sdkmath.OneInt()}} },
		"unbonding id 0":           func(gs *types.GenesisState) { gs.Unbondings[0].Id = 0 },
		"unbonding beyond next id": func(gs *types.GenesisState) { gs.NextUnbondingId = 1 },
		"duplicate unbonding":      func(gs *types.GenesisState) { gs.Unbondings[1].Id = 1 },
		"empty unbonding":          func(gs *types.GenesisState) { gs.Unbondings[0].Amount = sdk.NewInt64Coin("ucmpt", 0) },
		"lease 0":                  func(gs *types.GenesisState) { gs.Leases[0].LeaseId = 0 },
		"duplicate lease":          func(gs *types.GenesisState) { gs.Leases[1].LeaseId = 1 },
		"lease without a price":    func(gs *types.GenesisState) { gs.Leases[0].PricePerBlock = sdk.Coin{} },
		"lease lock without denom": func(gs *types.GenesisState) { gs.Leases[0].LockedBond = sdk.Coin{Amount: sdkmath.ZeroInt()} },
		"report of no lease":       func(gs *types.GenesisState) { gs.Reports[0].LeaseId = 9 },
		"report of window 0":       func(gs *types.GenesisState) { gs.Reports[0].Window = 0 },
		"batch of no lease":        func(gs *types.GenesisState) { gs.Batches[0].LeaseId = 9 },
		"batch from sequence 0":    func(gs *types.GenesisState) { gs.Batches[0].FirstSequence = 0 },
		"batch ending before it starts": func(gs *types.GenesisState) {
			gs.Batches[0].FirstSequence, gs.Batches[0].LastSequence = 3, 2
		},
		"dispute beyond next id":    func(gs *types.GenesisState) { gs.NextDisputeId = 0 },
		"dispute of no lease":       func(gs *types.GenesisState) { gs.Disputes[0].LeaseId = 9 },
		"reputation above 100%":     func(gs *types.GenesisState) { gs.Reputations[0].ScoreBps = 10_001 },
		"duplicate replication":     func(gs *types.GenesisState) { gs.Replications[1].OrderId = 1 },
		"duplicate dispute":         func(gs *types.GenesisState) { gs.NextDisputeId = 2; gs.Disputes = append(gs.Disputes, gs.Disputes[0]) },
		"unbonding of a bad amount": func(gs *types.GenesisState) { gs.Unbondings[0].Amount = sdk.Coin{Denom: "ucmpt"} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			gs := validGenesis()
			mutate(&gs)
			require.ErrorIs(t, gs.Validate(), types.ErrInvalidGenesis)
		})
	}
}
