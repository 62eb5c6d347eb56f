package keeper_test

import (
	"math/rand"
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"

	escrowkeeper "github.com/computed-network/computed/x/escrow/keeper"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/market/types"
)

// TestRandomizedOperations runs thousands of random market and escrow messages, valid and not,
// over hundreds of blocks. After every block: every module invariant holds and no uusdc was
// created or lost: it is all in user accounts, escrow, or the community pool. Every refused
// message must fail with a registered error.
func TestRandomizedOperations(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run("seed", func(t *testing.T) { runRandom(t, seed, 1500) })
	}
}

func runRandom(t *testing.T, seed int64, ops int) {
	e := setup(t)
	r := rand.New(rand.NewSource(seed))
	esrv := escrowkeeper.NewMsgServerImpl(e.App.EscrowKeeper)
	users := e.Accounts[:6]
	pick := func() sdk.AccAddress { return users[r.Intn(len(users))] }
	orderSeq := func() uint64 { v, _ := e.App.MarketKeeper.OrderSeq.Peek(e.Ctx()); return v }
	bidSeq := func() uint64 { v, _ := e.App.MarketKeeper.BidSeq.Peek(e.Ctx()); return v }
	leaseSeq := func() uint64 { v, _ := e.App.MarketKeeper.LeaseSeq.Peek(e.Ctx()); return v }
	// Mostly recent ids (live objects), sometimes 0 or one past the last (objects that do not exist).
	rid := func(peek func() uint64) uint64 {
		last := int64(peek())
		if r.Intn(10) == 0 {
			return uint64(r.Int63n(last + 2))
		}
		return uint64(max(1, last-r.Int63n(6)))
	}

	supply := e.App.BankKeeper.GetSupply(e.Ctx(), usdc).Amount
	accepted, refused := 0, 0
	for i := 0; i < ops; i++ {
		var op func(ctx sdk.Context) error
		switch r.Intn(17) {
		case 0, 1, 11:
			m := orderMsg(pick())
			m.MaxPricePerBlock = coin(1 + r.Int63n(200))
			m.Deposit = coin(r.Int63n(6000))
			m.BiddingWindowBlocks = uint64(4 + r.Intn(5))
			m.Replicas = 1
			if r.Intn(5) == 0 {
				m.Replicas = uint32(2 + r.Intn(2))
			}
			if r.Intn(2) == 0 {
				m.Policy = types.ACCEPTANCE_POLICY_MANUAL
			}
			if r.Intn(3) == 0 {
				m.DurationBlocks = uint64(1 + r.Intn(30))
			}
			op = func(ctx sdk.Context) error { _, err := e.srv.CreateOrder(ctx, m); return err }
		case 2, 3, 12, 13, 14, 15:
			m := &types.MsgCreateBid{Provider: pick().String(), OrderId: rid(orderSeq), PricePerBlock: coin(1 + r.Int63n(220))}
			op = func(ctx sdk.Context) error { _, err := e.srv.CreateBid(ctx, m); return err }
		case 4:
			m := &types.MsgCloseBid{Provider: pick().String(), BidId: rid(bidSeq)}
			op = func(ctx sdk.Context) error { _, err := e.srv.CloseBid(ctx, m); return err }
		case 5:
			ids := []uint64{rid(bidSeq)}
			if r.Intn(2) == 0 {
				ids = append(ids, rid(bidSeq))
			}
			m := &types.MsgAcceptBid{Owner: pick().String(), OrderId: rid(orderSeq), BidIds: ids}
			op = func(ctx sdk.Context) error { _, err := e.srv.AcceptBid(ctx, m); return err }
		case 6:
			m := &escrowtypes.MsgDeposit{Depositor: pick().String(), AccountId: rid(orderSeq), Amount: coin(r.Int63n(3000))}
			op = func(ctx sdk.Context) error { _, err := esrv.Deposit(ctx, m); return err }
		case 7, 16:
			m := &escrowtypes.MsgWithdraw{Payee: pick().String(), LeaseId: rid(leaseSeq)}
			op = func(ctx sdk.Context) error { _, err := esrv.Withdraw(ctx, m); return err }
		case 8:
			m := &types.MsgCloseLease{Sender: pick().String(), LeaseId: rid(leaseSeq)}
			op = func(ctx sdk.Context) error { _, err := e.srv.CloseLease(ctx, m); return err }
		case 9:
			if r.Intn(3) == 0 {
				m := &types.MsgCloseOrder{Owner: pick().String(), OrderId: rid(orderSeq)}
				op = func(ctx sdk.Context) error { _, err := e.srv.CloseOrder(ctx, m); return err }
			} else {
				amt := r.Int63n(500)
				m := &escrowtypes.MsgSetRefillPolicy{Owner: pick().String(), AccountId: rid(orderSeq),
					Amount: coin(amt), Cap: coin(amt * int64(r.Intn(4))), LowWaterBlocks: uint64(r.Intn(6))}
				op = func(ctx sdk.Context) error { _, err := esrv.SetRefillPolicy(ctx, m); return err }
			}
		case 10:
			e.NextBlock()
			e.CheckInvariants()
			checkConservation(t, e, users, supply)
			continue
		}
		if _, err := e.Exec(op); err != nil {
			refused++
			codespace, code, _ := errorsmod.ABCIInfo(err, false)
			require.NotEqual(t, errorsmod.UndefinedCodespace, codespace, "unregistered error: %v", err)
			require.NotZero(t, code)
		} else {
			accepted++
		}
	}
	e.Advance(40) // let windows, durations and depletions play out
	e.CheckInvariants()
	checkConservation(t, e, users, supply)
	// What the random mix left exports as a genesis the checks accept (account rates equal to
	// their active streams', refill policies, bid and lease states).
	eg, err := e.App.EscrowKeeper.ExportGenesis(e.Ctx())
	require.NoError(t, err)
	require.NoError(t, eg.Validate())
	mg, err := e.App.MarketKeeper.ExportGenesis(e.Ctx())
	require.NoError(t, err)
	require.NoError(t, mg.Validate())
	leases := leaseSeq()
	t.Logf("seed %d: %d accepted, %d refused, %d leases", seed, accepted, refused, leases)
	require.Greater(t, accepted, ops/10, "the random mix must exercise real flows")
	require.Positive(t, leases)
}

func checkConservation(t *testing.T, e *env, users []sdk.AccAddress, supply sdkmath.Int) {
	t.Helper()
	ctx := e.Ctx()
	require.Equal(t, supply, e.App.BankKeeper.GetSupply(ctx, usdc).Amount, "uusdc supply changed")
	total := sdkmath.ZeroInt()
	for _, a := range e.Accounts {
		total = total.Add(e.Balance(a, usdc))
	}
	for _, m := range []string{escrowtypes.ModuleName, types.ModuleName, distrtypes.ModuleName} {
		total = total.Add(e.Balance(authtypes.NewModuleAddress(m), usdc))
	}
	require.Equal(t, supply, total, "uusdc outside users, escrow, market and the community pool")
}
