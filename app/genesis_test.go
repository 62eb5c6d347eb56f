package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"cosmossdk.io/collections"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	attesttest "github.com/computed-network/computed/x/attest/testutil"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowkeeper "github.com/computed-network/computed/x/escrow/keeper"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	marketkeeper "github.com/computed-network/computed/x/market/keeper"
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

	// Live market and escrow state: an active lease with a streaming account, and an open order
	// with a bid waiting for clearing.
	ctx = chain.GetContext()
	buyer, provider := chain.SenderAccounts[0].SenderAccount.GetAddress(), chain.SenderAccounts[1].SenderAccount.GetAddress()
	require.NoError(t, attesttest.AttestProvider(ctx, a.AttestKeeper, provider, "FRA", 8))
	msrv := marketkeeper.NewMsgServerImpl(a.MarketKeeper)
	order := func(policy markettypes.AcceptancePolicy) uint64 {
		res, err := msrv.CreateOrder(ctx, &markettypes.MsgCreateOrder{
			Owner:            buyer.String(),
			Requirements:     markettypes.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 1, Metro: "FRA"},
			MaxPricePerBlock: sdk.NewInt64Coin(sdk.DefaultBondDenom, 100), BiddingWindowBlocks: 10, Policy: policy,
			Workload: markettypes.Workload{WasmHash: strings.Repeat("ef", 32)}, Replicas: 1, DurationBlocks: 50,
			Deposit: sdk.NewInt64Coin(sdk.DefaultBondDenom, 100_000),
		})
		require.NoError(t, err)
		return res.OrderId
	}
	manual, open := order(markettypes.ACCEPTANCE_POLICY_MANUAL), order(markettypes.ACCEPTANCE_POLICY_AUTO)
	bid, err := msrv.CreateBid(ctx, &markettypes.MsgCreateBid{Provider: provider.String(), OrderId: manual, PricePerBlock: sdk.NewInt64Coin(sdk.DefaultBondDenom, 90)})
	require.NoError(t, err)
	_, err = msrv.AcceptBid(ctx, &markettypes.MsgAcceptBid{Owner: buyer.String(), OrderId: manual, BidIds: []uint64{bid.BidId}})
	require.NoError(t, err)
	_, err = msrv.CreateBid(ctx, &markettypes.MsgCreateBid{Provider: provider.String(), OrderId: open, PricePerBlock: sdk.NewInt64Coin(sdk.DefaultBondDenom, 80)})
	require.NoError(t, err)
	coord.CommitBlock(chain)
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

	// Indexes and queues are rebuilt on import: the imported app finds the open order in its
	// clearing queue, the lease in its end queue, and the account in its depletion queue.
	var mgB markettypes.GenesisState
	b.AppCodec().MustUnmarshalJSON(stateB["market"], &mgB)
	require.Len(t, mgB.Orders, 2)
	o, err := b.MarketKeeper.Orders.Get(ctxB, open)
	require.NoError(t, err)
	has, err := b.MarketKeeper.BiddingCloseQueue.Has(ctxB, collections.Join(o.BiddingClosesHeight, open))
	require.NoError(t, err)
	require.True(t, has, "open order queued for clearing after import")
	l, err := b.MarketKeeper.Leases.Get(ctxB, 1)
	require.NoError(t, err)
	has, err = b.MarketKeeper.LeaseEndQueue.Has(ctxB, collections.Join(l.EndHeight, l.Id))
	require.NoError(t, err)
	require.True(t, has, "lease queued for its end after import")
	acc, err := b.EscrowKeeper.Accounts.Get(ctxB, manual)
	require.NoError(t, err)
	has, err = b.EscrowKeeper.DepletionQueue.Has(ctxB, collections.Join(acc.DepletionHeight, manual))
	require.NoError(t, err)
	require.True(t, has, "streaming account queued for depletion after import")
	for name, inv := range map[string]sdk.Invariant{
		"market": marketkeeper.AllInvariants(b.MarketKeeper), "escrow": escrowkeeper.AllInvariants(b.EscrowKeeper),
	} {
		msg, broken := inv(ctxB)
		require.False(t, broken, "%s after import: %s", name, msg)
	}
}
