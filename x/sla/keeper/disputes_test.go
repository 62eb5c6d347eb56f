package keeper_test

import (
	"strings"
	"testing"

	errorsmod "cosmossdk.io/errors"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/computed-network/computed/x/sla/types"
)

const deposit = 1_000 // testParams' dispute deposit, in ucmpt

// metWindow is a bonded lease of providers[0] whose window 1 was just judged met.
func (e *env) metWindow() uint64 {
	p := e.providers[0]
	lease := e.bondedLease(p)
	e.reportAt(p, lease, 1, true)
	e.finalizeThrough(e.due(lease, 1))
	require.Equal(e.T, types.WINDOW_STATUS_MET, e.window(lease, 1).Status)
	return lease
}

func disputeMsg(buyer sdk.AccAddress, lease, w uint64) *types.MsgOpenDispute {
	return &types.MsgOpenDispute{
		Buyer: buyer.String(), LeaseId: lease, Window: w, Requests: 9_000,
		P95LatencyUs: 90_000, P99LatencyUs: 120_000, AvailabilityBps: 9000, EvidenceRoot: root(9),
	}
}

func (e *env) openDispute(m *types.MsgOpenDispute) (*types.MsgOpenDisputeResponse, error) {
	var res *types.MsgOpenDisputeResponse
	_, err := e.Exec(func(ctx sdk.Context) error {
		var err error
		res, err = e.srv.OpenDispute(ctx, m)
		return err
	})
	return res, err
}

func (e *env) respond(p sdk.AccAddress, id uint64) (*types.MsgRespondDisputeResponse, error) {
	var res *types.MsgRespondDisputeResponse
	_, err := e.Exec(func(ctx sdk.Context) error {
		var err error
		res, err = e.srv.RespondDispute(ctx, &types.MsgRespondDispute{Provider: p.String(), DisputeId: id, EvidenceRoot: root(3), Statement: "logs attached"})
		return err
	})
	return res, err
}

func (e *env) vote(arbiter sdk.AccAddress, id uint64, forBuyer bool) (bool, error) {
	var resolved bool
	_, err := e.Exec(func(ctx sdk.Context) error {
		res, err := e.srv.VoteDispute(ctx, &types.MsgVoteDispute{Arbiter: arbiter.String(), DisputeId: id, ForBuyer: forBuyer})
		if err == nil {
			resolved = res.Resolved
		}
		return err
	})
	return resolved, err
}

func (e *env) dispute(id uint64) types.Dispute {
	res, err := e.q.Dispute(e.Ctx(), &types.QueryDisputeRequest{Id: id})
	require.NoError(e.T, err)
	return res.Dispute
}

func (e *env) disputeQueued(id uint64) bool {
	iter, err := e.App.SLAKeeper.DisputeQueue.Iterate(e.Ctx(), nil)
	require.NoError(e.T, err)
	keys, err := iter.Keys()
	require.NoError(e.T, err)
	for _, k := range keys {
		if k.K2() == id {
			return true
		}
	}
	return false
}

// requireBuyerWon: deposit back, one window's penalty from the bond, the window lost and counted.
func (e *env) requireBuyerWon(id, lease uint64, buyerUSDC, buyerCMPT sdk.Coin) {
	t := e.T
	t.Helper()
	d := e.dispute(id)
	require.Equal(t, types.DISPUTE_STATUS_BUYER_WON, d.Status)
	require.Equal(t, usdcCoin(windowPenalty), d.Penalty)
	require.Equal(t, buyerUSDC.Amount.AddRaw(windowPenalty), e.Balance(e.buyer, usdc), "penalty paid to the buyer")
	require.Equal(t, buyerCMPT.Amount, e.Balance(e.buyer, cmpt), "deposit returned")
	r := e.window(lease, 1)
	require.Equal(t, types.WINDOW_STATUS_DISPUTE_LOST, r.Status)
	require.Equal(t, usdcCoin(windowPenalty), r.Penalty)
	ls := e.slaLease(lease)
	require.Equal(t, uint32(1), ls.Breaches)
	require.Zero(t, ls.WindowsMet, "the window no longer counts as met")
	require.Equal(t, sdk.NewCoins(usdcCoin(1_000-windowPenalty)), e.bondOf(e.providers[0]).Bonded)
	require.Equal(t, uint32(4950), e.reputation(e.providers[0]), "5500 folded with a 0")
	require.False(t, e.disputeQueued(id))
	e.checkAll()
}

// TestDisputeBuyerWinsByMajority: two of three arbiters for the buyer decide at the second vote.
func TestDisputeBuyerWinsByMajority(t *testing.T) {
	e := setup(t)
	lease := e.metWindow()
	usdcBefore, cmptBefore := sdk.NewCoin(usdc, e.Balance(e.buyer, usdc)), sdk.NewCoin(cmpt, e.Balance(e.buyer, cmpt))

	res, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.NoError(t, err)
	require.Equal(t, e.Height()+3, res.ResponseDeadline)
	require.Equal(t, cmptBefore.Amount.SubRaw(deposit), e.Balance(e.buyer, cmpt), "deposit taken")
	d := e.dispute(res.DisputeId)
	require.Equal(t, types.DISPUTE_STATUS_AWAITING_RESPONSE, d.Status)
	require.Equal(t, cmptCoin(deposit), d.Deposit)
	require.True(t, e.window(lease, 1).Disputed)
	require.True(t, e.disputeQueued(res.DisputeId))
	e.checkAll()

	e.NextBlock()
	resp, err := e.respond(e.providers[0], res.DisputeId)
	require.NoError(t, err)
	require.Equal(t, e.Height()+3, resp.VoteDeadline)
	d = e.dispute(res.DisputeId)
	require.Equal(t, types.DISPUTE_STATUS_VOTING, d.Status)
	require.Equal(t, "logs attached", d.ProviderStatement)
	require.Equal(t, root(3), d.ProviderEvidence.SamplesRoot)

	resolved, err := e.vote(e.arbiters[0], res.DisputeId, true)
	require.NoError(t, err)
	require.False(t, resolved)
	resolved, err = e.vote(e.arbiters[1], res.DisputeId, true)
	require.NoError(t, err)
	require.True(t, resolved, "two of three is a majority")
	e.requireBuyerWon(res.DisputeId, lease, usdcBefore, cmptBefore)
}

// TestDisputeProviderWinsByMajority: the buyer forfeits its deposit to the provider; the verdict stands.
func TestDisputeProviderWinsByMajority(t *testing.T) {
	e := setup(t)
	lease := e.metWindow()
	p := e.providers[0]
	usdcBefore, cmptBefore, providerCMPT := e.Balance(e.buyer, usdc), e.Balance(e.buyer, cmpt), e.Balance(p, cmpt)
	res, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.NoError(t, err)
	_, err = e.respond(p, res.DisputeId)
	require.NoError(t, err)
	_, err = e.vote(e.arbiters[2], res.DisputeId, false)
	require.NoError(t, err)
	_, err = e.vote(e.arbiters[0], res.DisputeId, true)
	require.NoError(t, err)
	resolved, err := e.vote(e.arbiters[1], res.DisputeId, false)
	require.NoError(t, err)
	require.True(t, resolved)

	d := e.dispute(res.DisputeId)
	require.Equal(t, types.DISPUTE_STATUS_PROVIDER_WON, d.Status)
	require.Equal(t, e.Height(), d.ResolvedHeight)
	require.Equal(t, cmptBefore.SubRaw(deposit), e.Balance(e.buyer, cmpt), "deposit forfeited")
	require.Equal(t, providerCMPT.AddRaw(deposit), e.Balance(p, cmpt), "to the provider")
	require.Equal(t, usdcBefore, e.Balance(e.buyer, usdc))
	require.Equal(t, types.WINDOW_STATUS_MET, e.window(lease, 1).Status)
	require.Zero(t, e.slaLease(lease).Breaches)
	require.Equal(t, sdk.NewCoins(usdcCoin(1_000)), e.bondOf(p).Bonded)
	require.False(t, e.disputeQueued(res.DisputeId))
	e.checkAll()
}

// TestDisputeUnansweredGoesToBuyer: without an answer, the buyer wins in the deadline's EndBlock.
func TestDisputeUnansweredGoesToBuyer(t *testing.T) {
	e := setup(t)
	lease := e.metWindow()
	usdcBefore, cmptBefore := sdk.NewCoin(usdc, e.Balance(e.buyer, usdc)), sdk.NewCoin(cmpt, e.Balance(e.buyer, cmpt))
	res, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.NoError(t, err)
	e.finalizeThrough(res.ResponseDeadline - 1)
	require.Equal(t, types.DISPUTE_STATUS_AWAITING_RESPONSE, e.dispute(res.DisputeId).Status)
	e.finalizeThrough(res.ResponseDeadline)
	require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1.EventDisputeResolved"))
	require.Equal(t, res.ResponseDeadline, e.dispute(res.DisputeId).ResolvedHeight)
	e.requireBuyerWon(res.DisputeId, lease, usdcBefore, cmptBefore)
	_, err = e.respond(e.providers[0], res.DisputeId)
	require.ErrorIs(t, err, types.ErrDisputePhase, "too late to answer")
}

// TestDisputeVoteDeadline: at the vote deadline the side with more votes wins; a tie leaves the
// window's verdict standing (the provider keeps the deposit).
func TestDisputeVoteDeadline(t *testing.T) {
	for _, tc := range []struct {
		name      string
		votes     []bool
		buyerWins bool
	}{
		{"no vote", nil, false},
		{"tie", []bool{true, false}, false},
		{"one for the buyer", []bool{true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			lease := e.metWindow()
			usdcBefore, cmptBefore := sdk.NewCoin(usdc, e.Balance(e.buyer, usdc)), sdk.NewCoin(cmpt, e.Balance(e.buyer, cmpt))
			res, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
			require.NoError(t, err)
			resp, err := e.respond(e.providers[0], res.DisputeId)
			require.NoError(t, err)
			for i, v := range tc.votes {
				resolved, err := e.vote(e.arbiters[i], res.DisputeId, v)
				require.NoError(t, err)
				require.False(t, resolved)
			}
			e.finalizeThrough(resp.VoteDeadline)
			if tc.buyerWins {
				e.requireBuyerWon(res.DisputeId, lease, usdcBefore, cmptBefore)
				return
			}
			require.Equal(t, types.DISPUTE_STATUS_PROVIDER_WON, e.dispute(res.DisputeId).Status)
			require.Equal(t, types.WINDOW_STATUS_MET, e.window(lease, 1).Status)
			require.Equal(t, cmptBefore.Amount.SubRaw(deposit), e.Balance(e.buyer, cmpt))
			e.checkAll()
		})
	}
}

// TestDisputeTalliesCurrentArbiters: governance replaces the arbiters while a vote runs. The
// removed arbiter's vote no longer counts, neither toward a majority of the new set nor at the
// deadline; and an arbiter who is a party to the dispute may not vote on it, nor holds a seat.
func TestDisputeTalliesCurrentArbiters(t *testing.T) {
	e := setup(t)
	lease := e.metWindow()
	res, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.NoError(t, err)
	resp, err := e.respond(e.providers[0], res.DisputeId)
	require.NoError(t, err)
	resolved, err := e.vote(e.arbiters[0], res.DisputeId, true)
	require.NoError(t, err)
	require.False(t, resolved)

	// Arbiter 0 is removed; the dispute's own provider is named an arbiter.
	e.must(func(ctx sdk.Context) error {
		return e.App.SLAKeeper.Params.Set(ctx, testParams([]sdk.AccAddress{e.arbiters[1], e.arbiters[2], e.providers[0]}))
	})
	_, err = e.vote(e.providers[0], res.DisputeId, false)
	require.ErrorIs(t, err, types.ErrNotArbiter, "a party may not judge its own dispute")
	_, err = e.vote(e.arbiters[0], res.DisputeId, false)
	require.ErrorIs(t, err, types.ErrNotArbiter)
	resolved, err = e.vote(e.arbiters[1], res.DisputeId, true)
	require.NoError(t, err)
	require.False(t, resolved, "one current vote of two seats is no majority; the removed arbiter's does not count")
	resolved, err = e.vote(e.arbiters[2], res.DisputeId, false)
	require.NoError(t, err)
	require.False(t, resolved)
	e.finalizeThrough(resp.VoteDeadline)
	require.Equal(t, types.DISPUTE_STATUS_PROVIDER_WON, e.dispute(res.DisputeId).Status, "1:1 among current arbiters: the verdict stands")
	e.checkAll()
}

func TestOpenDisputeRejects(t *testing.T) {
	e := setup(t)
	lease := e.metWindow()
	e.finalizeThrough(e.due(lease, 2)) // window 2 unreported: judged missing
	require.Equal(t, types.WINDOW_STATUS_MISSING, e.window(lease, 2).Status)
	gs, bal := e.snapshot()
	cases := []struct {
		name string
		mod  func(m *types.MsgOpenDispute)
		err  *errorsmod.Error
	}{
		{"bad buyer address", func(m *types.MsgOpenDispute) { m.Buyer = "cmpt1nope" }, types.ErrInvalidAddress},
		{"unknown lease", func(m *types.MsgOpenDispute) { m.LeaseId = 999 }, types.ErrLeaseNotFound},
		{"not the buyer", func(m *types.MsgOpenDispute) { m.Buyer = e.stranger.String() }, types.ErrUnauthorized},
		{"the provider", func(m *types.MsgOpenDispute) { m.Buyer = e.providers[0].String() }, types.ErrUnauthorized},
		{"availability above 100%", func(m *types.MsgOpenDispute) { m.AvailabilityBps = 10_001 }, types.ErrInvalidReport},
		{"short evidence root", func(m *types.MsgOpenDispute) { m.EvidenceRoot = root(1)[:31] }, types.ErrInvalidReport},
		{"window never judged", func(m *types.MsgOpenDispute) { m.Window = 3 }, types.ErrNotDisputable},
		{"window judged missing", func(m *types.MsgOpenDispute) { m.Window = 2 }, types.ErrNotDisputable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := disputeMsg(e.buyer, lease, 1)
			tc.mod(m)
			_, err := e.openDispute(m)
			require.ErrorIs(t, err, tc.err)
		})
	}
	t.Run("deposit unaffordable", func(t *testing.T) {
		p := e.params()
		p.DisputeDeposit = sdk.NewCoin(cmpt, e.Balance(e.buyer, cmpt).AddRaw(1))
		_, err := e.Exec(func(ctx sdk.Context) error {
			if err := e.App.SLAKeeper.Params.Set(ctx, p); err != nil {
				return err
			}
			_, err := e.srv.OpenDispute(ctx, disputeMsg(e.buyer, lease, 1))
			return err
		})
		require.ErrorIs(t, err, sdkerrors.ErrInsufficientFunds)
	})
	e.requireUnchanged(gs, bal)

	// A met window can be challenged through dispute_window_blocks (10) after its verdict.
	e.reportAt(e.providers[0], lease, 3, true)
	judged := e.window(lease, 1).JudgedHeight
	e.finalizeThrough(judged + 9)
	require.Equal(t, judged+10, e.Height())
	_, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.NoError(t, err, "the last block of the challenge period")
	_, err = e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.ErrorIs(t, err, types.ErrNotDisputable, "one dispute per window")
	e.NextBlock()
	require.Equal(t, types.WINDOW_STATUS_MET, e.window(lease, 3).Status)
	e.finalizeThrough(e.window(lease, 3).JudgedHeight + 10)
	_, err = e.openDispute(disputeMsg(e.buyer, lease, 3))
	require.ErrorIs(t, err, types.ErrDisputeWindowEnded)
}

func TestRespondAndVoteRejects(t *testing.T) {
	e := setup(t)
	lease := e.metWindow()
	p := e.providers[0]
	res, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.NoError(t, err)
	id := res.DisputeId
	gs, bal := e.snapshot()

	respond := func(m *types.MsgRespondDispute) error {
		_, err := e.Exec(func(ctx sdk.Context) error { _, err := e.srv.RespondDispute(ctx, m); return err })
		return err
	}
	ok := func() *types.MsgRespondDispute {
		return &types.MsgRespondDispute{Provider: p.String(), DisputeId: id, EvidenceRoot: root(3), Statement: "fine"}
	}
	for _, tc := range []struct {
		name string
		mod  func(m *types.MsgRespondDispute)
		err  *errorsmod.Error
	}{
		{"bad address", func(m *types.MsgRespondDispute) { m.Provider = "cmpt1nope" }, types.ErrInvalidAddress},
		{"unknown dispute", func(m *types.MsgRespondDispute) { m.DisputeId = 99 }, types.ErrDisputeNotFound},
		{"not the provider", func(m *types.MsgRespondDispute) { m.Provider = e.buyer.String() }, types.ErrUnauthorized},
		{"short evidence root", func(m *types.MsgRespondDispute) { m.EvidenceRoot = nil }, types.ErrInvalidReport},
		{"statement too long", func(m *types.MsgRespondDispute) { m.Statement = strings.Repeat("x", types.MaxStatementSize+1) }, types.ErrInvalidReport},
	} {
		t.Run("respond: "+tc.name, func(t *testing.T) {
			m := ok()
			tc.mod(m)
			require.ErrorIs(t, respond(m), tc.err)
		})
	}
	_, err = e.vote(e.arbiters[0], id, true)
	require.ErrorIs(t, err, types.ErrDisputePhase, "no vote before the answer")
	e.requireUnchanged(gs, bal)

	require.NoError(t, respond(ok()))
	require.ErrorIs(t, respond(ok()), types.ErrDisputePhase, "answered once")
	_, err = e.vote(e.arbiters[0], id, true)
	require.NoError(t, err)
	gs, bal = e.snapshot()
	for _, tc := range []struct {
		name    string
		arbiter string
		id      uint64
		err     *errorsmod.Error
	}{
		{"bad address", "cmpt1nope", id, types.ErrInvalidAddress},
		{"not an arbiter", e.stranger.String(), id, types.ErrNotArbiter},
		{"the buyer", e.buyer.String(), id, types.ErrNotArbiter},
		{"unknown dispute", e.arbiters[1].String(), 99, types.ErrDisputeNotFound},
		{"second vote", e.arbiters[0].String(), id, types.ErrAlreadyVoted},
	} {
		t.Run("vote: "+tc.name, func(t *testing.T) {
			_, err := e.Exec(func(ctx sdk.Context) error {
				_, err := e.srv.VoteDispute(ctx, &types.MsgVoteDispute{Arbiter: tc.arbiter, DisputeId: tc.id, ForBuyer: false})
				return err
			})
			require.ErrorIs(t, err, tc.err)
		})
	}
	e.requireUnchanged(gs, bal)
	resolved, err := e.vote(e.arbiters[1], id, true)
	require.NoError(t, err)
	require.True(t, resolved)
	_, err = e.vote(e.arbiters[2], id, true)
	require.ErrorIs(t, err, types.ErrDisputePhase, "resolved")
	e.checkAll()
}
