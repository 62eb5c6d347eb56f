package keeper_test

import (
	"context"
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/keepertest"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/keeper"
	"github.com/computed-network/computed/x/sla/types"
)

func keys[K any](t *testing.T, ctx context.Context, ks collections.KeySet[K]) []K {
	iter, err := ks.Iterate(ctx, nil)
	require.NoError(t, err)
	out, err := iter.Keys()
	require.NoError(t, err)
	return out
}

// TestGenesisRoundTrip exports x/sla with every kind of live state (bonds and locks, an
// unbonding, windows reported and queued, a closed lease with a window still to judge, receipt
// batches, an open dispute, a replication taking commitments, reputations) and imports it into a
// fresh store: the export of the import is the same state, and every queue and index InitGenesis
// rebuilds holds exactly the entries the running chain holds.
func TestGenesisRoundTrip(t *testing.T) {
	e := setup(t)
	pa, pb, pc, pd, pe := e.providers[0], e.providers[1], e.providers[2], e.providers[3], e.providers[4]
	for _, p := range e.providers {
		e.bond(p, usdcCoin(10_000))
		e.bond(p, cmptCoin(10_000))
	}
	withBond := slaOrder(e.buyer)
	withBond.Requirements.MinProviderBond = usdcCoin(2_000)
	a, b, c := e.createOrder(withBond), e.createOrder(slaOrder(e.buyer)), e.createOrder(slaOrder(e.buyer))
	require.NoError(t, e.bidOn(pa, a, price))
	require.NoError(t, e.bidOn(pb, b, price))
	require.NoError(t, e.bidOn(pc, c, price))
	e.clear(a)
	la, lb, lc := e.leasesOf(a)[0], e.leasesOf(b)[0], e.leasesOf(c)[0]
	s := e.marketLease(la).StartHeight

	// The replicated order clears three blocks after the others, so that it is still taking
	// commitments when the state is exported.
	e.finalizeThrough(s + 2)
	rep := e.createOrder(replicatedOrder(e.buyer, 2))
	require.NoError(t, e.bidOn(pd, rep, price))
	require.NoError(t, e.bidOn(pe, rep, price))

	e.finalizeThrough(s + 4) // now at s+5, the end of window 1
	require.NoError(t, e.report(reportMsg(pa, la, 1, true)))
	require.NoError(t, e.report(reportMsg(pb, lb, 1, true)))
	require.NoError(t, e.submitBatch(batchMsg(pa, la, 1, 10, root(1))))
	require.NoError(t, e.submitBatch(batchMsg(pa, la, 11, 1_000, root(2))))
	_, err := e.unbond(pc, cmptCoin(4_000))
	require.NoError(t, err)
	e.finalizeThrough(s + 7) // window 1 judged: a and b met, c missing
	res, err := e.openDispute(disputeMsg(e.buyer, lb, 1))
	require.NoError(t, err)
	e.NextBlock()
	leasesD := e.leasesOf(rep)
	require.NoError(t, e.commit(pd, leasesD[0], digestA))
	e.finalizeThrough(s + 9) // now at s+10, the end of window 2
	require.NoError(t, e.report(reportMsg(pa, la, 2, false)))
	e.must(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: e.buyer.String(), LeaseId: lc, Detail: "moving"})
		return err
	})
	_, err = e.unbond(pd, usdcCoin(1_000))
	require.NoError(t, err)

	ctx := e.Ctx()
	k := e.App.SLAKeeper
	gs, err := k.ExportGenesis(ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	// The state is as live as intended.
	require.Len(t, gs.Unbondings, 2)
	require.Len(t, gs.Batches, 2)
	require.Len(t, gs.Disputes, 1)
	require.Equal(t, types.DISPUTE_STATUS_AWAITING_RESPONSE, gs.Disputes[0].Status)
	require.Equal(t, res.DisputeId, gs.Disputes[0].Id)
	require.Len(t, gs.Replications, 1)
	require.Equal(t, types.REPLICATION_STATUS_COMMITTING, gs.Replications[0].Status)
	require.False(t, e.slaLease(lc).Active)
	require.Equal(t, []int64{e.due(lc, 2)}, e.queued(lc), "window 2 of the closed lease is still to be judged")
	require.Equal(t, types.WINDOW_STATUS_REPORTED, e.window(la, 2).Status)
	require.NotEmpty(t, gs.Reputations)
	require.NotEmpty(t, e.bondOf(pa).Locked)

	env := keepertest.New(t, types.StoreKey)
	fresh := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nil, nil, nil, nil)
	fctx := env.Ctx.WithBlockHeight(ctx.BlockHeight())
	require.NoError(t, fresh.InitGenesis(fctx, gs))
	again, err := fresh.ExportGenesis(fctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)

	require.Equal(t, keys(t, ctx, k.WindowQueue), keys(t, fctx, fresh.WindowQueue))
	require.Equal(t, keys(t, ctx, k.UnbondingQueue), keys(t, fctx, fresh.UnbondingQueue))
	require.Equal(t, keys(t, ctx, k.DisputeQueue), keys(t, fctx, fresh.DisputeQueue))
	require.Equal(t, keys(t, ctx, k.ReplicationQueue), keys(t, fctx, fresh.ReplicationQueue))
	require.Equal(t, keys(t, ctx, k.UnbondingsByProvider), keys(t, fctx, fresh.UnbondingsByProvider))
	require.Equal(t, keys(t, ctx, k.LeasesByProvider), keys(t, fctx, fresh.LeasesByProvider))
	require.Equal(t, keys(t, ctx, k.DisputesByLease), keys(t, fctx, fresh.DisputesByLease))
	for _, q := range [][]collections.Pair[int64, uint64]{
		keys(t, fctx, fresh.WindowQueue), keys(t, fctx, fresh.UnbondingQueue),
		keys(t, fctx, fresh.DisputeQueue), keys(t, fctx, fresh.ReplicationQueue),
	} {
		require.NotEmpty(t, q)
	}
	seq, err := fresh.DisputeSeq.Peek(fctx)
	require.NoError(t, err)
	require.Equal(t, res.DisputeId, seq)
	free, err := fresh.FreeBond(fctx, pa, usdc)
	require.NoError(t, err)
	require.Equal(t, amt(8_000), free, "locks survive")
}

// TestGenesisRejectsBadState: InitGenesis refuses what Validate refuses.
func TestGenesisRejectsBadState(t *testing.T) {
	env := keepertest.New(t, types.StoreKey)
	k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nil, nil, nil, nil)
	gs := types.DefaultGenesis()
	gs.Leases = []types.LeaseSLA{{LeaseId: 1}, {LeaseId: 1}}
	require.ErrorIs(t, k.InitGenesis(env.Ctx, gs), types.ErrInvalidGenesis)
	gs = types.DefaultGenesis()
	gs.Bonds = []types.Bond{{Provider: "cmpt1nope"}}
	require.ErrorIs(t, k.InitGenesis(env.Ctx, gs), types.ErrInvalidAddress)
}
