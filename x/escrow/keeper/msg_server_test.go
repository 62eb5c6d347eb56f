package keeper_test

import (
	"cosmossdk.io/collections"

	"math"
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/computed-network/computed/testutil/apptest"
	attesttest "github.com/computed-network/computed/x/attest/testutil"
	"github.com/computed-network/computed/x/escrow/keeper"
	"github.com/computed-network/computed/x/escrow/types"
	marketkeeper "github.com/computed-network/computed/x/market/keeper"
	markettypes "github.com/computed-network/computed/x/market/types"
)

const usdc = apptest.USDC

type env struct {
	*apptest.Fixture
	srv    types.MsgServer
	q      types.QueryServer
	market markettypes.MsgServer
}

func setup(t *testing.T) *env {
	f := apptest.New(t)
	for _, a := range f.Accounts[:4] {
		_, err := f.Exec(func(ctx sdk.Context) error { return attesttest.AttestProvider(ctx, f.App.AttestKeeper, a, "FRA", 8) })
		require.NoError(t, err)
	}
	f.NextBlock()
	return &env{Fixture: f, srv: keeper.NewMsgServerImpl(f.App.EscrowKeeper), q: keeper.NewQueryServerImpl(f.App.EscrowKeeper),
		market: marketkeeper.NewMsgServerImpl(f.App.MarketKeeper)}
}

func coin(n int64) sdk.Coin { return sdk.NewInt64Coin(usdc, n) }

// lease opens an order with deposit and clears it to a lease at rate; returns (order, lease).
func (e *env) lease(owner, provider sdk.AccAddress, deposit, rate int64) (uint64, uint64) {
	e.T.Helper()
	var orderID, leaseID uint64
	_, err := e.Exec(func(ctx sdk.Context) error {
		res, err := e.market.CreateOrder(ctx, &markettypes.MsgCreateOrder{
			Owner:            owner.String(),
			Requirements:     markettypes.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 1, Metro: "FRA"},
			MaxPricePerBlock: coin(rate), BiddingWindowBlocks: 5, Policy: markettypes.ACCEPTANCE_POLICY_MANUAL,
			Workload: markettypes.Workload{OciDigest: "sha256:" + strings.Repeat("1", 64)}, Replicas: 1, Deposit: coin(deposit),
		})
		if err != nil {
			return err
		}
		orderID = res.OrderId
		bid, err := e.market.CreateBid(ctx, &markettypes.MsgCreateBid{Provider: provider.String(), OrderId: orderID, PricePerBlock: coin(rate)})
		if err != nil {
			return err
		}
		acc, err := e.market.AcceptBid(ctx, &markettypes.MsgAcceptBid{Owner: owner.String(), OrderId: orderID, BidIds: []uint64{bid.BidId}})
		if err != nil {
			return err
		}
		leaseID = acc.LeaseIds[0]
		return nil
	})
	require.NoError(e.T, err)
	return orderID, leaseID
}

func (e *env) account(id uint64) types.Account {
	a, err := e.App.EscrowKeeper.Accounts.Get(e.Ctx(), id)
	require.NoError(e.T, err)
	return a
}

func (e *env) exec(fn func(ctx sdk.Context) error) error {
	_, err := e.Exec(fn)
	return err
}

func TestDeposit(t *testing.T) {
	e := setup(t)
	owner, provider, friend := e.Accounts[0], e.Accounts[1], e.Accounts[2]
	id, _ := e.lease(owner, provider, 1000, 10)
	acc := e.account(id)
	require.Equal(t, acc.SettledHeight+100, acc.DepletionHeight)

	deposit := func(from sdk.AccAddress, account uint64, c sdk.Coin) error {
		return e.exec(func(ctx sdk.Context) error {
			_, err := e.srv.Deposit(ctx, &types.MsgDeposit{Depositor: from.String(), AccountId: account, Amount: c})
			return err
		})
	}
	cases := []struct {
		name    string
		account uint64
		amount  sdk.Coin
		err     *errorsmod.Error
	}{
		{"unknown account", 77, coin(5), types.ErrAccountNotFound},
		{"wrong denom", id, sdk.NewInt64Coin("ucmpt", 5), types.ErrDenomMismatch},
		{"zero", id, coin(0), types.ErrInvalidAmount},
		{"negative", id, sdk.Coin{Denom: usdc, Amount: sdkmath.NewInt(-3)}, types.ErrInvalidAmount},
		{"malformed denom", id, sdk.Coin{Denom: "9!", Amount: sdkmath.NewInt(3)}, types.ErrInvalidAmount},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.ErrorIs(t, deposit(friend, tc.account, tc.amount), tc.err) })
	}
	require.Equal(t, acc, e.account(id), "refused deposits change nothing")

	// Anyone may top up; the runway grows by amount / rate.
	before := e.Balance(friend, usdc)
	require.NoError(t, deposit(friend, id, coin(500)))
	require.Equal(t, before.SubRaw(500), e.Balance(friend, usdc))
	require.Equal(t, acc.DepletionHeight+50, e.account(id).DepletionHeight)
	e.CheckInvariants()
}

func TestWithdrawPaysEarningsLessTake(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	_, leaseID := e.lease(owner, provider, 100_000, 1000)
	e.Advance(5)

	withdraw := func(who sdk.AccAddress, lease uint64) (*types.MsgWithdrawResponse, error) {
		var res *types.MsgWithdrawResponse
		err := e.exec(func(ctx sdk.Context) error {
			var err error
			res, err = e.srv.Withdraw(ctx, &types.MsgWithdraw{Payee: who.String(), LeaseId: lease})
			return err
		})
		return res, err
	}
	_, err := withdraw(owner, leaseID)
	require.ErrorIs(t, err, types.ErrUnauthorized)
	_, err = withdraw(provider, 99)
	require.ErrorIs(t, err, types.ErrStreamNotFound)

	s, _ := e.App.EscrowKeeper.Streams.Get(e.Ctx(), leaseID)
	earned := sdkmath.NewInt(1000 * (e.Height() - s.OpenedHeight))
	pool := func() sdkmath.LegacyDec {
		fp, err := e.App.DistrKeeper.FeePool.Get(e.Ctx())
		require.NoError(t, err)
		return fp.CommunityPool.AmountOf(usdc)
	}
	poolBefore, provBefore := pool(), e.Balance(provider, usdc)
	res, err := withdraw(provider, leaseID)
	require.NoError(t, err)
	take := earned.MulRaw(100).QuoRaw(10_000) // default take 1%
	require.Equal(t, take, res.Take.Amount)
	require.Equal(t, earned.Sub(take), res.Paid.Amount)
	require.Equal(t, provBefore.Add(earned.Sub(take)), e.Balance(provider, usdc))
	require.Equal(t, poolBefore.Add(sdkmath.LegacyNewDecFromInt(take)), pool(), "take reaches the community pool")

	_, err = withdraw(provider, leaseID)
	require.ErrorIs(t, err, types.ErrNothingToWithdraw, "same block: nothing new earned")
	e.CheckInvariants()
}

// TestTakeOnRunningTotal: withdrawing every block, when each block's 1% take is under one unit,
// pays the same take as withdrawing once: it is charged on the stream's running total.
func TestTakeOnRunningTotal(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	_, leaseID := e.lease(owner, provider, 100_000, 30) // 1% of 30 is 0.3 a block
	take, paid := sdkmath.ZeroInt(), sdkmath.ZeroInt()
	for range 25 {
		e.NextBlock()
		require.NoError(t, e.exec(func(ctx sdk.Context) error {
			res, err := e.srv.Withdraw(ctx, &types.MsgWithdraw{Payee: provider.String(), LeaseId: leaseID})
			if err == nil {
				take, paid = take.Add(res.Take.Amount), paid.Add(res.Paid.Amount)
			}
			return err
		}))
	}
	s, err := e.App.EscrowKeeper.Streams.Get(e.Ctx(), leaseID)
	require.NoError(t, err)
	require.Equal(t, s.Withdrawn, take.Add(paid))
	require.True(t, s.Withdrawn.GTE(sdkmath.NewInt(25*30)), "withdrawn %s", s.Withdrawn)
	require.Equal(t, s.Withdrawn.MulRaw(100).QuoRaw(10_000), take, "the take on %s withdrawn in 25 pieces", s.Withdrawn)
	require.True(t, take.IsPositive())
	e.CheckInvariants()
}

func TestRefillPolicy(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	id, _ := e.lease(owner, provider, 100, 10) // 10 blocks of runway
	set := func(sender sdk.AccAddress, amount, cap sdk.Coin, low uint64) error {
		return e.exec(func(ctx sdk.Context) error {
			_, err := e.srv.SetRefillPolicy(ctx, &types.MsgSetRefillPolicy{Owner: sender.String(), AccountId: id, Amount: amount, Cap: cap, LowWaterBlocks: low})
			return err
		})
	}
	require.ErrorIs(t, set(provider, coin(50), coin(100), 3), types.ErrUnauthorized)
	require.ErrorIs(t, set(owner, coin(50), coin(40), 3), types.ErrInvalidRefillPolicy)
	require.ErrorIs(t, set(owner, coin(50), coin(100), 0), types.ErrInvalidRefillPolicy)
	require.ErrorIs(t, set(owner, sdk.NewInt64Coin("ucmpt", 50), coin(100), 3), types.ErrDenomMismatch)
	require.Nil(t, e.account(id).Refill)

	require.NoError(t, set(owner, coin(50), coin(100), 3))
	acc := e.account(id)
	require.Equal(t, acc.DepletionHeight-3, acc.RefillHeight)
	before := e.Balance(owner, usdc)
	for e.Height() <= acc.RefillHeight {
		e.NextBlock()
	}
	var refills int
	for _, ev := range e.BlockEvents() {
		if ev.Type == "computed.escrow.v1.EventRefill" {
			refills++
		}
	}
	require.Equal(t, 1, refills)
	require.Equal(t, before.SubRaw(50), e.Balance(owner, usdc), "one refill pulled")
	after := e.account(id)
	require.Equal(t, acc.DepletionHeight+5, after.DepletionHeight)
	require.Equal(t, sdkmath.NewInt(50), after.Refill.Refilled)

	// Second refill reaches the cap; a third is refused by the cap and says so.
	for e.Height() <= e.account(id).RefillHeight {
		e.NextBlock()
	}
	require.Equal(t, sdkmath.NewInt(100), e.account(id).Refill.Refilled)
	require.Zero(t, e.account(id).RefillHeight, "cap reached: not re-armed")
	e.CheckInvariants()
}

func TestRefillFailsWithoutOwnerFunds(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	id, _ := e.lease(owner, provider, 100, 10)
	require.NoError(t, e.exec(func(ctx sdk.Context) error {
		_, err := e.srv.SetRefillPolicy(ctx, &types.MsgSetRefillPolicy{Owner: owner.String(), AccountId: id,
			Amount: coin(50), Cap: coin(500), LowWaterBlocks: 3})
		return err
	}))
	// Empty the owner's uusdc.
	ctx := e.Ctx()
	bal := e.App.BankKeeper.GetBalance(ctx, owner, usdc)
	require.NoError(t, e.App.BankKeeper.SendCoinsFromAccountToModule(ctx, owner, minttypes.ModuleName, sdk.NewCoins(bal)))
	at := e.account(id).RefillHeight
	for e.Height() <= at {
		e.NextBlock()
	}
	found := false
	for _, ev := range e.BlockEvents() {
		if ev.Type == "computed.escrow.v1.EventRefill" {
			for _, a := range ev.Attributes {
				if a.Key == "ok" {
					require.Equal(t, "false", a.Value)
					found = true
				}
			}
		}
	}
	require.True(t, found, "a failed refill still emits an event")
	require.Zero(t, e.account(id).RefillHeight, "not retried every block")
	e.CheckInvariants()
}

func TestSLAKeeperAPI(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	id, leaseID := e.lease(owner, provider, 10_000, 100)
	k := e.App.EscrowKeeper
	acc := e.account(id)

	// A penalty credited from another module's account extends the buyer's runway.
	require.NoError(t, e.exec(func(ctx sdk.Context) error {
		if err := e.App.BankKeeper.MintCoins(ctx, minttypes.ModuleName, sdk.NewCoins(coin(300))); err != nil {
			return err
		}
		return k.CreditAccount(ctx, minttypes.ModuleName, id, coin(300))
	}))
	require.Equal(t, acc.DepletionHeight+3, e.account(id).DepletionHeight)

	// Reduce, pause, resume.
	require.ErrorIs(t, e.exec(func(ctx sdk.Context) error { return k.SetStreamRate(ctx, leaseID, sdkmath.ZeroInt()) }), types.ErrInvalidAmount)
	require.NoError(t, e.exec(func(ctx sdk.Context) error { return k.SetStreamRate(ctx, leaseID, sdkmath.NewInt(50)) }))
	require.Equal(t, sdkmath.NewInt(50), e.account(id).Rate)
	require.NoError(t, e.exec(func(ctx sdk.Context) error { return k.PauseStream(ctx, leaseID) }))
	require.True(t, e.account(id).Rate.IsZero())
	require.Zero(t, e.account(id).DepletionHeight, "nothing streams, nothing depletes")
	e.Advance(3)
	s, _ := k.Streams.Get(e.Ctx(), leaseID)
	earnedPaused := s.Earned
	require.NoError(t, e.exec(func(ctx sdk.Context) error { return k.ResumeStream(ctx, leaseID) }))
	s, _ = k.Streams.Get(e.Ctx(), leaseID)
	require.Equal(t, earnedPaused, s.Earned, "nothing earned while paused")
	require.Equal(t, sdkmath.NewInt(50), e.account(id).Rate)
	e.CheckInvariants()

	// Queries settle to now without writing.
	e.Advance(2)
	res, err := e.q.Stream(e.Ctx(), &types.QueryStreamRequest{LeaseId: leaseID})
	require.NoError(t, err)
	require.Equal(t, earnedPaused.AddRaw(50*2), res.Stream.Earned)
	stored, _ := k.Streams.Get(e.Ctx(), leaseID)
	require.Equal(t, earnedPaused, stored.Earned, "query wrote nothing")

	// StreamFunds settles, and keeps the account settled with its streams: the blocks it paid
	// are not paid again (before, the streams' earnings were saved and the account's were not).
	var funds sdkmath.Int
	require.NoError(t, e.exec(func(ctx sdk.Context) (err error) { funds, err = k.StreamFunds(ctx, leaseID); return err }))
	require.Equal(t, e.account(id).Balance, funds)
	require.NoError(t, e.exec(func(ctx sdk.Context) error { _, err := k.PayStream(ctx, leaseID, sdkmath.NewInt(1)); return err }))
	stored, _ = k.Streams.Get(e.Ctx(), leaseID)
	require.Equal(t, earnedPaused.AddRaw(50*2+1), stored.Earned, "two blocks and the payment, once")
	e.CheckInvariants()
	_ = distrtypes.ModuleName
}

// TestDepositThroughAuthz: a buyer's treasury may let a bot top up its escrow accounts.
func TestDepositThroughAuthz(t *testing.T) {
	e := setup(t)
	owner, provider, treasury, bot := e.Accounts[0], e.Accounts[1], e.Accounts[2], e.Accounts[3]
	id, _ := e.lease(owner, provider, 1000, 10)
	before := e.account(id).DepletionHeight
	msgDeposit := &types.MsgDeposit{Depositor: treasury.String(), AccountId: id, Amount: coin(200)}
	grant := authz.NewGenericAuthorization(sdk.MsgTypeURL(msgDeposit))
	exp := e.Ctx().BlockTime().Add(time.Hour)
	require.NoError(t, e.exec(func(ctx sdk.Context) error {
		return e.App.AuthzKeeper.SaveGrant(ctx, bot, treasury, grant, &exp)
	}))
	treasuryBefore := e.Balance(treasury, usdc)
	exec := authz.NewMsgExec(bot, []sdk.Msg{msgDeposit})
	require.NoError(t, e.exec(func(ctx sdk.Context) error {
		_, err := e.App.AuthzKeeper.Exec(ctx, &exec)
		return err
	}))
	require.Equal(t, treasuryBefore.SubRaw(200), e.Balance(treasury, usdc), "the granter paid")
	require.Equal(t, before+20, e.account(id).DepletionHeight)

	// Without a grant the bot cannot spend someone else's funds.
	other := authz.NewMsgExec(bot, []sdk.Msg{&types.MsgDeposit{Depositor: owner.String(), AccountId: id, Amount: coin(1)}})
	require.Error(t, e.exec(func(ctx sdk.Context) error {
		_, err := e.App.AuthzKeeper.Exec(ctx, &other)
		return err
	}))
	e.CheckInvariants()
}

// TestRunwayBeyondLargestHeight: a deposit that lasts longer than the largest height (a large
// balance of an 18-decimal denom at a small rate) never depletes. Before, the quotient was
// converted to int64 unchecked: a sum that wrapped put the depletion in the past and closed the
// lease in the block it started, and a quotient beyond int64 panicked, in EndBlock a chain halt.
func TestRunwayBeyondLargestHeight(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	huge := sdkmath.NewIntFromUint64(1 << 63).MulRaw(4) // 2^65
	e.Fund(owner, sdk.NewCoins(sdk.NewCoin(usdc, huge)))
	id, lease := e.lease(owner, provider, math.MaxInt64-1, 1)
	require.Equal(t, int64(math.MaxInt64), e.account(id).DepletionHeight)
	e.NextBlock()
	l, err := e.App.MarketKeeper.Leases.Get(e.Ctx(), lease)
	require.NoError(t, err)
	require.Equal(t, markettypes.LEASE_STATE_ACTIVE, l.State, "still running a block later")

	// A balance whose runway does not fit an int64 at all.
	require.NoError(t, e.exec(func(ctx sdk.Context) error {
		_, err := e.srv.Deposit(ctx, &types.MsgDeposit{Depositor: owner.String(), AccountId: id, Amount: sdk.NewCoin(usdc, huge.QuoRaw(2))})
		return err
	}))
	require.Equal(t, int64(math.MaxInt64), e.account(id).DepletionHeight)
	e.NextBlock()
	e.CheckInvariants()
}

// TestRefillLowWaterBounded: a low-water mark is subtracted from a height as an int64, so one
// beyond the bound is refused rather than wrapped into a refill that never fires.
func TestRefillLowWaterBounded(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	id, _ := e.lease(owner, provider, 100, 10)
	set := func(low uint64) error {
		return e.exec(func(ctx sdk.Context) error {
			_, err := e.srv.SetRefillPolicy(ctx, &types.MsgSetRefillPolicy{Owner: owner.String(), AccountId: id, Amount: coin(50), Cap: coin(100), LowWaterBlocks: low})
			return err
		})
	}
	require.ErrorIs(t, set(types.MaxLowWaterBlocks+1), types.ErrInvalidRefillPolicy)
	require.ErrorIs(t, set(math.MaxUint64), types.ErrInvalidRefillPolicy)
	require.NoError(t, set(types.MaxLowWaterBlocks))
	acc := e.account(id)
	require.Equal(t, e.Height(), acc.RefillHeight, "a low-water mark beyond the runway refills now")
}

// A refill that leaves the account under its low-water mark re-arms, but no sooner than the
// blocks it bought: before, a policy of tiny amounts refilled the account in every EndBlock,
// unmetered work for next to nothing.
func TestRefillKeepsPaceWithConsumption(t *testing.T) {
	e := setup(t)
	owner, provider := e.Accounts[0], e.Accounts[1]
	id, _ := e.lease(owner, provider, 100, 10) // 10 blocks of runway
	require.NoError(t, e.exec(func(ctx sdk.Context) error {
		// 30 buys 3 blocks; the low-water mark of 1,000 blocks is never reached.
		_, err := e.srv.SetRefillPolicy(ctx, &types.MsgSetRefillPolicy{Owner: owner.String(), AccountId: id, Amount: coin(30), Cap: coin(1_000_000), LowWaterBlocks: 1_000})
		return err
	}))
	var heights []int64
	for range 9 {
		e.NextBlock()
		for _, ev := range e.BlockEvents() {
			if ev.Type == "computed.escrow.v1.EventRefill" {
				heights = append(heights, e.Height())
			}
		}
	}
	require.Len(t, heights, 3, "refilled at %v", heights)
	for i := 1; i < len(heights); i++ {
		require.Equal(t, int64(3), heights[i]-heights[i-1], "refilled at %v", heights)
	}
	e.CheckInvariants()
}

// TestSettledHeightInvariantCatchesStaleDepletion: the invariant recomputes an account's
// depletion height and refuses queue entries no streaming account matches; before, an account
// recorded at the wrong height, with a queue entry there, passed.
func TestSettledHeightInvariantCatchesStaleDepletion(t *testing.T) {
	e := setup(t)
	id, _ := e.lease(e.Accounts[0], e.Accounts[1], 10_000, 100)
	k := e.App.EscrowKeeper
	inv := keeper.SettledHeightInvariant(k)
	msg, broken := inv(e.Ctx())
	require.False(t, broken, msg)

	acc := e.account(id)
	moved := acc
	moved.DepletionHeight += 7
	require.NoError(t, k.Accounts.Set(e.Ctx(), id, moved))
	require.NoError(t, k.DepletionQueue.Set(e.Ctx(), collections.Join(moved.DepletionHeight, id)))
	_, broken = inv(e.Ctx())
	require.True(t, broken, "a depletion height the balance and rate do not give")

	require.NoError(t, k.Accounts.Set(e.Ctx(), id, acc))
	_, broken = inv(e.Ctx())
	require.True(t, broken, "the stale queue entry left behind")
	require.NoError(t, k.DepletionQueue.Remove(e.Ctx(), collections.Join(moved.DepletionHeight, id)))
	msg, broken = inv(e.Ctx())
	require.False(t, broken, msg)
}
