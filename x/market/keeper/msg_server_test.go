package keeper_test

import (
	"math"
	"math/big"
	"strings"
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/computed-network/computed/testutil/keepertest"
	attestkeeper "github.com/computed-network/computed/x/attest/keeper"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

func TestCreateOrder(t *testing.T) {
	e := setup(t)
	owner := e.Accounts[0]
	before := e.Balance(owner, usdc)
	id := e.createOrder(orderMsg(owner))

	o := e.order(id)
	require.Equal(t, types.ORDER_STATE_OPEN, o.State)
	require.Equal(t, e.Height()+5, o.BiddingClosesHeight)
	require.Equal(t, before.Sub(amount(10_000)), e.Balance(owner, usdc), "deposit locked")
	acc := e.account(id)
	require.Equal(t, amount(10_000), acc.Balance)
	require.Equal(t, owner.String(), acc.Owner)
	ok, err := e.App.MarketKeeper.BiddingCloseQueue.Has(e.Ctx(), joinHeight(o.BiddingClosesHeight, id))
	require.NoError(t, err)
	require.True(t, ok, "queued for clearing at its window's end")
	e.CheckInvariants()
}

func TestCreateOrderRejects(t *testing.T) {
	e := setup(t)
	owner := e.Accounts[0]
	huge, _ := new(big.Int).SetString(strings.Repeat("9", 70), 10)
	twoTo128 := new(big.Int).Lsh(big.NewInt(1), 128)
	cases := []struct {
		name string
		mod  func(m *types.MsgCreateOrder)
		err  *errorsmod.Error
	}{
		{"bad owner address", func(m *types.MsgCreateOrder) { m.Owner = "cmpt1nope" }, types.ErrInvalidAddress},
		{"empty sku", func(m *types.MsgCreateOrder) { m.Requirements.GpuSku = "" }, types.ErrInvalidOrder},
		{"sku with spaces", func(m *types.MsgCreateOrder) { m.Requirements.GpuSku = "H100 SXM" }, types.ErrInvalidOrder},
		{"zero gpus", func(m *types.MsgCreateOrder) { m.Requirements.GpuCount = 0 }, types.ErrInvalidOrder},
		{"too many gpus", func(m *types.MsgCreateOrder) { m.Requirements.GpuCount = 65 }, types.ErrInvalidOrder},
		{"bad metro", func(m *types.MsgCreateOrder) { m.Requirements.Metro = "frankfurt" }, types.ErrInvalidOrder},
		{"unknown evidence", func(m *types.MsgCreateOrder) { m.Requirements.Evidence = []types.EvidenceType{9} }, types.ErrInvalidOrder},
		{"duplicate evidence", func(m *types.MsgCreateOrder) {
			m.Requirements.Evidence = []types.EvidenceType{types.EVIDENCE_TYPE_NVIDIA_NRAS, types.EVIDENCE_TYPE_NVIDIA_NRAS}
		}, types.ErrInvalidOrder},
		{"reputation over 100%", func(m *types.MsgCreateOrder) { m.Requirements.MinReputationBps = 10_001 }, types.ErrInvalidOrder},
		{"zero price", func(m *types.MsgCreateOrder) { m.MaxPricePerBlock = coin(0) }, types.ErrInvalidOrder},
		{"negative price", func(m *types.MsgCreateOrder) { m.MaxPricePerBlock = sdk.Coin{Denom: usdc, Amount: sdkmath.NewInt(-1)} }, types.ErrInvalidOrder},
		{"missing price amount", func(m *types.MsgCreateOrder) { m.MaxPricePerBlock = sdk.Coin{Denom: usdc} }, types.ErrInvalidOrder},
		{"deposit in another denom", func(m *types.MsgCreateOrder) { m.Deposit = sdk.NewInt64Coin("ucmpt", 10_000) }, types.ErrDenomMismatch},
		{"denom not on the allow-list", func(m *types.MsgCreateOrder) {
			m.MaxPricePerBlock, m.Deposit = sdk.NewInt64Coin("uatom", 1), sdk.NewInt64Coin("uatom", 10)
		}, escrowtypes.ErrDenomNotAllowed},
		{"overflow-size deposit", func(m *types.MsgCreateOrder) {
			m.Deposit = sdk.Coin{Denom: usdc, Amount: sdkmath.NewIntFromBigInt(huge)}
		}, types.ErrInvalidOrder},
		{"deposit the owner lacks", func(m *types.MsgCreateOrder) {
			m.Deposit = sdk.Coin{Denom: usdc, Amount: sdkmath.NewIntFromBigInt(twoTo128).SubRaw(1)}
		}, sdkerrors.ErrInsufficientFunds},
		// Prices from 2^128 on would overflow sdkmath.Int in clearing's arithmetic (the price
		// average multiplies by 10,000), which panics in EndBlock.
		{"price of 2^128", func(m *types.MsgCreateOrder) {
			m.MaxPricePerBlock = sdk.Coin{Denom: usdc, Amount: sdkmath.NewIntFromBigInt(twoTo128)}
		}, types.ErrInvalidOrder},
		{"duration beyond ten years", func(m *types.MsgCreateOrder) { m.DurationBlocks = types.MaxDurationBlocks + 1 }, types.ErrInvalidOrder},
		{"duration that wraps the end height", func(m *types.MsgCreateOrder) { m.DurationBlocks = math.MaxUint64 }, types.ErrInvalidOrder},
		{"window too short", func(m *types.MsgCreateOrder) { m.BiddingWindowBlocks = 1 }, types.ErrInvalidOrder},
		{"window too long", func(m *types.MsgCreateOrder) { m.BiddingWindowBlocks = 1_000_000 }, types.ErrInvalidOrder},
		{"no policy", func(m *types.MsgCreateOrder) { m.Policy = types.ACCEPTANCE_POLICY_UNSPECIFIED }, types.ErrInvalidOrder},
		{"no replicas", func(m *types.MsgCreateOrder) { m.Replicas = 0 }, types.ErrInvalidOrder},
		{"too many replicas", func(m *types.MsgCreateOrder) { m.Replicas = 8 }, types.ErrInvalidOrder},
		// Its leases would end before commit-reveal resolves: the deposit back to the buyer, the
		// replicas unpaid, and slashed if they stopped with the lease before revealing.
		{"replicated job with a duration", func(m *types.MsgCreateOrder) { m.Replicas, m.DurationBlocks = 2, 1 }, types.ErrInvalidOrder},
		{"two workloads", func(m *types.MsgCreateOrder) { m.Workload.OciDigest = "sha256:" + strings.Repeat("0", 64) }, types.ErrInvalidOrder},
		{"no workload", func(m *types.MsgCreateOrder) { m.Workload.WasmHash = "" }, types.ErrInvalidOrder},
		{"unpinned image", func(m *types.MsgCreateOrder) { m.Workload = types.Workload{OciDigest: "nginx:latest"} }, types.ErrInvalidOrder},
		{"bad input commitment", func(m *types.MsgCreateOrder) { m.Workload.InputCommitment = "xyz" }, types.ErrInvalidOrder},
		{"availability over 100%", func(m *types.MsgCreateOrder) { m.Sla.AvailabilityBps = 10_001 }, types.ErrInvalidOrder},
		{"penalty over 100%", func(m *types.MsgCreateOrder) { m.Sla.PenaltyBps = 10_001 }, types.ErrInvalidOrder},
		{"sla without window", func(m *types.MsgCreateOrder) { m.Sla.WindowBlocks = 0 }, types.ErrInvalidOrder},
	}
	before := e.Balance(owner, usdc)
	seq, _ := e.App.MarketKeeper.OrderSeq.Peek(e.Ctx())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := orderMsg(owner)
			tc.mod(msg)
			_, err := e.Exec(func(ctx sdk.Context) error { _, err := e.srv.CreateOrder(ctx, msg); return err })
			require.ErrorIs(t, err, tc.err)
		})
	}
	after, _ := e.App.MarketKeeper.OrderSeq.Peek(e.Ctx())
	require.Equal(t, seq, after, "no order was created")
	require.Equal(t, before, e.Balance(owner, usdc), "no funds moved")
	e.CheckInvariants()
}

func TestBidRejects(t *testing.T) {
	e := setup(t)
	owner, p1, p2 := e.Accounts[0], e.Accounts[1], e.Accounts[2]
	id := e.createOrder(orderMsg(owner))
	snp := orderMsg(owner)
	snp.Requirements.Evidence = []types.EvidenceType{types.EVIDENCE_TYPE_AMD_SEV_SNP}
	snpID := e.createOrder(snp)
	bigger := orderMsg(owner)
	bigger.Requirements.GpuCount = 24
	biggerID := e.createOrder(bigger)
	bonded := orderMsg(owner)
	bonded.Requirements.MinProviderBond = sdk.NewInt64Coin("ucmpt", 1)
	bondedID := e.createOrder(bonded)
	stranger := e.Accounts[7]
	e.bid(p1, id, 90)

	cases := []struct {
		name     string
		provider sdk.AccAddress
		order    uint64
		price    sdk.Coin
		err      *errorsmod.Error
	}{
		{"unknown order", p2, 999, coin(50), types.ErrOrderNotFound},
		{"wrong denom", p2, id, sdk.NewInt64Coin("ucmpt", 50), types.ErrDenomMismatch},
		{"price over ceiling", p2, id, coin(101), types.ErrPriceAboveCeiling},
		{"zero price", p2, id, coin(0), types.ErrInvalidBid},
		{"price of 2^128", p2, id, sdk.Coin{Denom: usdc, Amount: sdkmath.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 128))}, types.ErrInvalidBid},
		{"duplicate bid", p1, id, coin(80), types.ErrDuplicateBid},
		{"owner bids on own order", owner, id, coin(80), types.ErrSelfBid},
		{"unregistered provider", stranger, id, coin(80), attesttypes.ErrProviderNotFound},
		{"no SEV-SNP attestation", p2, snpID, coin(80), attesttypes.ErrNotAttested},
		{"attested for fewer GPUs", p2, biggerID, coin(80), attesttypes.ErrNotAttested},
		{"provider without the bond the order requires", p2, bondedID, coin(80), slatypes.ErrInsufficientBond},
	}
	providerBefore := e.Balance(p2, "ucmpt")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Exec(func(ctx sdk.Context) error {
				_, err := e.srv.CreateBid(ctx, &types.MsgCreateBid{Provider: tc.provider.String(), OrderId: tc.order, PricePerBlock: tc.price})
				return err
			})
			require.ErrorIs(t, err, tc.err)
		})
	}
	// The owner again, spelled in upper case (bech32 decodes it to the same bytes): before, the
	// self-bid check compared strings and let it through.
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CreateBid(ctx, &types.MsgCreateBid{Provider: strings.ToUpper(owner.String()), OrderId: id, PricePerBlock: coin(80)})
		return err
	})
	require.ErrorIs(t, err, types.ErrInvalidAddress)
	require.Equal(t, providerBefore, e.Balance(p2, "ucmpt"), "no deposit taken")
	require.Equal(t, uint32(1), e.order(id).OpenBids)

	// Cap on bids per order.
	p, _ := e.App.MarketKeeper.Params.Get(e.Ctx())
	p.MaxBidsPerOrder, p.MaxReplicas = 1, 1
	require.NoError(t, e.App.MarketKeeper.Params.Set(e.Ctx(), p))
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CreateBid(ctx, &types.MsgCreateBid{Provider: p2.String(), OrderId: id, PricePerBlock: coin(50)})
		return err
	})
	require.ErrorIs(t, err, types.ErrTooManyBids)

	// After the window.
	e.clearOrder(id)
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CreateBid(ctx, &types.MsgCreateBid{Provider: p2.String(), OrderId: id, PricePerBlock: coin(50)})
		return err
	})
	require.ErrorIs(t, err, types.ErrOrderNotOpen)
	e.CheckInvariants()
}

func TestAutoClearingPicksLowestThenEarliest(t *testing.T) {
	e := setup(t)
	owner, p1, p2, p3 := e.Accounts[0], e.Accounts[1], e.Accounts[2], e.Accounts[3]
	id := e.createOrder(orderMsg(owner))
	dep := bidDeposit(e)
	before := map[string]sdkmath.Int{}
	for _, p := range []sdk.AccAddress{p1, p2, p3} {
		before[p.String()] = e.Balance(p, dep.Denom)
	}
	b1 := e.bid(p1, id, 80)
	b2 := e.bid(p2, id, 70) // lowest, earlier than b3
	b3 := e.bid(p3, id, 70)
	require.Equal(t, before[p1.String()].Sub(dep.Amount), e.Balance(p1, dep.Denom), "bid deposit paid")

	e.clearOrder(id)
	o := e.order(id)
	require.Equal(t, types.ORDER_STATE_ACTIVE, o.State)
	require.Equal(t, uint32(1), o.ActiveLeases)
	bid := func(id uint64) types.Bid { b, _ := e.App.MarketKeeper.Bids.Get(e.Ctx(), id); return b }
	require.Equal(t, types.BID_STATE_WON, bid(b2).State)
	require.Equal(t, types.BID_STATE_LOST, bid(b1).State)
	require.Equal(t, types.BID_STATE_LOST, bid(b3).State)
	for _, p := range []sdk.AccAddress{p1, p2, p3} {
		require.Equal(t, before[p.String()], e.Balance(p, dep.Denom), "every deposit refunded")
	}
	l := e.lease(1)
	require.Equal(t, p2.String(), l.Provider)
	require.Equal(t, coin(70), l.PricePerBlock)
	s, err := e.App.EscrowKeeper.Streams.Get(e.Ctx(), l.Id)
	require.NoError(t, err)
	require.Equal(t, amount(70), s.Rate)

	// EndBlock events reach finalize-block results.
	var typesSeen []string
	for _, ev := range e.BlockEvents() {
		typesSeen = append(typesSeen, ev.Type)
	}
	for _, want := range []string{"computed.market.v1.EventOrderCleared", "computed.market.v1.EventLeaseCreated",
		"computed.market.v1.EventBidClosed", "computed.escrow.v1.EventStreamOpened", "computed.market.v1.EventPriceUpdated"} {
		require.Contains(t, typesSeen, want)
	}

	res, err := e.q.Prices(e.Ctx(), &types.QueryPricesRequest{GpuSku: "H100-SXM-80GB", Metro: "FRA"})
	require.NoError(t, err)
	require.Len(t, res.Prices, 1)
	require.Equal(t, amount(70), res.Prices[0].LastPrice)
	require.Equal(t, uint64(1), res.Prices[0].Count)
	e.CheckInvariants()
}

func TestClearingWithoutEnoughBidsRefunds(t *testing.T) {
	e := setup(t)
	owner := e.Accounts[0]
	before := e.Balance(owner, usdc)
	msg := orderMsg(owner)
	msg.Replicas = 2
	id := e.createOrder(msg)
	e.bid(e.Accounts[1], id, 50)
	e.clearOrder(id)
	o := e.order(id)
	require.Equal(t, types.ORDER_STATE_CLOSED, o.State)
	require.Equal(t, types.CLOSE_REASON_NO_BIDS, o.CloseReason)
	require.Equal(t, before, e.Balance(owner, usdc), "deposit refunded in full")
	require.Equal(t, escrowtypes.ACCOUNT_STATE_CLOSED, e.account(id).State)
	e.CheckInvariants()
}

func TestManualAcceptance(t *testing.T) {
	e := setup(t)
	owner, p1, p2 := e.Accounts[0], e.Accounts[1], e.Accounts[2]
	auto := e.createOrder(orderMsg(owner))
	manual := orderMsg(owner)
	manual.Policy = types.ACCEPTANCE_POLICY_MANUAL
	mid := e.createOrder(manual)
	b1 := e.bid(p1, mid, 90)
	b2 := e.bid(p2, mid, 60)
	ab := e.bid(p1, auto, 60)

	accept := func(sender sdk.AccAddress, order uint64, bids ...uint64) error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.srv.AcceptBid(ctx, &types.MsgAcceptBid{Owner: sender.String(), OrderId: order, BidIds: bids})
			return err
		})
		return err
	}
	require.ErrorIs(t, accept(owner, auto, ab), types.ErrWrongPolicy)
	require.ErrorIs(t, accept(p1, mid, b1), types.ErrUnauthorized)
	require.ErrorIs(t, accept(owner, mid, b1, b2), types.ErrInvalidAccept)
	require.ErrorIs(t, accept(owner, mid, ab), types.ErrBidNotOpen)
	require.Equal(t, types.ORDER_STATE_OPEN, e.order(mid).State)

	// The owner may pick the dearer bid.
	require.NoError(t, accept(owner, mid, b1))
	o := e.order(mid)
	require.Equal(t, types.ORDER_STATE_ACTIVE, o.State)
	leases, err := e.q.Leases(e.Ctx(), &types.QueryLeasesRequest{Provider: p1.String(), State: types.LEASE_STATE_ACTIVE})
	require.NoError(t, err)
	require.Len(t, leases.Leases, 1)
	require.Equal(t, coin(90), leases.Leases[0].PricePerBlock)

	// A MANUAL order nobody accepts expires at its window's end.
	other := e.createOrder(manual)
	e.clearOrder(other)
	require.Equal(t, types.CLOSE_REASON_EXPIRED, e.order(other).CloseReason)
	e.CheckInvariants()
}

// Settling an order's bids reads its open bids only, not every bid it ever had: a provider that
// bids and closes over and over (each deposit refunded) must not make clearing, or the owner's
// close, read more. Reads are counted for the owner's close, which settles the open bids.
func TestOpenBidsIgnoreClosedOnes(t *testing.T) {
	reads := func(churn int) uint64 {
		e := setup(t)
		owner, p1, p2 := e.Accounts[0], e.Accounts[1], e.Accounts[2]
		id := e.createOrder(orderMsg(owner))
		for range churn {
			b := e.bid(p1, id, 90)
			_, err := e.Exec(func(ctx sdk.Context) error {
				_, err := e.srv.CloseBid(ctx, &types.MsgCloseBid{Provider: p1.String(), BidId: b})
				return err
			})
			require.NoError(t, err)
		}
		e.bid(p1, id, 90)
		e.bid(p2, id, 80)
		ctx := keepertest.ReadCounting(e.Ctx())
		_, err := e.srv.CloseOrder(ctx, &types.MsgCloseOrder{Owner: owner.String(), OrderId: id})
		require.NoError(t, err)
		require.Equal(t, uint32(0), e.order(id).OpenBids)
		return ctx.GasMeter().GasConsumed()
	}
	require.Equal(t, reads(0), reads(40), "store reads grew with the closed bids")
}

func TestCloseBid(t *testing.T) {
	e := setup(t)
	owner, p1, p2 := e.Accounts[0], e.Accounts[1], e.Accounts[2]
	id := e.createOrder(orderMsg(owner))
	dep := bidDeposit(e)
	before := e.Balance(p1, dep.Denom)
	b := e.bid(p1, id, 90)
	closeBid := func(p sdk.AccAddress, bid uint64) error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.srv.CloseBid(ctx, &types.MsgCloseBid{Provider: p.String(), BidId: bid})
			return err
		})
		return err
	}
	require.ErrorIs(t, closeBid(p2, b), types.ErrUnauthorized)
	require.ErrorIs(t, closeBid(p1, 99), types.ErrBidNotFound)
	require.NoError(t, closeBid(p1, b))
	require.Equal(t, before, e.Balance(p1, dep.Denom))
	require.ErrorIs(t, closeBid(p1, b), types.ErrBidNotOpen)
	require.Equal(t, uint32(0), e.order(id).OpenBids)
	// The provider may bid again after closing.
	e.bid(p1, id, 85)
	e.CheckInvariants()
}

func TestCloseLeaseSettlesExactly(t *testing.T) {
	e := setup(t)
	owner, p1 := e.Accounts[0], e.Accounts[1]
	start := e.Balance(owner, usdc)
	id := e.createOrder(orderMsg(owner))
	e.bid(p1, id, 70)
	e.clearOrder(id)
	l := e.lease(1)
	e.Advance(4)

	closeLease := func(sender sdk.AccAddress) error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.srv.CloseLease(ctx, &types.MsgCloseLease{Sender: sender.String(), LeaseId: l.Id, Detail: "done"})
			return err
		})
		return err
	}
	require.ErrorIs(t, closeLease(e.Accounts[2]), types.ErrUnauthorized)
	closeAt := e.Height()
	require.NoError(t, closeLease(owner))
	require.ErrorIs(t, closeLease(owner), types.ErrLeaseClosed)

	l = e.lease(l.Id)
	require.Equal(t, types.CLOSE_REASON_OWNER, l.CloseReason)
	o := e.order(id)
	require.Equal(t, types.ORDER_STATE_CLOSED, o.State)
	paid := amount(70 * (closeAt - l.StartHeight))
	require.Equal(t, start.Sub(paid), e.Balance(owner, usdc), "owner pays exactly rate × blocks")
	s, _ := e.App.EscrowKeeper.Streams.Get(e.Ctx(), l.Id)
	require.Equal(t, paid, s.Earned)
	e.CheckInvariants()
}

func TestDurationEndsLease(t *testing.T) {
	e := setup(t)
	owner := e.Accounts[0]
	msg := orderMsg(owner)
	msg.DurationBlocks = 3
	id := e.createOrder(msg)
	e.bid(e.Accounts[1], id, 10)
	e.clearOrder(id)
	l := e.lease(1)
	require.Equal(t, l.StartHeight+3, l.EndHeight)
	for e.Height() <= l.EndHeight {
		require.Equal(t, types.LEASE_STATE_ACTIVE, e.lease(l.Id).State)
		e.NextBlock()
	}
	l = e.lease(l.Id)
	require.Equal(t, types.CLOSE_REASON_DURATION_ENDED, l.CloseReason)
	require.Equal(t, l.EndHeight, l.ClosedHeight)
	s, _ := e.App.EscrowKeeper.Streams.Get(e.Ctx(), l.Id)
	require.Equal(t, amount(30), s.Earned, "paid for exactly the duration")
	e.CheckInvariants()
}

func TestDepletionClosesLeaseAtExactBlock(t *testing.T) {
	e := setup(t)
	owner := e.Accounts[0]
	start := e.Balance(owner, usdc)
	msg := orderMsg(owner)
	msg.Deposit = coin(70*6 + 25) // six full blocks and change
	id := e.createOrder(msg)
	e.bid(e.Accounts[1], id, 70)
	e.clearOrder(id)
	l := e.lease(1)
	want := l.StartHeight + 6
	require.Equal(t, want, e.account(id).DepletionHeight)

	for e.Height() < want {
		e.NextBlock()
		require.Equal(t, types.LEASE_STATE_ACTIVE, e.lease(l.Id).State)
	}
	e.NextBlock() // finalises block `want`
	l = e.lease(l.Id)
	require.Equal(t, types.LEASE_STATE_CLOSED, l.State)
	require.Equal(t, types.CLOSE_REASON_INSUFFICIENT_FUNDS, l.CloseReason)
	require.Equal(t, want, l.ClosedHeight)
	var seen []string
	for _, ev := range e.BlockEvents() {
		seen = append(seen, ev.Type)
	}
	require.Contains(t, seen, "computed.escrow.v1.EventAccountDepleted")
	require.Contains(t, seen, "computed.market.v1.EventLeaseClosed")
	require.Equal(t, start.Sub(amount(70*6)), e.Balance(owner, usdc), "the change is refunded")
	require.Equal(t, types.ORDER_STATE_CLOSED, e.order(id).State)
	e.CheckInvariants()
}

func TestCloseOrder(t *testing.T) {
	e := setup(t)
	owner, p1 := e.Accounts[0], e.Accounts[1]
	start := e.Balance(owner, usdc)
	dep := bidDeposit(e)
	pBefore := e.Balance(p1, dep.Denom)
	id := e.createOrder(orderMsg(owner))
	e.bid(p1, id, 70)
	closeOrder := func(sender sdk.AccAddress, id uint64) error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.srv.CloseOrder(ctx, &types.MsgCloseOrder{Owner: sender.String(), OrderId: id})
			return err
		})
		return err
	}
	require.ErrorIs(t, closeOrder(p1, id), types.ErrUnauthorized)
	require.ErrorIs(t, closeOrder(owner, 42), types.ErrOrderNotFound)
	require.NoError(t, closeOrder(owner, id))
	require.ErrorIs(t, closeOrder(owner, id), types.ErrOrderClosed)
	require.Equal(t, start, e.Balance(owner, usdc))
	require.Equal(t, pBefore, e.Balance(p1, dep.Denom), "open bid refunded")
	e.NextBlock() // the removed clearing entry must not fire
	require.Equal(t, types.CLOSE_REASON_OWNER, e.order(id).CloseReason)
	e.CheckInvariants()
}

func TestActiveLeaseCount(t *testing.T) {
	e := setup(t)
	owner, p1 := e.Accounts[0], e.Accounts[1]
	count := func() uint64 {
		n, err := e.App.MarketKeeper.ActiveLeaseCount(e.Ctx(), p1)
		require.NoError(t, err)
		return n
	}
	require.Zero(t, count())
	a, b := e.createOrder(orderMsg(owner)), e.createOrder(orderMsg(owner))
	e.bid(p1, a, 50)
	e.bid(p1, b, 50)
	e.clearOrder(b)
	require.Equal(t, uint64(2), count())
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CloseLease(ctx, &types.MsgCloseLease{Sender: p1.String(), LeaseId: 1})
		return err
	})
	require.NoError(t, err)
	require.Equal(t, uint64(1), count())
}

// TestDeregisterRefusedWhileLeasing: x/attest asks the market (wired by depinject) whether a
// provider still has active leases before letting it deregister.
func TestDeregisterRefusedWhileLeasing(t *testing.T) {
	e := setup(t)
	owner, p1 := e.Accounts[0], e.Accounts[1]
	id := e.createOrder(orderMsg(owner))
	e.bid(p1, id, 50)
	e.clearOrder(id)
	asrv := attestkeeper.NewMsgServerImpl(e.App.AttestKeeper)
	deregister := func() error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := asrv.DeregisterProvider(ctx, &attesttypes.MsgDeregisterProvider{Operator: p1.String()})
			return err
		})
		return err
	}
	require.ErrorIs(t, deregister(), attesttypes.ErrProviderHasLeases)
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CloseLease(ctx, &types.MsgCloseLease{Sender: owner.String(), LeaseId: 1})
		return err
	})
	require.NoError(t, err)
	require.NoError(t, deregister())
}

// TestClearingsPerBlockCapped: orders created over a whole bidding window could all be aimed at
// one height, whose EndBlock would clear them all; max_clearings_per_block caps them there. An
// order closed before its window ends frees its place, and the count goes with the height.
func TestClearingsPerBlockCapped(t *testing.T) {
	e := setup(t)
	owner := e.Accounts[6]
	p, err := e.App.MarketKeeper.Params.Get(e.Ctx())
	require.NoError(t, err)
	p.MaxClearingsPerBlock = 2
	require.NoError(t, e.App.MarketKeeper.Params.Set(e.Ctx(), p))
	create := func(window uint64) (uint64, error) {
		m := orderMsg(owner)
		m.BiddingWindowBlocks = window
		var id uint64
		_, err := e.Exec(func(ctx sdk.Context) error {
			res, err := e.srv.CreateOrder(ctx, m)
			if err == nil {
				id = res.OrderId
			}
			return err
		})
		return id, err
	}
	first, err := create(10)
	require.NoError(t, err)
	_, err = create(10)
	require.NoError(t, err)
	_, err = create(10)
	require.ErrorIs(t, err, types.ErrClearingHeightFull)
	_, err = create(11)
	require.NoError(t, err, "another height has room")
	e.CheckInvariants()

	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CloseOrder(ctx, &types.MsgCloseOrder{Owner: owner.String(), OrderId: first})
		return err
	})
	require.NoError(t, err)
	_, err = create(10)
	require.NoError(t, err, "the closed order's place is free")
	e.CheckInvariants()

	closes := e.order(first).BiddingClosesHeight
	for e.Height() <= closes {
		e.NextBlock()
	}
	has, err := e.App.MarketKeeper.ClearingsAt.Has(e.Ctx(), closes)
	require.NoError(t, err)
	require.False(t, has, "the height's count goes once it is cleared")
	e.CheckInvariants()
}
