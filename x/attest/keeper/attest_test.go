package keeper_test

import (
	"testing"
	"time"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/attestation"
	attesttest "github.com/computed-network/computed/x/attest/testutil"
	"github.com/computed-network/computed/x/attest/types"
	marketkeeper "github.com/computed-network/computed/x/market/keeper"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// TestAttestedProviderBidsUntilRecordLapses is the happy path: register, challenge,
// evidence from the (development) NRAS issuer bound to the nonce, record visible through the
// queries, the market accepts the attested provider's bid and refuses an unattested one, and the
// record lapses by block time with an event and the hook.
func TestAttestedProviderBidsUntilRecordLapses(t *testing.T) {
	e := setup(t)
	provider, unattested, unregistered, buyer := e.Accounts[0], e.Accounts[1], e.Accounts[2], e.Accounts[3]

	e.register(provider)
	e.register(unattested)
	c := e.challenge(provider)
	require.Len(t, c.Nonce, 32)
	require.Equal(t, types.ChallengeNonce(e.Ctx().ChainID(), provider, 1, e.Height(), e.Ctx().HeaderHash()), c.Nonce)
	q, err := e.q.Challenge(e.Ctx(), &types.QueryChallengeRequest{Id: c.ChallengeId})
	require.NoError(t, err)
	require.Equal(t, provider.String(), q.Challenge.Provider)

	events, err := e.submit(nrasMsg(provider, c.ChallengeId, e.eat(c.Nonce, 8), claims(8)))
	require.NoError(t, err)
	require.True(t, hasEvent(events.ToABCIEvents(), "computed.attest.v1.EventAttestationAccepted"))

	res, err := e.q.Attestation(e.Ctx(), &types.QueryAttestationRequest{Provider: provider.String()})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	rec := res.Records[0]
	require.Equal(t, markettypes.EVIDENCE_TYPE_NVIDIA_NRAS, rec.EvidenceType)
	require.Len(t, rec.Gpus, 8)
	require.Equal(t, "GH100", rec.Gpus[0].Hwmodel)
	require.Equal(t, claims(8)[3].Uuid, rec.Gpus[3].Uuid)
	require.NotEmpty(t, rec.Gpus[3].Ueid)
	require.Equal(t, "595.71.05", rec.Gpus[0].DriverVersion)
	require.Len(t, rec.EvidenceHash, 32)
	now := e.Ctx().BlockTime().Unix()
	params := types.DefaultParams()
	require.Equal(t, now, rec.VerifiedAt)
	require.Equal(t, now+int64(params.RecordValiditySeconds), rec.ValidUntil)
	_, err = e.q.Challenge(e.Ctx(), &types.QueryChallengeRequest{Id: c.ChallengeId})
	require.Error(t, err, "the challenge is used up")

	// The market consults x/attest through its ProviderFilter.
	order := e.order(buyer, markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)
	require.NoError(t, e.bid(provider, order))
	require.ErrorIs(t, e.bid(unattested, order), types.ErrNotAttested)
	require.ErrorIs(t, e.bid(unregistered, order), types.ErrProviderNotFound)
	e.checkInvariants()
	anyType := e.order(buyer)
	require.NoError(t, e.bid(provider, anyType), "an order naming no evidence type still needs a record, of any type")
	require.ErrorIs(t, e.bid(unattested, anyType), types.ErrNotAttested)
	snpOrder := e.order(buyer, markettypes.EVIDENCE_TYPE_NVIDIA_NRAS, markettypes.EVIDENCE_TYPE_AMD_SEV_SNP)
	require.ErrorIs(t, e.bid(provider, snpOrder), types.ErrNotAttested, "every named evidence type is required")

	// Validity ends by block time: one second short, the record stays.
	e.NextBlock()
	remaining := time.Duration(rec.ValidUntil-e.Ctx().BlockTime().Unix()) * time.Second
	e.Coord.IncrementTimeBy(remaining - time.Second - 5*time.Second) // CommitBlock adds 5 s itself after the block
	e.NextBlock()
	require.Len(t, e.records(), 1)

	for e.Ctx().BlockTime().Unix() < rec.ValidUntil {
		e.Coord.IncrementTimeBy(time.Second)
	}
	e.NextBlock()
	require.True(t, hasEvent(e.BlockEvents(), "computed.attest.v1.EventAttestationLapsed"))
	require.Empty(t, e.records())
	// The lapse hook's effect (x/sla breaching the provider's leases) is tested in x/sla.
	e.checkInvariants()
	n := 0
	require.NoError(t, e.App.AttestKeeper.RecordExpiry.Walk(e.Ctx(), nil, func(_ tripleKey) (bool, error) { n++; return false, nil }))
	require.Zero(t, n)

	later := e.order(buyer, markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)
	require.ErrorIs(t, e.bid(provider, later), types.ErrNotAttested)
}

// TestResubmissionReplacesRecord checks one record per evidence type, with one queue entry.
func TestResubmissionReplacesRecord(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	e.attest(p, 8)
	e.NextBlock()
	e.NextBlock()
	c := e.challenge(p)
	_, err := e.submit(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), claims(2)))
	require.NoError(t, err)
	recs := e.records()
	require.Len(t, recs, 1)
	require.Len(t, recs[0].Gpus, 2)
	n := 0
	require.NoError(t, e.App.AttestKeeper.RecordExpiry.Walk(e.Ctx(), nil, func(k tripleKey) (bool, error) {
		require.Equal(t, recs[0].ValidUntil, k.K1())
		n++
		return false, nil
	}))
	require.Equal(t, 1, n)
	e.checkInvariants()
}

// TestAttestProviderHelper checks the helper other modules' tests use.
func TestAttestProviderHelper(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	_, err := e.Exec(func(ctx sdk.Context) error { return attesttest.AttestProvider(ctx, e.App.AttestKeeper, p, metro, 8) })
	require.NoError(t, err)
	_, err = e.Exec(func(ctx sdk.Context) error { return attesttest.AttestProvider(ctx, e.App.AttestKeeper, p, metro, 8) })
	require.NoError(t, err, "idempotent registration, fresh record")
	require.NoError(t, e.bid(p, e.order(e.Accounts[1])))
}

// TestBidderMustStillQualifyAtClearing: a bidding window can outlast an attestation record, and
// a provider may deregister while its bid is open. At clearing such a bid is closed as lost (its
// deposit refunded, EventBidDisqualified) and the next qualified bid wins; with none, the order
// closes without a lease. Before, the bid won a lease on hardware no longer attested, and no
// lapse hook would ever fire for it.
func TestBidderMustStillQualifyAtClearing(t *testing.T) {
	e := setup(t)
	gone, stays, buyer := e.Accounts[0], e.Accounts[1], e.Accounts[3]
	e.attest(gone, 8)
	e.attest(stays, 8)
	order := e.order(buyer, markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)
	require.NoError(t, e.bid(gone, order)) // the earlier bid: it would win the tie
	require.NoError(t, e.bid(stays, order))
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.DeregisterProvider(ctx, &types.MsgDeregisterProvider{Operator: gone.String()})
		return err
	})
	require.NoError(t, err)
	before := e.Balance(gone, e.bidDenom())
	o, err := e.App.MarketKeeper.Orders.Get(e.Ctx(), order)
	require.NoError(t, err)
	for e.Height() <= o.BiddingClosesHeight {
		e.NextBlock()
	}
	require.True(t, hasEvent(e.BlockEvents(), "computed.market.v1.EventBidDisqualified"))
	leases := e.leasesOf(order)
	require.Len(t, leases, 1)
	require.Equal(t, stays.String(), leases[0].Provider)
	require.NoError(t, e.App.MarketKeeper.Bids.Walk(e.Ctx(), nil, func(_ uint64, b markettypes.Bid) (bool, error) {
		if b.OrderId == order && b.Provider == gone.String() {
			require.Equal(t, markettypes.BID_STATE_LOST, b.State)
			require.Equal(t, before.Add(b.Deposit.Amount), e.Balance(gone, b.Deposit.Denom), "its deposit came back")
		}
		return false, nil
	}))
	e.checkInvariants()

	// By hand: a MANUAL order's owner cannot accept a bid whose provider no longer qualifies.
	e.attest(gone, 8)
	manual := e.order(buyer, markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)
	mo, err := e.App.MarketKeeper.Orders.Get(e.Ctx(), manual)
	require.NoError(t, err)
	mo.Policy = markettypes.ACCEPTANCE_POLICY_MANUAL
	require.NoError(t, e.App.MarketKeeper.Orders.Set(e.Ctx(), manual, mo))
	require.NoError(t, e.bid(gone, manual))
	var bidID uint64
	require.NoError(t, e.App.MarketKeeper.Bids.Walk(e.Ctx(), nil, func(id uint64, b markettypes.Bid) (bool, error) {
		bidID = id
		return b.OrderId == manual, nil
	}))
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.DeregisterProvider(ctx, &types.MsgDeregisterProvider{Operator: gone.String()})
		return err
	})
	require.NoError(t, err)
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.market.AcceptBid(ctx, &markettypes.MsgAcceptBid{Owner: buyer.String(), OrderId: manual, BidIds: []uint64{bidID}})
		return err
	})
	require.ErrorIs(t, err, types.ErrProviderNotFound)

	// A record that lapses inside the bidding window: no lease at all.
	e2 := setup(t)
	p := e2.Accounts[0]
	e2.attest(p, 8)
	order = e2.order(e2.Accounts[3], markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)
	require.NoError(t, e2.bid(p, order))
	e2.Coord.IncrementTimeBy(time.Duration(types.DefaultParams().RecordValiditySeconds) * time.Second)
	o, err = e2.App.MarketKeeper.Orders.Get(e2.Ctx(), order)
	require.NoError(t, err)
	for e2.Height() <= o.BiddingClosesHeight {
		e2.NextBlock()
	}
	require.Empty(t, e2.leasesOf(order))
	o, err = e2.App.MarketKeeper.Orders.Get(e2.Ctx(), order)
	require.NoError(t, err)
	require.Equal(t, markettypes.ORDER_STATE_CLOSED, o.State)
	e2.checkInvariants()
}

func (e *env) leasesOf(order uint64) []markettypes.Lease {
	var out []markettypes.Lease
	require.NoError(e.T, e.App.MarketKeeper.Leases.Walk(e.Ctx(), nil, func(_ uint64, l markettypes.Lease) (bool, error) {
		if l.OrderId == order {
			out = append(out, l)
		}
		return false, nil
	}))
	return out
}

// bidDenom is the denom of the market's bid deposit.
func (e *env) bidDenom() string {
	p, err := e.App.MarketKeeper.Params.Get(e.Ctx())
	require.NoError(e.T, err)
	return p.BidDeposit.Denom
}

// TestGPUAttestedOnce: an NRAS token names its physical GPU (ueid). A GPU another provider's
// valid record attests is refused, so one host cannot attest once per provider address and sell
// each GPU several times over; once that record no longer names it (re-attested with other GPUs,
// lapsed, or deregistered), the GPU is free.
func TestGPUAttestedOnce(t *testing.T) {
	e := setup(t)
	a, b := e.Accounts[0], e.Accounts[1]
	e.register(a)
	e.register(b)
	ca := e.challenge(a)
	_, err := e.submit(nrasMsg(a, ca.ChallengeId, e.eat(ca.Nonce, 2), claims(2)))
	require.NoError(t, err)

	sameGPUs := func(nonce []byte) []byte {
		return e.eat(nonce, 2,
			attestation.GPU(0, attestation.SetClaim("ueid", attestation.HostGPU(ca.Nonce, 0).UEID)),
			attestation.GPU(1, attestation.SetClaim("ueid", attestation.HostGPU(ca.Nonce, 1).UEID)))
	}
	cb := e.challenge(b)
	_, err = e.submit(nrasMsg(b, cb.ChallengeId, sameGPUs(cb.Nonce), claims(2)))
	require.ErrorIs(t, err, types.ErrGPUAttestedElsewhere)
	// The provider that holds them may attest them again.
	ca2 := e.challenge(a)
	_, err = e.submit(nrasMsg(a, ca2.ChallengeId, sameGPUs(ca2.Nonce), claims(2)))
	require.NoError(t, err)

	// a deregisters: its records, and its hold on the GPUs, go.
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.DeregisterProvider(ctx, &types.MsgDeregisterProvider{Operator: a.String()})
		return err
	})
	require.NoError(t, err)
	_, err = e.submit(nrasMsg(b, cb.ChallengeId, sameGPUs(cb.Nonce), claims(2)))
	require.NoError(t, err)
	owner, err := e.App.AttestKeeper.GPUOwners.Get(e.Ctx(), attestation.HostGPU(ca.Nonce, 0).UEID)
	require.NoError(t, err)
	require.Equal(t, []byte(b), owner)
	e.checkInvariants()
}

// An attestation is capacity, not a licence: a provider with 8 attested GPUs holds at most 8 in
// leases at once. Its bids beyond that are refused, and a bid that capacity ran out under since
// it was placed loses at clearing to the next one.
func TestAttestedGPUsAreCapacity(t *testing.T) {
	e := setup(t)
	p, q, buyer := e.Accounts[0], e.Accounts[1], e.Accounts[3]
	e.attest(p, 8)
	e.attest(q, 8)
	first, second := e.order(buyer), e.order(buyer)
	require.NoError(t, e.bid(p, first))
	require.NoError(t, e.bid(p, second)) // nothing leased yet: both bids stand
	require.NoError(t, e.bid(q, second))
	o, err := e.App.MarketKeeper.Orders.Get(e.Ctx(), second)
	require.NoError(t, err)
	for e.Height() <= o.BiddingClosesHeight {
		e.NextBlock()
	}
	// Both orders clear in one block, the first first: p's earlier bid on the second would win
	// the tie, but its 8 GPUs are leased by then.
	leases := e.leasesOf(first)
	require.Len(t, leases, 1)
	require.Equal(t, p.String(), leases[0].Provider)
	got := e.leasesOf(second)
	require.Len(t, got, 1)
	require.Equal(t, q.String(), got[0].Provider, "p's GPUs are all leased")
	require.True(t, hasEvent(e.BlockEvents(), "computed.market.v1.EventBidDisqualified"))
	n, err := e.App.MarketKeeper.GPUsLeased.Get(e.Ctx(), collections.Join([]byte(p), sku))
	require.NoError(t, err)
	require.Equal(t, uint32(8), n)

	third := e.order(buyer)
	require.ErrorIs(t, e.bid(p, third), markettypes.ErrAtCapacity)
	require.ErrorIs(t, e.bid(q, third), markettypes.ErrAtCapacity)

	// Its lease closed, p's GPUs are free again.
	_, err = e.Exec(func(ctx sdk.Context) error {
		_, err := e.market.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: buyer.String(), LeaseId: leases[0].Id})
		return err
	})
	require.NoError(t, err)
	require.NoError(t, e.bid(p, third))
	_, err = e.App.MarketKeeper.GPUsLeased.Get(e.Ctx(), collections.Join([]byte(p), sku))
	require.ErrorIs(t, err, collections.ErrNotFound, "no count is kept for a provider with nothing leased")
	e.checkInvariants()
	msg, broken := marketkeeper.AllInvariants(e.App.MarketKeeper)(e.Ctx())
	require.False(t, broken, msg)

	// The count is derived from the leases: a genesis round trip rebuilds it.
	gs, err := e.App.MarketKeeper.ExportGenesis(e.Ctx())
	require.NoError(t, err)
	require.NoError(t, e.App.MarketKeeper.GPUsLeased.Remove(e.Ctx(), collections.Join([]byte(q), sku)))
	_, broken = marketkeeper.AllInvariants(e.App.MarketKeeper)(e.Ctx())
	require.True(t, broken, "the invariant notices a lost count")
	require.NoError(t, e.App.MarketKeeper.InitGenesis(e.Ctx(), gs))
	msg, broken = marketkeeper.AllInvariants(e.App.MarketKeeper)(e.Ctx())
	require.False(t, broken, msg)
}

// A record replacing one whose GPUs are leased must still cover them: before, a resubmission
// for fewer GPUs released the leased ones (another address could attest and sell them again)
// and the lease ran on hardware no record vouched for, with no lapse to breach it.
func TestResubmissionKeepsLeasedGPUs(t *testing.T) {
	e := setup(t)
	p, buyer := e.Accounts[0], e.Accounts[3]
	e.attest(p, 8)
	order := e.order(buyer)
	require.NoError(t, e.bid(p, order))
	o, err := e.App.MarketKeeper.Orders.Get(e.Ctx(), order)
	require.NoError(t, err)
	for e.Height() <= o.BiddingClosesHeight {
		e.NextBlock()
	}
	require.Len(t, e.leasesOf(order), 1)

	c := e.challenge(p)
	_, err = e.submit(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 2), claims(2)))
	require.ErrorIs(t, err, types.ErrProviderHasLeases)
	require.Len(t, e.records()[0].Gpus, 8, "the record covering the lease stays")
	_, err = e.submit(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, 8), claims(8)))
	require.NoError(t, err, "a renewal covering the leased GPUs")
	recs := e.records()
	require.Len(t, recs, 1)
	require.Len(t, recs[0].Gpus, 8)
	e.checkInvariants()
}
