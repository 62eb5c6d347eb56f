package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/computed-network/computed/x/market/keeper"
	"github.com/computed-network/computed/x/market/types"
)

// TestOrdersQuery: the lists a sidecar and a buyer page through. Open orders come from the
// clearing queue, soonest to close first, and pages join up without a gap or a repeat.
func TestOrdersQuery(t *testing.T) {
	e := setup(t)
	owner, other, p1 := e.Accounts[6], e.Accounts[7], e.Accounts[1]
	active := e.createOrder(orderMsg(owner))
	e.bid(p1, active, 50)
	e.clearOrder(active)
	late := orderMsg(owner)
	late.BiddingWindowBlocks = 20
	lateID := e.createOrder(late)
	soonID := e.createOrder(orderMsg(other))
	closedID := e.createOrder(orderMsg(owner))
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CloseOrder(ctx, &types.MsgCloseOrder{Owner: owner.String(), OrderId: closedID})
		return err
	})
	require.NoError(t, err)

	ids := func(req *types.QueryOrdersRequest) []uint64 {
		t.Helper()
		res, err := e.q.Orders(e.Ctx(), req)
		require.NoError(t, err)
		var out []uint64
		for _, o := range res.Orders {
			out = append(out, o.Id)
		}
		return out
	}
	open := types.ORDER_STATE_OPEN
	require.Equal(t, []uint64{soonID, lateID}, ids(&types.QueryOrdersRequest{State: open}), "soonest to close first")
	require.Equal(t, []uint64{active}, ids(&types.QueryOrdersRequest{State: types.ORDER_STATE_ACTIVE}))
	require.Equal(t, []uint64{closedID}, ids(&types.QueryOrdersRequest{State: types.ORDER_STATE_CLOSED}))
	require.Equal(t, []uint64{active, lateID, soonID, closedID}, ids(&types.QueryOrdersRequest{}))
	require.Equal(t, []uint64{lateID}, ids(&types.QueryOrdersRequest{Owner: owner.String(), State: open}))
	require.Equal(t, []uint64{active, lateID, closedID}, ids(&types.QueryOrdersRequest{Owner: owner.String()}))

	// One order a page: the key carries on where the last page stopped.
	var paged []uint64
	var key []byte
	for {
		res, err := e.q.Orders(e.Ctx(), &types.QueryOrdersRequest{State: open, Pagination: &query.PageRequest{Key: key, Limit: 1}})
		require.NoError(t, err)
		for _, o := range res.Orders {
			paged = append(paged, o.Id)
		}
		if key = res.Pagination.NextKey; key == nil {
			break
		}
	}
	require.Equal(t, []uint64{soonID, lateID}, paged)

	// Once the sooner one clears (no bids: it closes), only the later stays open.
	e.clearOrder(soonID)
	require.Equal(t, []uint64{lateID}, ids(&types.QueryOrdersRequest{State: open}))

	_, err = e.q.Orders(e.Ctx(), &types.QueryOrdersRequest{Owner: "cmpt1nope"})
	require.Error(t, err)
	_, err = e.q.Orders(e.Ctx(), nil)
	require.Error(t, err)
}

// TestProviderLists: what a sidecar lists at every start, its active leases and open bids, comes
// from indexes of live entries only; its history stays listable in full.
func TestProviderLists(t *testing.T) {
	e := setup(t)
	owner, p1, p2 := e.Accounts[6], e.Accounts[1], e.Accounts[2]
	done := e.createOrder(orderMsg(owner))
	e.bid(p1, done, 50)
	e.clearOrder(done)
	res, err := e.q.Leases(e.Ctx(), &types.QueryLeasesRequest{Owner: owner.String()})
	require.NoError(t, err)
	require.Len(t, res.Leases, 1)
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CloseLease(ctx, &types.MsgCloseLease{Sender: owner.String(), LeaseId: res.Leases[0].Id})
		return err
	})
	require.NoError(t, err)
	running, rival := e.createOrder(orderMsg(owner)), e.createOrder(orderMsg(owner))
	e.bid(p1, running, 50)
	lost := e.bid(p1, rival, 90)
	e.bid(p2, rival, 10)
	e.clearOrder(rival)
	open := e.bid(p1, e.createOrder(orderMsg(owner)), 60)

	leases := func(state types.LeaseState) []uint64 {
		t.Helper()
		res, err := e.q.Leases(e.Ctx(), &types.QueryLeasesRequest{Provider: p1.String(), State: state})
		require.NoError(t, err)
		var out []uint64
		for _, l := range res.Leases {
			out = append(out, l.OrderId)
		}
		return out
	}
	bids := func(state types.BidState) []uint64 {
		t.Helper()
		res, err := e.q.Bids(e.Ctx(), &types.QueryBidsRequest{Provider: p1.String(), State: state})
		require.NoError(t, err)
		var out []uint64
		for _, b := range res.Bids {
			out = append(out, b.Id)
		}
		return out
	}
	require.Equal(t, []uint64{running}, leases(types.LEASE_STATE_ACTIVE))
	require.Equal(t, []uint64{done}, leases(types.LEASE_STATE_CLOSED))
	require.Equal(t, []uint64{done, running}, leases(types.LEASE_STATE_UNSPECIFIED))
	require.Equal(t, []uint64{open}, bids(types.BID_STATE_OPEN))
	require.Equal(t, []uint64{lost}, bids(types.BID_STATE_LOST))
	// Without a provider, the live indexes answer for every provider.
	all, err := e.q.Leases(e.Ctx(), &types.QueryLeasesRequest{State: types.LEASE_STATE_ACTIVE})
	require.NoError(t, err)
	var orders []uint64
	for _, l := range all.Leases {
		orders = append(orders, l.OrderId)
	}
	require.ElementsMatch(t, []uint64{running, rival}, orders)
	openBids, err := e.q.Bids(e.Ctx(), &types.QueryBidsRequest{State: types.BID_STATE_OPEN})
	require.NoError(t, err)
	require.Len(t, openBids.Bids, 1)
	require.Equal(t, open, openBids.Bids[0].Id)
	paged, err := e.q.Leases(e.Ctx(), &types.QueryLeasesRequest{State: types.LEASE_STATE_ACTIVE, Pagination: &query.PageRequest{Limit: 1}})
	require.NoError(t, err)
	require.Len(t, paged.Leases, 1)
	require.NotNil(t, paged.Pagination.NextKey)
	n, err := e.App.MarketKeeper.ActiveLeaseCount(e.Ctx(), p1)
	require.NoError(t, err)
	require.Equal(t, uint64(1), n)
	e.CheckInvariants()

	// The live indexes are derived: InitGenesis rebuilds them from the leases and bids.
	gs, err := e.App.MarketKeeper.ExportGenesis(e.Ctx())
	require.NoError(t, err)
	require.NoError(t, e.App.MarketKeeper.LiveLeases.Clear(e.Ctx(), nil))
	require.NoError(t, e.App.MarketKeeper.LiveBids.Clear(e.Ctx(), nil))
	_, broken := keeper.LiveIndexesInvariant(e.App.MarketKeeper)(e.Ctx())
	require.True(t, broken)
	require.NoError(t, e.App.MarketKeeper.InitGenesis(e.Ctx(), gs))
	require.Equal(t, []uint64{running}, leases(types.LEASE_STATE_ACTIVE))
	require.Equal(t, []uint64{open}, bids(types.BID_STATE_OPEN))
	msg, broken := keeper.LiveIndexesInvariant(e.App.MarketKeeper)(e.Ctx())
	require.False(t, broken, msg)

	// The open-bid index, from which clearing settles an order's bids, is checked too.
	require.NoError(t, e.App.MarketKeeper.BidByOrderProvider.Clear(e.Ctx(), nil))
	msg, broken = keeper.LiveIndexesInvariant(e.App.MarketKeeper)(e.Ctx())
	require.True(t, broken, "open-bid index emptied: %s", msg)
}
