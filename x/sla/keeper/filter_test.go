package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	attesttest "github.com/computed-network/computed/x/attest/testutil"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// TestBidFilterBond: x/market takes a bid only from a provider whose free bond covers the order's
// min_provider_bond, after x/attest's checks.
func TestBidFilterBond(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	m := slaOrder(e.buyer)
	m.Requirements.MinProviderBond = cmptCoin(1_000)
	id := e.createOrder(m)

	require.ErrorIs(t, e.bidOn(p, id, price), types.ErrInsufficientBond, "no bond")
	e.bond(p, cmptCoin(999))
	require.ErrorIs(t, e.bidOn(p, id, price), types.ErrInsufficientBond, "one short")
	e.bond(p, usdcCoin(5_000))
	require.ErrorIs(t, e.bidOn(p, id, price), types.ErrInsufficientBond, "bond in another denom does not count")
	require.ErrorIs(t, e.bidOn(e.stranger, id, price), attesttypes.ErrProviderNotFound, "attestation is checked first")
	e.bond(p, cmptCoin(1))
	require.NoError(t, e.bidOn(p, id, price))
	ok, err := e.App.SLAKeeper.BidFilter().Reputation(e.Ctx(), p)
	require.NoError(t, err)
	require.Equal(t, uint32(5000), ok, "initial_reputation_bps before any window")
}

// TestBidFilterReputation: an order's min_reputation_bps refuses providers below it.
func TestBidFilterReputation(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	m := slaOrder(e.buyer)
	m.Requirements.MinReputationBps = 6000
	id := e.createOrder(m)
	require.ErrorIs(t, e.bidOn(p, id, price), markettypes.ErrProviderIneligible, "5000 < 6000")
	e.must(func(ctx sdk.Context) error { return e.App.SLAKeeper.Reputation.Set(ctx, p, 6000) })
	require.NoError(t, e.bidOn(p, id, price))
	res, err := e.q.Reputation(e.Ctx(), &types.QueryReputationRequest{Provider: p.String()})
	require.NoError(t, err)
	require.True(t, res.Judged)
}

// TestReputationBreaksPriceTies: among equal prices the better-reputed provider wins even though
// it bid later; a lower price still beats any reputation.
func TestReputationBreaksPriceTies(t *testing.T) {
	e := setup(t)
	low, high, cheap := e.providers[0], e.providers[1], e.providers[2]
	e.must(func(ctx sdk.Context) error {
		if err := e.App.SLAKeeper.Reputation.Set(ctx, low, 3000); err != nil {
			return err
		}
		return e.App.SLAKeeper.Reputation.Set(ctx, high, 9000)
	})
	tie := e.createOrder(slaOrder(e.buyer))
	require.NoError(t, e.bidOn(low, tie, 90))
	require.NoError(t, e.bidOn(high, tie, 90))
	priced := e.createOrder(slaOrder(e.buyer))
	require.NoError(t, e.bidOn(high, priced, 90))
	require.NoError(t, e.bidOn(cheap, priced, 89))
	e.clear(tie)
	require.Equal(t, high.String(), e.marketLease(e.leasesOf(tie)[0]).Provider)
	require.Equal(t, cheap.String(), e.marketLease(e.leasesOf(priced)[0]).Provider)
}

// TestAttestationLapseBreaches: when x/attest lapses a provider's record, each of its active
// leases is breached and closed: the buyer is paid one window's penalty in that block, and the
// stream stops (before, the lease went on paying for hardware no record vouched for).
func TestAttestationLapseBreaches(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, usdcCoin(20_000))
	m := slaOrder(e.buyer)
	m.Sla.WindowBlocks = 1_000 // no window falls due during the test
	lease := e.lease(p, m)
	closed := e.lease(p, slaOrder(e.buyer))
	e.must(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: e.buyer.String(), LeaseId: closed})
		return err
	})

	// Re-attest with a short validity; the record lapses a few blocks later.
	ap, err := e.App.AttestKeeper.Params.Get(e.Ctx())
	require.NoError(t, err)
	ap.RecordValiditySeconds = 30
	e.must(func(ctx sdk.Context) error {
		if err := e.App.AttestKeeper.Params.Set(ctx, ap); err != nil {
			return err
		}
		return attesttest.AttestProvider(ctx, e.App.AttestKeeper, p, "FRA", 8)
	})
	penalty := types.WindowPenalty(usdcCoin(price), m.Sla).Amount
	require.Equal(t, amt(10_000), penalty)
	before := e.Balance(e.buyer, usdc)
	for i := 0; i < 20 && !hasEvent(e.BlockEvents(), "computed.attest.v1.EventAttestationLapsed"); i++ {
		require.Equal(t, before, e.Balance(e.buyer, usdc))
		e.NextBlock()
	}
	require.True(t, hasEvent(e.BlockEvents(), "computed.attest.v1.EventAttestationLapsed"))
	require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1.EventPenaltyPaid"))
	// One penalty, for the active lease only (the bond below), and the deposit's rest refunded.
	require.True(t, e.Balance(e.buyer, usdc).GT(before.Add(penalty)), "the penalty and the refund")
	ls := e.slaLease(lease)
	require.Equal(t, uint32(1), ls.Breaches)
	require.Equal(t, uint64(1), ls.NextWindow, "a lapse is no window")
	require.False(t, ls.Active)
	l := e.marketLease(lease)
	require.Equal(t, markettypes.LEASE_STATE_CLOSED, l.State)
	require.Equal(t, markettypes.CLOSE_REASON_ATTESTATION_LAPSED, l.CloseReason)
	require.Equal(t, escrowtypes.STREAM_STATE_CLOSED, e.stream(lease).State, "the stream stopped")
	require.Zero(t, e.slaLease(closed).Breaches)
	require.Equal(t, uint32(4500), e.reputation(p))
	require.Equal(t, sdk.NewCoins(usdcCoin(10_000)), e.bondOf(p).Bonded)
	e.checkAll()

	// x/attest calls the hook once per expired record: records expiring in one block (one per
	// evidence type) are one lapse, one breach.
	lapse := func(ctx sdk.Context) error { return e.App.SLAKeeper.Hooks().AfterAttestationLapsed(ctx, p) }
	e.must(lapse)
	require.Equal(t, uint32(1), e.slaLease(lease).Breaches)
	// A lapse that leaves the order covered (another record proves what it asked for) is none.
	e.NextBlock()
	e.must(func(ctx sdk.Context) error {
		ap.RecordValiditySeconds = 24 * 60 * 60 // outlasts the test
		if err := e.App.AttestKeeper.Params.Set(ctx, ap); err != nil {
			return err
		}
		return attesttest.AttestProvider(ctx, e.App.AttestKeeper, p, "FRA", 8)
	})
	covered := e.lease(p, m)
	e.must(lapse)
	require.Zero(t, e.slaLease(covered).Breaches)
	require.True(t, e.slaLease(covered).Active)
	e.checkAll()
}
