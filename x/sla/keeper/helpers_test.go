package keeper_test

import (
	"bytes"
	"strings"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/apptest"
	attesttest "github.com/computed-network/computed/x/attest/testutil"
	escrowkeeper "github.com/computed-network/computed/x/escrow/keeper"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	marketkeeper "github.com/computed-network/computed/x/market/keeper"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/keeper"
	"github.com/computed-network/computed/x/sla/types"
)

const (
	usdc = apptest.USDC
	cmpt = "ucmpt"
	// Test terms: 5-block windows at 100 uusdc per block with a 10% penalty, so a breached window
	// costs the provider 100 × 5 × 1000 / 10000 = 50 uusdc.
	price         = 100
	windowBlocks  = 5
	windowPenalty = 50
	grace         = 2
)

// env is a chain whose accounts play fixed parts: 0 buys, 1-5 are providers attested for 16 H100s
// in FRA (two 8-GPU leases at once), 6-8 are the arbiters, 9 is a stranger to everything.
type env struct {
	*apptest.Fixture
	srv       types.MsgServer
	q         types.QueryServer
	mkt       markettypes.MsgServer
	esc       escrowtypes.MsgServer
	buyer     sdk.AccAddress
	providers []sdk.AccAddress
	arbiters  []sdk.AccAddress
	stranger  sdk.AccAddress
}

func setup(t *testing.T) *env {
	f := apptest.New(t)
	e := &env{
		Fixture: f, srv: keeper.NewMsgServerImpl(f.App.SLAKeeper), q: keeper.NewQueryServerImpl(f.App.SLAKeeper),
		mkt: marketkeeper.NewMsgServerImpl(f.App.MarketKeeper), esc: escrowkeeper.NewMsgServerImpl(f.App.EscrowKeeper),
		buyer: f.Accounts[0], providers: f.Accounts[1:6], arbiters: f.Accounts[6:9], stranger: f.Accounts[9],
	}
	for _, p := range e.providers {
		e.must(func(ctx sdk.Context) error { return attesttest.AttestProvider(ctx, f.App.AttestKeeper, p, "FRA", 16) })
	}
	e.must(func(ctx sdk.Context) error { return f.App.SLAKeeper.Params.Set(ctx, testParams(e.arbiters)) })
	f.NextBlock()
	return e
}

// testParams shorten every period to a few blocks.
func testParams(arbiters []sdk.AccAddress) types.Params {
	p := types.DefaultParams()
	p.BondDenoms = []string{cmpt, usdc}
	p.UnbondingBlocks = 30 // must exceed grace + dispute window + response + vote
	p.ReportGraceBlocks = grace
	p.DisputeWindowBlocks = 10
	p.DisputeDeposit = sdk.NewInt64Coin(cmpt, 1_000)
	p.DisputeResponseBlocks = 3
	p.DisputeVoteBlocks = 3
	p.CommitBlocks = 3
	p.RevealBlocks = 3
	p.Arbiters = nil
	for _, a := range arbiters {
		p.Arbiters = append(p.Arbiters, a.String())
	}
	return p
}

func (e *env) params() types.Params {
	p, err := e.App.SLAKeeper.Params.Get(e.Ctx())
	require.NoError(e.T, err)
	return p
}

func (e *env) must(fn func(ctx sdk.Context) error) sdk.Events {
	e.T.Helper()
	ev, err := e.Exec(fn)
	require.NoError(e.T, err)
	return ev
}

// finalizeThrough finalises blocks up to and including height h (its EndBlock included).
func (e *env) finalizeThrough(h int64) {
	for e.Height() <= h {
		e.NextBlock()
	}
}

func usdcCoin(n int64) sdk.Coin { return sdk.NewInt64Coin(usdc, n) }
func cmptCoin(n int64) sdk.Coin { return sdk.NewInt64Coin(cmpt, n) }
func amt(n int64) sdkmath.Int   { return sdkmath.NewInt(n) }

// root is a 32-byte stand-in Merkle root.
func root(b byte) []byte { return bytes.Repeat([]byte{b}, types.RootSize) }

// slaOrder is an AUTO order for one 8×H100 node in FRA at up to 100 uusdc per block, with
// 5-block windows (p95 ≤ 50 ms, availability ≥ 99.90%, 10% penalty).
func slaOrder(owner sdk.AccAddress) *markettypes.MsgCreateOrder {
	return &markettypes.MsgCreateOrder{
		Owner:               owner.String(),
		Requirements:        markettypes.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 8, MinVramGib: 80, Metro: "FRA"},
		MaxPricePerBlock:    usdcCoin(price),
		BiddingWindowBlocks: 5,
		Policy:              markettypes.ACCEPTANCE_POLICY_AUTO,
		Sla:                 markettypes.SLATerms{P95LatencyMs: 50, AvailabilityBps: 9990, WindowBlocks: windowBlocks, PenaltyBps: 1000},
		Workload:            markettypes.Workload{OciDigest: "sha256:" + strings.Repeat("0", 64)},
		Replicas:            1,
		Deposit:             usdcCoin(100_000),
	}
}

// replicatedOrder is a WASM job run by n replicas, with no SLA windows.
func replicatedOrder(owner sdk.AccAddress, n uint32) *markettypes.MsgCreateOrder {
	m := slaOrder(owner)
	m.Sla = markettypes.SLATerms{}
	m.Workload = markettypes.Workload{WasmHash: strings.Repeat("ab", 32)}
	m.Replicas = n
	return m
}

func (e *env) createOrder(m *markettypes.MsgCreateOrder) uint64 {
	e.T.Helper()
	var id uint64
	e.must(func(ctx sdk.Context) error {
		res, err := e.mkt.CreateOrder(ctx, m)
		if err == nil {
			id = res.OrderId
		}
		return err
	})
	return id
}

func (e *env) bidOn(p sdk.AccAddress, orderID uint64, amount int64) error {
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.mkt.CreateBid(ctx, &markettypes.MsgCreateBid{Provider: p.String(), OrderId: orderID, PricePerBlock: usdcCoin(amount)})
		return err
	})
	return err
}

func (e *env) order(id uint64) markettypes.Order {
	o, err := e.App.MarketKeeper.GetOrder(e.Ctx(), id)
	require.NoError(e.T, err)
	return o
}

func (e *env) marketLease(id uint64) markettypes.Lease {
	l, err := e.App.MarketKeeper.GetLease(e.Ctx(), id)
	require.NoError(e.T, err)
	return l
}

// leasesOf lists an order's lease ids in creation order.
func (e *env) leasesOf(orderID uint64) []uint64 {
	iter, err := e.App.MarketKeeper.LeasesByOrder.Iterate(e.Ctx(), collections.NewPrefixedPairRange[uint64, uint64](orderID))
	require.NoError(e.T, err)
	keys, err := iter.Keys()
	require.NoError(e.T, err)
	ids := make([]uint64, len(keys))
	for i, k := range keys {
		ids[i] = k.K2()
	}
	return ids
}

// clear finalises blocks through the order's bidding close, where it clears.
func (e *env) clear(orderID uint64) {
	e.finalizeThrough(e.order(orderID).BiddingClosesHeight)
}

// lease runs an order through one bid by p at the full price and returns the lease.
func (e *env) lease(p sdk.AccAddress, m *markettypes.MsgCreateOrder) uint64 {
	e.T.Helper()
	id := e.createOrder(m)
	require.NoError(e.T, e.bidOn(p, id, price))
	e.clear(id)
	ids := e.leasesOf(id)
	require.Len(e.T, ids, 1)
	return ids[0]
}

func (e *env) bond(p sdk.AccAddress, c sdk.Coin) {
	e.T.Helper()
	e.must(func(ctx sdk.Context) error {
		_, err := e.srv.Bond(ctx, &types.MsgBond{Provider: p.String(), Amount: c})
		return err
	})
}

func (e *env) bondOf(p sdk.AccAddress) types.Bond {
	res, err := e.q.Bond(e.Ctx(), &types.QueryBondRequest{Provider: p.String()})
	require.NoError(e.T, err)
	return res.Bond
}

func (e *env) slaLease(id uint64) types.LeaseSLA {
	ls, err := e.App.SLAKeeper.Leases.Get(e.Ctx(), id)
	require.NoError(e.T, err)
	return ls
}

func (e *env) window(lease, w uint64) types.SLAReport {
	r, err := e.App.SLAKeeper.Reports.Get(e.Ctx(), collections.Join(lease, w))
	require.NoError(e.T, err)
	return r
}

func (e *env) reputation(p sdk.AccAddress) uint32 {
	res, err := e.q.Reputation(e.Ctx(), &types.QueryReputationRequest{Provider: p.String()})
	require.NoError(e.T, err)
	return res.ScoreBps
}

func (e *env) stream(lease uint64) escrowtypes.Stream {
	s, err := e.App.EscrowKeeper.Streams.Get(e.Ctx(), lease)
	require.NoError(e.T, err)
	return s
}

// due is the height in whose EndBlock window w of lease is judged.
func (e *env) due(lease, w uint64) int64 {
	ls := e.slaLease(lease)
	return types.WindowDue(ls.StartHeight, ls.Terms.WindowBlocks, w, e.params().ReportGraceBlocks)
}

// end is the last height of window w of lease.
func (e *env) end(lease, w uint64) int64 {
	ls := e.slaLease(lease)
	return types.WindowEnd(ls.StartHeight, ls.Terms.WindowBlocks, w)
}

// reportMsg reports window w: well inside the terms if met, at 90% availability if not.
func reportMsg(p sdk.AccAddress, lease, w uint64, met bool) *types.MsgSubmitSLAReport {
	m := &types.MsgSubmitSLAReport{
		Provider: p.String(), LeaseId: lease, Window: w, Requests: 10_000,
		P95LatencyUs: 20_000, P99LatencyUs: 30_000, AvailabilityBps: 9999, SamplesRoot: root(7),
	}
	if !met {
		m.AvailabilityBps = 9000
	}
	return m
}

func (e *env) report(m *types.MsgSubmitSLAReport) error {
	_, err := e.Exec(func(ctx sdk.Context) error { _, err := e.srv.SubmitSLAReport(ctx, m); return err })
	return err
}

// reportAt finalises blocks until window w of lease has ended, then reports it.
func (e *env) reportAt(p sdk.AccAddress, lease, w uint64, met bool) {
	e.T.Helper()
	e.finalizeThrough(e.end(lease, w) - 1)
	require.NoError(e.T, e.report(reportMsg(p, lease, w, met)))
}

// checkAll asserts every market, escrow and x/sla invariant (apptest's CheckInvariants runs only
// the first two).
func (e *env) checkAll() {
	e.T.Helper()
	e.CheckInvariants() // market and escrow
	msg, broken := keeper.AllInvariants(e.App.SLAKeeper)(e.Ctx())
	require.False(e.T, broken, msg)
}

// snapshot is all of x/sla's state plus the balances a failing message could have moved.
func (e *env) snapshot() (*types.GenesisState, sdk.Coins) {
	gs, err := e.App.SLAKeeper.ExportGenesis(e.Ctx())
	require.NoError(e.T, err)
	var bal sdk.Coins
	for _, a := range e.Accounts {
		bal = bal.Add(e.App.BankKeeper.GetAllBalances(e.Ctx(), a)...)
	}
	return gs, bal
}

// requireUnchanged asserts that x/sla's state and the accounts' balances are what snapshot saw.
func (e *env) requireUnchanged(gs *types.GenesisState, bal sdk.Coins) {
	e.T.Helper()
	gs2, bal2 := e.snapshot()
	require.Equal(e.T, gs, gs2, "x/sla state changed")
	require.Equal(e.T, bal.String(), bal2.String(), "balances changed")
}

func joinHeight(h int64, id uint64) collections.Pair[int64, uint64] { return collections.Join(h, id) }

func hasEvent(events []abci.Event, typ string) bool {
	for _, ev := range events {
		if ev.Type == typ {
			return true
		}
	}
	return false
}

func hasTxEvent(events sdk.Events, typ string) bool {
	for _, ev := range events {
		if ev.Type == typ {
			return true
		}
	}
	return false
}
