package keeper_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/keepertest"
	"github.com/computed-network/computed/x/internal/heightqueue"
	"github.com/computed-network/computed/x/market/keeper"
	"github.com/computed-network/computed/x/market/types"
)

// refusingStreams is an escrow that will not open a stream: the award, and so the clearing, fails.
type refusingStreams struct{ nopEscrow }

func (refusingStreams) OpenStream(context.Context, uint64, uint64, sdk.AccAddress, sdk.Coin) error {
	return errors.New("escrow refused the stream")
}

// TestFailedClearingClosesOrder: a clearing that fails in EndBlock closes the order
// (CLOSE_REASON_CLEARING_FAILED) and refunds its bids, and says why; before, its writes were
// dropped with its queue entry and the order stayed OPEN, never cleared or expired, with every
// deposit locked.
func TestFailedClearingClosesOrder(t *testing.T) {
	env := keepertest.New(t, types.StoreKey)
	k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nopBank{}, nil, refusingStreams{}, nil)
	ctx := env.Ctx.WithBlockHeight(100).WithEventManager(sdk.NewEventManager())
	require.NoError(t, k.Params.Set(ctx, types.DefaultParams()))
	addr := func(b byte) string {
		s, err := env.AddressCodec.BytesToString(append([]byte{b}, make([]byte, 19)...))
		require.NoError(t, err)
		return s
	}
	o := types.Order{Id: 1, Owner: addr(1), Requirements: types.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 8, Metro: "FRA"},
		MaxPricePerBlock: sdk.NewInt64Coin("uusdc", 100), Policy: types.ACCEPTANCE_POLICY_AUTO, Replicas: 1,
		State: types.ORDER_STATE_OPEN, BiddingClosesHeight: 100, OpenBids: 1}
	require.NoError(t, k.Orders.Set(ctx, o.Id, o))
	require.NoError(t, k.BiddingCloseQueue.Set(ctx, collections.Join(o.BiddingClosesHeight, o.Id)))
	require.NoError(t, k.ClearingsAt.Set(ctx, o.BiddingClosesHeight, 1))
	provider := addr(2)
	b := types.Bid{Id: 1, OrderId: 1, Provider: provider, PricePerBlock: sdk.NewInt64Coin("uusdc", 90),
		Deposit: sdk.NewInt64Coin("ucmpt", 1), State: types.BID_STATE_OPEN}
	require.NoError(t, k.Bids.Set(ctx, b.Id, b))
	require.NoError(t, k.BidsByOrder.Set(ctx, collections.Join(o.Id, b.Id)))
	pb, err := env.AddressCodec.StringToBytes(provider)
	require.NoError(t, err)
	require.NoError(t, k.BidByOrderProvider.Set(ctx, collections.Join(o.Id, pb), b.Id))
	require.NoError(t, k.LiveBids.Set(ctx, collections.Join(pb, b.Id)))

	require.NoError(t, k.EndBlocker(ctx))
	got, err := k.Orders.Get(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, types.ORDER_STATE_CLOSED, got.State)
	require.Equal(t, types.CLOSE_REASON_CLEARING_FAILED, got.CloseReason)
	bid, err := k.Bids.Get(ctx, 1)
	require.NoError(t, err)
	require.NotEqual(t, types.BID_STATE_OPEN, bid.State, "the bid is settled, its deposit refunded")
	require.Empty(t, mustLeases(t, k, ctx), "no lease from the failed award")
	due, err := heightqueue.Due(ctx, k.BiddingCloseQueue, 1<<40)
	require.NoError(t, err)
	require.Empty(t, due)
	var why string
	for _, ev := range ctx.EventManager().Events() {
		if ev.Type == heightqueue.EventTypeItemFailed {
			for _, a := range ev.Attributes {
				if a.Key == "error" {
					why = a.Value
				}
			}
		}
	}
	require.Contains(t, why, "escrow refused the stream")
	msg, broken := keeper.LiveIndexesInvariant(k)(ctx)
	require.False(t, broken, msg)
}

func mustLeases(t *testing.T, k keeper.Keeper, ctx sdk.Context) []uint64 {
	t.Helper()
	var ids []uint64
	require.NoError(t, k.Leases.Walk(ctx, nil, func(id uint64, _ types.Lease) (bool, error) {
		ids = append(ids, id)
		return false, nil
	}))
	return ids
}

// brokenEscrow refuses streams and closing accounts: a clearing fails, and so does the close
// that would replace it, and the item is dropped.
type brokenEscrow struct{ refusingStreams }

func (brokenEscrow) CloseAccount(context.Context, uint64, string) error {
	return errors.New("escrow cannot close the account")
}

// TestPastClearingsCountedOut: an order imported with its window already closed comes due in
// the first block (the queue yields every entry at or below the height); dropped there, its
// height's count goes too. Before, only the current height's count was dropped, and a past one
// stayed for ever and broke the invariant.
func TestPastClearingsCountedOut(t *testing.T) {
	env := keepertest.New(t, types.StoreKey)
	k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nopBank{}, nil, brokenEscrow{}, nil)
	ctx := env.Ctx.WithBlockHeight(100).WithEventManager(sdk.NewEventManager())
	owner, err := env.AddressCodec.BytesToString(append([]byte{1}, make([]byte, 19)...))
	require.NoError(t, err)
	gs := types.DefaultGenesis()
	gs.NextOrderId = 1
	gs.Orders = []types.Order{{Id: 1, Owner: owner, Requirements: types.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 8, Metro: "FRA"},
		MaxPricePerBlock: sdk.NewInt64Coin("uusdc", 100), Policy: types.ACCEPTANCE_POLICY_AUTO, Replicas: 1,
		Workload: types.Workload{WasmHash: strings.Repeat("ab", 32)}, BiddingWindowBlocks: 5,
		State: types.ORDER_STATE_OPEN, BiddingClosesHeight: 90}}
	upper := *gs
	upper.Orders = []types.Order{gs.Orders[0]}
	upper.Orders[0].Owner = strings.ToUpper(owner)
	require.ErrorIs(t, k.InitGenesis(ctx, &upper), types.ErrInvalidAddress, "only canonical addresses are imported")
	require.NoError(t, k.InitGenesis(ctx, gs))
	n, err := k.ClearingsAt.Get(ctx, 90)
	require.NoError(t, err)
	require.Equal(t, uint32(1), n)

	require.NoError(t, k.EndBlocker(ctx))
	o, err := k.Orders.Get(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, types.ORDER_STATE_OPEN, o.State, "clearing and close both failed: dropped")
	has, err := k.ClearingsAt.Has(ctx, 90)
	require.NoError(t, err)
	require.False(t, has)
	msg, broken := keeper.LiveIndexesInvariant(k)(ctx)
	require.False(t, broken, msg)
}
