package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// bondedLease is a lease of provider p, bonded with 1000 uusdc to pay penalties from.
func (e *env) bondedLease(p sdk.AccAddress) uint64 {
	e.bond(p, usdcCoin(1_000))
	return e.lease(p, slaOrder(e.buyer))
}

func (e *env) queued(lease uint64) []int64 {
	iter, err := e.App.SLAKeeper.WindowQueue.Iterate(e.Ctx(), nil)
	require.NoError(e.T, err)
	keys, err := iter.Keys()
	require.NoError(e.T, err)
	var at []int64
	for _, k := range keys {
		if k.K2() == lease {
			at = append(at, k.K1())
		}
	}
	return at
}

// TestLeaseEnforcementStarts: a lease under SLA is recorded with its terms and its first window
// is queued at its deadline.
func TestLeaseEnforcementStarts(t *testing.T) {
	e := setup(t)
	lease := e.bondedLease(e.providers[0])
	ls, l := e.slaLease(lease), e.marketLease(lease)
	require.True(t, ls.Active)
	require.Equal(t, uint64(1), ls.NextWindow)
	require.Equal(t, l.StartHeight, ls.StartHeight)
	require.Equal(t, e.buyer.String(), ls.Buyer)
	require.Equal(t, uint64(windowBlocks), ls.Terms.WindowBlocks)
	require.Equal(t, []int64{l.StartHeight + windowBlocks + grace}, e.queued(lease))
	res, err := e.q.LeaseSLA(e.Ctx(), &types.QueryLeaseSLARequest{LeaseId: lease})
	require.NoError(t, err)
	require.Equal(t, l.StartHeight+windowBlocks+grace, res.NextWindowDue)
}

// TestBreachPaysPenaltyWhenJudged: a breaching report moves exactly one window's penalty from the
// bond to the buyer in the EndBlock of the window's deadline, not before, and lowers reputation.
func TestBreachPaysPenaltyWhenJudged(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.bondedLease(p)
	due := e.due(lease, 1)

	e.finalizeThrough(e.end(lease, 1) - 1)
	var judgedAt int64
	e.must(func(ctx sdk.Context) error {
		res, err := e.srv.SubmitSLAReport(ctx, reportMsg(p, lease, 1, false))
		if err == nil {
			judgedAt = res.JudgedAtHeight
		}
		return err
	})
	require.Equal(t, due, judgedAt)
	require.Equal(t, types.WINDOW_STATUS_REPORTED, e.window(lease, 1).Status)

	e.finalizeThrough(due - 1)
	before := e.Balance(e.buyer, usdc)
	require.Equal(t, types.WINDOW_STATUS_REPORTED, e.window(lease, 1).Status, "not judged before its deadline")
	e.finalizeThrough(due)

	require.Equal(t, before.AddRaw(windowPenalty), e.Balance(e.buyer, usdc), "buyer credited exactly the penalty")
	require.Equal(t, sdk.NewCoins(usdcCoin(1_000-windowPenalty)), e.bondOf(p).Bonded)
	r := e.window(lease, 1)
	require.Equal(t, types.WINDOW_STATUS_BREACHED, r.Status)
	require.Equal(t, usdcCoin(windowPenalty), r.Penalty)
	require.Equal(t, due, r.JudgedHeight)
	ls := e.slaLease(lease)
	require.Equal(t, uint32(1), ls.Breaches)
	require.Equal(t, uint64(2), ls.NextWindow)
	require.Equal(t, uint64(1), ls.WindowsJudged)
	require.Zero(t, ls.WindowsMet)
	require.Equal(t, uint32(4500), e.reputation(p), "5000 folded with a 0 at 10%")
	for _, typ := range []string{"EventPenaltyPaid", "EventWindowJudged", "EventReputationUpdated"} {
		require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1."+typ), typ)
	}
	require.Equal(t, []int64{e.due(lease, 2)}, e.queued(lease), "the next window is queued")
	require.Equal(t, markettypes.LEASE_STATE_ACTIVE, e.marketLease(lease).State)
	e.checkAll()
}

// TestMetWindowRaisesReputation: a report inside the terms moves no money and raises reputation.
func TestMetWindowRaisesReputation(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.bondedLease(p)
	e.reportAt(p, lease, 1, true)
	before := e.Balance(e.buyer, usdc)
	e.finalizeThrough(e.due(lease, 1))
	require.Equal(t, before, e.Balance(e.buyer, usdc))
	r := e.window(lease, 1)
	require.Equal(t, types.WINDOW_STATUS_MET, r.Status)
	require.True(t, r.Penalty.IsZero())
	require.Equal(t, uint64(1), e.slaLease(lease).WindowsMet)
	require.Equal(t, uint32(5500), e.reputation(p))
	require.Equal(t, sdk.NewCoins(usdcCoin(1_000)), e.bondOf(p).Bonded)
	e.checkAll()
}

// TestMissingReportIsBreach: no report by the deadline is judged like a breach.
func TestMissingReportIsBreach(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.bondedLease(p)
	due := e.due(lease, 1)
	e.finalizeThrough(due - 1)
	before := e.Balance(e.buyer, usdc)
	e.finalizeThrough(due)
	require.Equal(t, before.AddRaw(windowPenalty), e.Balance(e.buyer, usdc))
	require.Equal(t, types.WINDOW_STATUS_MISSING, e.window(lease, 1).Status)
	require.Equal(t, uint32(1), e.slaLease(lease).Breaches)
	e.checkAll()
}

// TestPenaltyBeyondBond: a provider without bond in the lease's denom pays nothing; the event
// records the shortfall and the breach still counts.
func TestPenaltyBeyondBond(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, usdcCoin(30))
	lease := e.lease(p, slaOrder(e.buyer))
	require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1.EventLeaseEnforced"), "a lease without a bond to lock is enforced with an event too")
	due := e.due(lease, 1)
	e.finalizeThrough(due - 1)
	before := e.Balance(e.buyer, usdc)
	e.finalizeThrough(due)
	require.Equal(t, before.AddRaw(30), e.Balance(e.buyer, usdc), "all the bond there was")
	require.Equal(t, usdcCoin(30), e.window(lease, 1).Penalty)
	has, err := e.App.SLAKeeper.Bonds.Has(e.Ctx(), p)
	require.NoError(t, err)
	require.False(t, has, "an emptied bond is removed")
	require.Equal(t, uint32(1), e.slaLease(lease).Breaches)
	e.checkAll()
}

// TestThirdBreachTerminates: the breach that reaches breaches_to_terminate closes the lease with
// reason SLA_TERMINATED in the same EndBlock; escrow settles and closes the stream, refunds the
// buyer, and the bond lock is released.
func TestThirdBreachTerminates(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, usdcCoin(1_000))
	m := slaOrder(e.buyer)
	m.Requirements.MinProviderBond = usdcCoin(400)
	buyerStart := e.Balance(e.buyer, usdc)
	lease := e.lease(p, m)
	start := e.marketLease(lease).StartHeight

	e.reportAt(p, lease, 3, false) // windows 1 and 2 go unreported
	due3 := e.due(lease, 3)
	e.finalizeThrough(due3 - 1)
	require.Equal(t, uint32(2), e.slaLease(lease).Breaches)
	require.Equal(t, markettypes.LEASE_STATE_ACTIVE, e.marketLease(lease).State)
	e.finalizeThrough(due3)

	l := e.marketLease(lease)
	require.Equal(t, markettypes.LEASE_STATE_CLOSED, l.State)
	require.Equal(t, markettypes.CLOSE_REASON_SLA_TERMINATED, l.CloseReason)
	require.Equal(t, due3, l.ClosedHeight)
	require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1.EventLeaseTerminated"))
	s := e.stream(lease)
	require.Equal(t, escrowtypes.STREAM_STATE_CLOSED, s.State)
	require.Equal(t, due3, s.ClosedHeight)
	paid := amt(price * (due3 - start))
	require.Equal(t, paid, s.Earned, "settled up to the close")
	o := e.order(l.OrderId)
	require.Equal(t, markettypes.ORDER_STATE_CLOSED, o.State)
	require.Equal(t, markettypes.CLOSE_REASON_SLA_TERMINATED, o.CloseReason)
	acc, err := e.App.EscrowKeeper.Accounts.Get(e.Ctx(), l.OrderId)
	require.NoError(t, err)
	require.Equal(t, escrowtypes.ACCOUNT_STATE_CLOSED, acc.State)
	require.Equal(t, buyerStart.Sub(paid).AddRaw(3*windowPenalty), e.Balance(e.buyer, usdc),
		"the buyer paid for the blocks run, got three penalties and the rest of the deposit back")

	ls := e.slaLease(lease)
	require.False(t, ls.Active)
	require.Equal(t, uint32(3), ls.Breaches)
	require.Equal(t, sdk.NewCoins(usdcCoin(1_000-3*windowPenalty)), e.bondOf(p).Bonded)
	require.Empty(t, e.bondOf(p).Locked)
	require.Empty(t, e.queued(lease), "no window after the close")
	require.ErrorIs(t, e.report(reportMsg(p, lease, 4, true)), types.ErrReportFromFuture)
	e.finalizeThrough(e.end(lease, 4))
	require.ErrorIs(t, e.report(reportMsg(p, lease, 4, true)), types.ErrLeaseClosed)
	e.checkAll()
}

// TestWindowsOfClosedLease: a window that ended before the lease closed is still reported and
// judged at its deadline; the window the close cut short is never judged.
func TestWindowsOfClosedLease(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.bondedLease(p)
	e.finalizeThrough(e.end(lease, 1) - 1)
	e.must(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: e.buyer.String(), LeaseId: lease})
		return err
	})
	require.NoError(t, e.report(reportMsg(p, lease, 1, false)), "window 1 ended with the close")
	e.finalizeThrough(e.due(lease, 1) - 1)
	before := e.Balance(e.buyer, usdc)
	e.finalizeThrough(e.due(lease, 1))
	require.Equal(t, types.WINDOW_STATUS_BREACHED, e.window(lease, 1).Status)
	require.Equal(t, before.AddRaw(windowPenalty), e.Balance(e.buyer, usdc))
	require.Empty(t, e.queued(lease))
	e.finalizeThrough(e.due(lease, 2))
	_, err := e.App.SLAKeeper.Reports.Get(e.Ctx(), collections.Join(lease, uint64(2)))
	require.Error(t, err, "window 2 was cut short by the close")
	require.Equal(t, uint64(2), e.slaLease(lease).NextWindow)
	e.checkAll()
}

// TestGraceChangeWaitsForNewDeadline: raising report_grace_blocks while windows are queued must
// neither judge a window before its new deadline nor leave the old queue entry behind to judge
// later windows early.
func TestGraceChangeWaitsForNewDeadline(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.bondedLease(p)
	oldDue := e.due(lease, 1)
	params := e.params()
	params.ReportGraceBlocks = grace + 4
	e.must(func(ctx sdk.Context) error {
		_, err := e.srv.UpdateParams(ctx, &types.MsgUpdateParams{Authority: e.App.SLAKeeper.GetAuthority(), Params: params})
		return err
	})
	newDue := e.due(lease, 1)
	require.Equal(t, oldDue+4, newDue)

	e.finalizeThrough(oldDue)
	require.Equal(t, uint64(1), e.slaLease(lease).NextWindow, "not judged at the old deadline")
	require.Equal(t, []int64{newDue}, e.queued(lease))
	require.NoError(t, e.report(reportMsg(p, lease, 1, true)), "the provider may still report")
	e.finalizeThrough(newDue)
	require.Equal(t, types.WINDOW_STATUS_MET, e.window(lease, 1).Status)
	require.Equal(t, []int64{e.due(lease, 2)}, e.queued(lease))
	e.reportAt(p, lease, 2, true)
	e.finalizeThrough(e.due(lease, 2))
	ls := e.slaLease(lease)
	require.Equal(t, uint64(3), ls.NextWindow)
	require.Zero(t, ls.Breaches)
	e.checkAll()
}

// TestShortGraceChange: lowering the grace judges the window at the entry's height (the old,
// later deadline) and every later window at its new deadline.
func TestShortGraceChange(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.bondedLease(p)
	oldDue := e.due(lease, 1)
	params := e.params()
	params.ReportGraceBlocks = 1
	require.NoError(t, params.Validate())
	e.must(func(ctx sdk.Context) error { return e.App.SLAKeeper.Params.Set(ctx, params) })
	e.reportAt(p, lease, 1, true)
	e.finalizeThrough(oldDue)
	require.Equal(t, types.WINDOW_STATUS_MET, e.window(lease, 1).Status)
	require.Equal(t, []int64{e.due(lease, 2)}, e.queued(lease))
	require.Equal(t, e.end(lease, 2)+1, e.due(lease, 2))
	e.checkAll()
}
