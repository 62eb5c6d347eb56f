package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

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
