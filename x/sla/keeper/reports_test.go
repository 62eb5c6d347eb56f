package keeper_test

import (
	"testing"

	errorsmod "cosmossdk.io/errors"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// TestReportWindowBounds: a window's report is taken from its last block through its deadline,
// both ends included, and the deadline's report is judged in the same block.
func TestReportWindowBounds(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	lease := e.bondedLease(p)
	e.finalizeThrough(e.end(lease, 1) - 2)
	require.ErrorIs(t, e.report(reportMsg(p, lease, 1, true)), types.ErrReportFromFuture)
	e.finalizeThrough(e.due(lease, 1) - 1)
	require.Equal(t, e.due(lease, 1), e.Height())
	require.NoError(t, e.report(reportMsg(p, lease, 1, true)), "the deadline's block still takes it")
	e.NextBlock()
	require.Equal(t, types.WINDOW_STATUS_MET, e.window(lease, 1).Status)
}

func TestReportRejects(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, usdcCoin(1_000))
	noSLA := slaOrder(e.buyer)
	noSLA.Sla = markettypes.SLATerms{}
	withID, withoutID := e.createOrder(slaOrder(e.buyer)), e.createOrder(noSLA)
	require.NoError(t, e.bidOn(p, withID, price))
	require.NoError(t, e.bidOn(e.providers[1], withoutID, price))
	e.clear(withID)
	lease, plain := e.leasesOf(withID)[0], e.leasesOf(withoutID)[0]
	require.Equal(t, uint64(0), e.slaLease(plain).Terms.WindowBlocks)
	require.Empty(t, e.queued(plain), "no windows to judge")

	e.reportAt(p, lease, 1, true)
	gs, bal := e.snapshot()
	cases := []struct {
		name string
		mod  func(m *types.MsgSubmitSLAReport)
		err  *errorsmod.Error
	}{
		{"bad provider address", func(m *types.MsgSubmitSLAReport) { m.Provider = "cmpt1nope" }, types.ErrInvalidAddress},
		{"unknown lease", func(m *types.MsgSubmitSLAReport) { m.LeaseId = 999 }, types.ErrLeaseNotFound},
		{"not the lease's provider", func(m *types.MsgSubmitSLAReport) { m.Provider = e.buyer.String() }, types.ErrUnauthorized},
		{"lease without windows", func(m *types.MsgSubmitSLAReport) { m.Provider, m.LeaseId = e.providers[1].String(), plain }, types.ErrNoSLA},
		{"window 0", func(m *types.MsgSubmitSLAReport) { m.Window = 0 }, types.ErrInvalidReport},
		{"availability above 100%", func(m *types.MsgSubmitSLAReport) { m.AvailabilityBps = 10_001 }, types.ErrInvalidReport},
		{"p99 below p95", func(m *types.MsgSubmitSLAReport) { m.P99LatencyUs = m.P95LatencyUs - 1 }, types.ErrInvalidReport},
		{"short samples root", func(m *types.MsgSubmitSLAReport) { m.SamplesRoot = root(1)[:31] }, types.ErrInvalidReport},
		{"second report of a window", func(m *types.MsgSubmitSLAReport) {}, types.ErrDuplicateReport},
		{"window not ended", func(m *types.MsgSubmitSLAReport) { m.Window = 2 }, types.ErrReportFromFuture},
		{"far future window", func(m *types.MsgSubmitSLAReport) { m.Window = 1 << 62 }, types.ErrReportFromFuture},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := reportMsg(p, lease, 1, true)
			tc.mod(m)
			require.ErrorIs(t, e.report(m), tc.err)
		})
	}
	e.requireUnchanged(gs, bal)

	e.finalizeThrough(e.due(lease, 1))
	require.ErrorIs(t, e.report(reportMsg(p, lease, 1, true)), types.ErrWindowNotOpen, "judged already")

	// Closed inside window 2: its report is refused while it could be sent, then too late.
	e.must(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: p.String(), LeaseId: lease})
		return err
	})
	e.finalizeThrough(e.end(lease, 2) - 1)
	require.ErrorIs(t, e.report(reportMsg(p, lease, 2, true)), types.ErrLeaseClosed)
	e.finalizeThrough(e.due(lease, 2))
	require.ErrorIs(t, e.report(reportMsg(p, lease, 2, true)), types.ErrReportTooLate)
	e.checkAll()
}
