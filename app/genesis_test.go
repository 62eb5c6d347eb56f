package app_test

import (
	"encoding/json"
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// TestGenesisExportImportRoundTrip exports a chain that has live IBC state and non-default params
// in every own module, imports the export into a fresh app, exports again, and requires every
// module's state to come back byte-for-byte (as JSON).
func TestGenesisExportImportRoundTrip(t *testing.T) {
	coord := newCoordinator(t, 2)
	path := ibctesting.NewTransferPath(coord.GetChain(ibctesting.GetChainID(1)), coord.GetChain(ibctesting.GetChainID(2)))
	coord.Setup(path)
	chain := path.EndpointB.Chain
	a := appOf(chain)

	ctx := chain.GetContext()
	mp := markettypes.DefaultParams()
	mp.MaxReplicas = 5
	require.NoError(t, a.MarketKeeper.Params.Set(ctx, mp))
	ep := escrowtypes.DefaultParams()
	ep.TakeRateBps = 250
	require.NoError(t, a.EscrowKeeper.Params.Set(ctx, ep))
	ap := attesttypes.DefaultParams()
	ap.ChallengeTtlBlocks = 42
	require.NoError(t, a.AttestKeeper.Params.Set(ctx, ap))
	sp := slatypes.DefaultParams()
	sp.BreachesToTerminate = 9
	require.NoError(t, a.SLAKeeper.Params.Set(ctx, sp))
	coord.CommitBlock(chain)

	exported, err := a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var stateA map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &stateA))
	for _, m := range []string{"market", "escrow", "attest", "sla", "ibc", "transfer", "capability", "bank", "staking", "gov"} {
		require.Contains(t, stateA, m)
	}
	var mg markettypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(stateA["market"], &mg)
	require.Equal(t, mp, mg.Params, "export carries the live market params")
	require.Contains(t, string(stateA["ibc"]), path.EndpointB.ClientID, "export carries IBC clients")

	b, err := newApp()
	require.NoError(t, err)
	ctxB := b.NewContextLegacy(true, cmtproto.Header{Height: a.LastBlockHeight(), ChainID: chain.ChainID})
	_, err = b.ModuleManager.InitGenesis(ctxB, b.AppCodec(), stateA)
	require.NoError(t, err)
	require.NoError(t, b.StoreConsensusParams(ctxB, exported.ConsensusParams))

	reexported, err := b.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var stateB map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(reexported.AppState, &stateB))
	require.Len(t, stateB, len(stateA))
	for name, raw := range stateA {
		require.JSONEq(t, string(raw), string(stateB[name]), "module %s", name)
	}
	require.Equal(t, exported.Validators, reexported.Validators)
}
