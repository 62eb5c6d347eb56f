package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/computed-network/computed/testutil/keepertest"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/keeper"
	"github.com/computed-network/computed/x/sla/types"
)

func (e *env) unbond(p sdk.AccAddress, c sdk.Coin) (*types.MsgUnbondResponse, error) {
	var res *types.MsgUnbondResponse
	_, err := e.Exec(func(ctx sdk.Context) error {
		var err error
		res, err = e.srv.Unbond(ctx, &types.MsgUnbond{Provider: p.String(), Amount: c})
		return err
	})
	return res, err
}

// q0 is provider's first unbonding.
func q0(t *testing.T, e *env, p sdk.AccAddress) types.Unbonding {
	q, err := e.q.Bond(e.Ctx(), &types.QueryBondRequest{Provider: p.String()})
	require.NoError(t, err)
	require.NotEmpty(t, q.Unbondings)
	return q.Unbondings[0]
}

// TestBondAndUnbond: bonding moves coins into the bond; unbonding takes them out of the bond at
// once and returns them in the EndBlock of the completion height, not a block earlier.
func TestBondAndUnbond(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	before := e.Balance(p, cmpt)

	ev := e.must(func(ctx sdk.Context) error {
		_, err := e.srv.Bond(ctx, &types.MsgBond{Provider: p.String(), Amount: cmptCoin(5_000)})
		return err
	})
	require.True(t, hasTxEvent(ev, "computed.sla.v1.EventBonded"))
	e.bond(p, usdcCoin(300))
	require.Equal(t, before.SubRaw(5_000), e.Balance(p, cmpt))
	require.Equal(t, sdk.NewCoins(cmptCoin(5_000), usdcCoin(300)), e.bondOf(p).Bonded)
	free, err := e.App.SLAKeeper.FreeBond(e.Ctx(), p, cmpt)
	require.NoError(t, err)
	require.Equal(t, amt(5_000), free)

	res, err := e.unbond(p, cmptCoin(2_000))
	require.NoError(t, err)
	require.Equal(t, e.Height()+int64(e.params().UnbondingBlocks), res.CompletionHeight)
	require.Equal(t, e.Height(), q0(t, e, p).CreationHeight)
	require.Equal(t, sdk.NewCoins(cmptCoin(3_000), usdcCoin(300)), e.bondOf(p).Bonded)
	q, err := e.q.Bond(e.Ctx(), &types.QueryBondRequest{Provider: p.String()})
	require.NoError(t, err)
	require.Len(t, q.Unbondings, 1)
	require.Equal(t, cmptCoin(2_000), q.Unbondings[0].Amount)
	queued, err := e.App.SLAKeeper.UnbondingQueue.Has(e.Ctx(), collections.Join(res.CompletionHeight, res.UnbondingId))
	require.NoError(t, err)
	require.True(t, queued)
	e.checkAll()

	e.finalizeThrough(res.CompletionHeight - 1)
	require.Equal(t, before.SubRaw(5_000), e.Balance(p, cmpt), "still unbonding")
	e.finalizeThrough(res.CompletionHeight)
	require.Equal(t, before.SubRaw(3_000), e.Balance(p, cmpt), "returned in the completion height's EndBlock")
	require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1.EventUnbondingCompleted"))
	has, err := e.App.SLAKeeper.Unbondings.Has(e.Ctx(), res.UnbondingId)
	require.NoError(t, err)
	require.False(t, has)
	e.checkAll()

	// Unbonding everything left removes the bond record.
	_, err = e.unbond(p, cmptCoin(3_000))
	require.NoError(t, err)
	_, err = e.unbond(p, usdcCoin(300))
	require.NoError(t, err)
	has, err = e.App.SLAKeeper.Bonds.Has(e.Ctx(), p)
	require.NoError(t, err)
	require.False(t, has)
	e.checkAll()
}

// A provider has at most MaxUnbondings in progress: slashing walks them, so a bond split into
// thousands of tiny unbondings would make every penalty walk thousands. One that completes
// makes room.
func TestUnbondingsBounded(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, cmptCoin(100))
	for range types.MaxUnbondings {
		_, err := e.unbond(p, cmptCoin(1))
		require.NoError(t, err)
	}
	_, err := e.unbond(p, cmptCoin(1))
	require.ErrorIs(t, err, types.ErrTooManyUnbondings)
	for range e.params().UnbondingBlocks + 1 {
		e.NextBlock()
	}
	_, err = e.unbond(p, cmptCoin(1))
	require.NoError(t, err, "completed unbondings make room")
	e.CheckInvariants()
}

func TestBondRejects(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, cmptCoin(1_000))
	gs, bal := e.snapshot()
	cases := []struct {
		name   string
		unbond bool
		sender string
		amount sdk.Coin
		err    *errorsmod.Error
	}{
		{"bond: bad address", false, "cmpt1nope", cmptCoin(1), types.ErrInvalidAddress},
		{"bond: zero", false, p.String(), cmptCoin(0), types.ErrInvalidAmount},
		{"bond: negative", false, p.String(), sdk.Coin{Denom: cmpt, Amount: sdkmath.NewInt(-1)}, types.ErrInvalidAmount},
		{"bond: no amount", false, p.String(), sdk.Coin{Denom: cmpt}, types.ErrInvalidAmount},
		{"bond: bad denom", false, p.String(), sdk.Coin{Denom: "-x", Amount: sdkmath.NewInt(1)}, types.ErrInvalidAmount},
		{"bond: denom not bondable", false, p.String(), sdk.NewInt64Coin("uatom", 1), types.ErrDenomNotBondable},
		{"bond: more than the balance", false, p.String(), sdk.NewCoin(usdc, e.Balance(p, usdc).AddRaw(1)), sdkerrors.ErrInsufficientFunds},
		{"unbond: bad address", true, "cmpt1nope", cmptCoin(1), types.ErrInvalidAddress},
		{"unbond: zero", true, p.String(), cmptCoin(0), types.ErrInvalidAmount},
		{"unbond: no amount", true, p.String(), sdk.Coin{Denom: cmpt}, types.ErrInvalidAmount},
		{"unbond: more than bonded", true, p.String(), cmptCoin(1_001), types.ErrInsufficientBond},
		{"unbond: denom never bonded", true, p.String(), usdcCoin(1), types.ErrInsufficientBond},
		{"unbond: never bonded", true, e.stranger.String(), cmptCoin(1), types.ErrInsufficientBond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Exec(func(ctx sdk.Context) error {
				if tc.unbond {
					_, err := e.srv.Unbond(ctx, &types.MsgUnbond{Provider: tc.sender, Amount: tc.amount})
					return err
				}
				_, err := e.srv.Bond(ctx, &types.MsgBond{Provider: tc.sender, Amount: tc.amount})
				return err
			})
			require.ErrorIs(t, err, tc.err)
		})
	}
	e.requireUnchanged(gs, bal)
}

// TestBondLocking: a lease locks its order's min_provider_bond; the locked part cannot be unbonded
// while the lease runs, and is free again once it closes.
func TestBondLocking(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, cmptCoin(1_000))
	m := slaOrder(e.buyer)
	m.Requirements.MinProviderBond = cmptCoin(600)
	lease := e.lease(p, m)

	require.Equal(t, sdk.NewCoins(cmptCoin(600)), e.bondOf(p).Locked)
	require.Equal(t, cmptCoin(600), e.slaLease(lease).LockedBond)
	require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1.EventBondLocked"))
	e.checkAll()

	gs, bal := e.snapshot()
	_, err := e.unbond(p, cmptCoin(401))
	require.ErrorIs(t, err, types.ErrInsufficientBond, "600 of 1000 is locked")
	e.requireUnchanged(gs, bal)
	first, err := e.unbond(p, cmptCoin(400))
	require.NoError(t, err, "the free part may go")
	// Nothing is free now, so another order asking for a bond is out of reach.
	other := e.createOrder(m)
	require.ErrorIs(t, e.bidOn(p, other, price), types.ErrInsufficientBond)
	e.must(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: e.buyer.String(), LeaseId: lease})
		return err
	})
	require.Empty(t, e.bondOf(p).Locked, "the lock goes with the lease")
	e.finalizeThrough(first.CompletionHeight)
	require.False(t, e.slaLease(lease).Active)
	before := e.Balance(p, cmpt)
	res, err := e.unbond(p, cmptCoin(600))
	require.NoError(t, err)
	e.finalizeThrough(res.CompletionHeight - 1)
	require.Equal(t, before, e.Balance(p, cmpt))
	e.finalizeThrough(res.CompletionHeight)
	require.Equal(t, before.AddRaw(600), e.Balance(p, cmpt), "returned exactly at completion")
	e.checkAll()
}

// TestBondRecheckedAtClearing: a provider whose free bond shrank between its bid and the
// clearing below the order's minimum does not win (before, the lease started with what was
// left locked); nor does one whose free bond an earlier clearing locked: one bond bid on two
// orders backs one lease.
func TestBondRecheckedAtClearing(t *testing.T) {
	e := setup(t)
	p, q := e.providers[0], e.providers[1]
	e.bond(p, cmptCoin(1_000))
	e.bond(q, cmptCoin(1_000))
	m := slaOrder(e.buyer)
	m.Requirements.MinProviderBond = cmptCoin(800)
	id := e.createOrder(m)
	require.NoError(t, e.bidOn(p, id, price-1))
	require.NoError(t, e.bidOn(q, id, price))
	_, err := e.unbond(p, cmptCoin(500))
	require.NoError(t, err)
	e.clear(id)
	leases := e.leasesOf(id)
	require.Len(t, leases, 1)
	require.Equal(t, q.String(), e.marketLease(leases[0]).Provider, "p's cheaper bid lost its bond")
	require.Equal(t, cmptCoin(800), e.slaLease(leases[0]).LockedBond)
	require.True(t, hasEvent(e.BlockEvents(), "computed.market.v1.EventBidDisqualified"))

	// q's free 1,000 bid on two orders: the first to clear locks 800, the second finds 200.
	e.bond(q, cmptCoin(800))
	first, second := e.createOrder(m), e.createOrder(m)
	require.NoError(t, e.bidOn(q, first, price))
	require.NoError(t, e.bidOn(q, second, price))
	e.clear(first)
	require.Len(t, e.leasesOf(first), 1)
	e.clear(second)
	require.Empty(t, e.leasesOf(second), "q's bond backs one lease")
	require.Equal(t, sdk.NewCoins(cmptCoin(1_600)), e.bondOf(q).Locked)
	e.checkAll()
}

// TestSlashNothing: slashing nothing, in no denom or without an amount, moves nothing and does
// not panic (sdk.NewCoin would on the empty denom); a provider without bond pays nothing and the
// bank is never called (the keeper here has none).
func TestSlashNothing(t *testing.T) {
	env := keepertest.New(t, types.StoreKey)
	k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nil, nil, nil, nil)
	p := sdk.AccAddress(make([]byte, 20))
	for _, amount := range []sdk.Coin{{}, {Denom: usdc}, usdcCoin(0), {Denom: usdc, Amount: sdkmath.NewInt(-1)}, usdcCoin(5)} {
		paid, err := k.Slash(env.Ctx, p, p, amount, 1)
		require.NoError(t, err)
		require.True(t, paid.Amount.IsZero(), "%v", amount)
		require.Equal(t, amount.Denom, paid.Denom)
	}
}

// TestUnbondingAfterInfractionStillPays: a provider that closes its lease and unbonds everything
// between a breached window and its verdict still pays the buyer the penalty, from the unbonding
// it started after the window began; an unbonding that started before the window is not at
// stake. Without that, the bond protects nobody: the lease's lock ends at its close and the
// verdict comes report_grace_blocks later.
func TestUnbondingAfterInfractionStillPays(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, usdcCoin(300))
	old, err := e.unbond(p, usdcCoin(300))
	require.NoError(t, err)
	lease := e.bondedLease(p)
	e.finalizeThrough(e.end(lease, 1) - 1)
	e.must(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: p.String(), LeaseId: lease})
		return err
	})
	require.NoError(t, e.report(reportMsg(p, lease, 1, false)))
	escape, err := e.unbond(p, usdcCoin(1_000))
	require.NoError(t, err, "nothing is locked once the lease closed")
	require.True(t, e.bondOf(p).Bonded.IsZero())

	before := e.Balance(e.buyer, usdc)
	e.finalizeThrough(e.due(lease, 1))
	require.Equal(t, types.WINDOW_STATUS_BREACHED, e.window(lease, 1).Status)
	require.Equal(t, before.AddRaw(windowPenalty), e.Balance(e.buyer, usdc), "the penalty came from the unbonding")
	unb := func(id uint64) sdk.Coin {
		u, err := e.App.SLAKeeper.Unbondings.Get(e.Ctx(), id)
		require.NoError(t, err)
		return u.Amount
	}
	require.Equal(t, usdcCoin(1_000-windowPenalty), unb(escape.UnbondingId))
	require.Equal(t, usdcCoin(300), unb(old.UnbondingId), "an unbonding from before the window is not at stake")
	slashed := 0
	for _, ev := range e.BlockEvents() {
		if ev.Type == "computed.sla.v1.EventUnbondingSlashed" {
			slashed++
		}
	}
	require.Equal(t, 1, slashed, "the verdict's block reports the unbonding it took from")
	e.checkAll()

	// The rest comes back at completion.
	held := e.Balance(p, usdc)
	e.finalizeThrough(escape.CompletionHeight)
	require.Equal(t, held.AddRaw(300+1_000-windowPenalty), e.Balance(p, usdc))
	e.checkAll()
}

// TestSlashTakesWholeUnbondings: a penalty larger than one unbonding takes the newest ones whole
// (removed with their queue entries) and part of the next; the bond pays first.
func TestSlashTakesWholeUnbondings(t *testing.T) {
	e := setup(t)
	p, buyer := e.providers[0], e.buyer
	e.bond(p, usdcCoin(100))
	start := e.Height()
	var ids []uint64
	for _, n := range []int64{40, 30, 20} {
		res, err := e.unbond(p, usdcCoin(n))
		require.NoError(t, err)
		ids = append(ids, res.UnbondingId)
		e.NextBlock()
	}
	before := e.Balance(buyer, usdc)
	var paid sdk.Coin
	e.must(func(ctx sdk.Context) error {
		var err error
		paid, err = e.App.SLAKeeper.Slash(ctx, p, buyer, usdcCoin(75), start)
		return err
	})
	// Bond 10, then the newest unbondings: 20 and 30 whole, 15 of the 40.
	require.Equal(t, usdcCoin(75), paid)
	require.Equal(t, before.AddRaw(75), e.Balance(buyer, usdc))
	require.True(t, e.bondOf(p).Bonded.IsZero())
	for i, want := range []int64{25, 0, 0} {
		u, err := e.App.SLAKeeper.Unbondings.Get(e.Ctx(), ids[i])
		if want == 0 {
			require.Error(t, err, "unbonding %d taken whole", ids[i])
			continue
		}
		require.NoError(t, err)
		require.Equal(t, usdcCoin(want), u.Amount)
	}
	e.checkAll()
	// Penalties for an infraction that began after every unbonding reach none of them.
	e.must(func(ctx sdk.Context) error {
		var err error
		paid, err = e.App.SLAKeeper.Slash(ctx, p, buyer, usdcCoin(10), e.Height())
		return err
	})
	require.True(t, paid.IsZero())
	e.checkAll()
}

// TestUnbondingOutlastsTheRunningWindow: a penalty reaches unbondings started since its window
// began, but a window longer than unbonding_blocks less the dispute periods was decided after
// such an unbonding had paid out. An unbonding now completes after the verdict on the window it
// started in, and after the reveal deadline of a replicated job it serves.
func TestUnbondingOutlastsTheRunningWindow(t *testing.T) {
	e := setup(t)
	p, idle := e.providers[0], e.providers[1]
	params := e.params()
	e.bond(idle, usdcCoin(100))
	res, err := e.unbond(idle, usdcCoin(100))
	require.NoError(t, err)
	require.Equal(t, e.Height()+int64(params.UnbondingBlocks), res.CompletionHeight, "no lease: unbonding_blocks")

	e.bond(p, usdcCoin(1_000))
	m := slaOrder(e.buyer)
	m.Sla.WindowBlocks = 40 // longer than unbonding_blocks (30)
	lease := e.lease(p, m)
	e.finalizeThrough(e.slaLease(lease).StartHeight + 1) // window 1's first block
	res, err = e.unbond(p, usdcCoin(100))
	require.NoError(t, err)
	verdict := e.due(lease, 1) + int64(params.DisputeWindowBlocks+params.DisputeResponseBlocks+params.DisputeVoteBlocks)
	require.Equal(t, verdict+1, res.CompletionHeight, "the last verdict on window 1 comes before the payout")
	require.Greater(t, res.CompletionHeight, e.Height()+int64(params.UnbondingBlocks))

	// In window 2, the bound moves with it.
	e.finalizeThrough(e.end(lease, 1) + 1)
	res, err = e.unbond(p, usdcCoin(100))
	require.NoError(t, err)
	verdict = e.due(lease, 2) + int64(params.DisputeWindowBlocks+params.DisputeResponseBlocks+params.DisputeVoteBlocks)
	require.Equal(t, verdict+1, res.CompletionHeight)
	e.checkAll()

	t.Run("replicated job", func(t *testing.T) {
		e := setup(t)
		e.must(func(ctx sdk.Context) error {
			params := e.params()
			params.CommitBlocks = 40 // commit + reveal longer than unbonding_blocks
			return e.App.SLAKeeper.Params.Set(ctx, params)
		})
		id := e.createOrder(replicatedOrder(e.buyer, 2))
		for _, p := range e.providers[:2] {
			e.bond(p, usdcCoin(1_000))
			require.NoError(t, e.bidOn(p, id, price))
		}
		e.clear(id)
		require.Len(t, e.leasesOf(id), 2)
		r, err := e.App.SLAKeeper.Replications.Get(e.Ctx(), id)
		require.NoError(t, err)
		res, err := e.unbond(e.providers[0], usdcCoin(100))
		require.NoError(t, err)
		require.Equal(t, r.RevealDeadline+1, res.CompletionHeight)
	})
}
