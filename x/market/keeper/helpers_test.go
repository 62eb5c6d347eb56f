package keeper_test

import (
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/apptest"
	attesttest "github.com/computed-network/computed/x/attest/testutil"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/market/keeper"
	"github.com/computed-network/computed/x/market/types"
)

const usdc = apptest.USDC

type env struct {
	*apptest.Fixture
	srv types.MsgServer
	q   types.QueryServer
}

// setup starts a chain whose first six accounts are providers attested for 16 H100s in FRA (the
// market only takes bids from attested providers; 16 leaves room for two 8-GPU leases at once);
// account 7 is registered nowhere.
func setup(t *testing.T) *env {
	f := apptest.New(t)
	for _, a := range f.Accounts[:6] {
		_, err := f.Exec(func(ctx sdk.Context) error { return attesttest.AttestProvider(ctx, f.App.AttestKeeper, a, "FRA", 16) })
		require.NoError(t, err)
	}
	f.NextBlock()
	return &env{Fixture: f, srv: keeper.NewMsgServerImpl(f.App.MarketKeeper), q: keeper.NewQueryServerImpl(f.App.MarketKeeper)}
}

func coin(n int64) sdk.Coin { return sdk.NewInt64Coin(usdc, n) }

// orderMsg is a valid AUTO order for one H100 node in FRA at up to 100 uusdc per block.
func orderMsg(owner sdk.AccAddress) *types.MsgCreateOrder {
	return &types.MsgCreateOrder{
		Owner: owner.String(),
		Requirements: types.Requirements{
			GpuSku: "H100-SXM-80GB", GpuCount: 8, MinVramGib: 80, Metro: "FRA",
		},
		MaxPricePerBlock:    coin(100),
		BiddingWindowBlocks: 5,
		Policy:              types.ACCEPTANCE_POLICY_AUTO,
		Sla:                 types.SLATerms{P95LatencyMs: 50, AvailabilityBps: 9990, WindowBlocks: 100, PenaltyBps: 500},
		Workload:            types.Workload{WasmHash: strings.Repeat("ab", 32)},
		Replicas:            1,
		Deposit:             coin(10_000),
	}
}

func (e *env) createOrder(msg *types.MsgCreateOrder) uint64 {
	e.T.Helper()
	var id uint64
	_, err := e.Exec(func(ctx sdk.Context) error {
		res, err := e.srv.CreateOrder(ctx, msg)
		if err == nil {
			id = res.OrderId
		}
		return err
	})
	require.NoError(e.T, err)
	return id
}

func (e *env) bid(provider sdk.AccAddress, orderID uint64, price int64) uint64 {
	e.T.Helper()
	var id uint64
	_, err := e.Exec(func(ctx sdk.Context) error {
		res, err := e.srv.CreateBid(ctx, &types.MsgCreateBid{Provider: provider.String(), OrderId: orderID, PricePerBlock: coin(price)})
		if err == nil {
			id = res.BidId
		}
		return err
	})
	require.NoError(e.T, err)
	return id
}

func (e *env) order(id uint64) types.Order {
	o, err := e.App.MarketKeeper.Orders.Get(e.Ctx(), id)
	require.NoError(e.T, err)
	return o
}

func (e *env) lease(id uint64) types.Lease {
	l, err := e.App.MarketKeeper.Leases.Get(e.Ctx(), id)
	require.NoError(e.T, err)
	return l
}

func (e *env) account(id uint64) escrowtypes.Account {
	a, err := e.App.EscrowKeeper.Accounts.Get(e.Ctx(), id)
	require.NoError(e.T, err)
	return a
}

// clearOrder advances to the order's bidding close height and finalises that block.
func (e *env) clearOrder(id uint64) {
	e.T.Helper()
	for e.Height() <= e.order(id).BiddingClosesHeight {
		e.NextBlock()
	}
}

func bidDeposit(e *env) sdk.Coin {
	p, err := e.App.MarketKeeper.Params.Get(e.Ctx())
	require.NoError(e.T, err)
	return p.BidDeposit
}

func amount(n int64) sdkmath.Int { return sdkmath.NewInt(n) }
