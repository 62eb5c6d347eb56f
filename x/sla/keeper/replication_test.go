package keeper_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	errorsmod "cosmossdk.io/errors"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

var (
	digestA = bytes.Repeat([]byte{0xaa}, 32)
	digestB = bytes.Repeat([]byte{0xbb}, 32)
	digestC = bytes.Repeat([]byte{0xcc}, 32)
)

func salt(p sdk.AccAddress) []byte { return append([]byte("salt-"), p...) }

// replicatedJob bonds providers[0..n) with 10,000 of denom, runs a replicated order of n replicas
// locking 5,000 of it each, and returns the order and its leases (lease i is provider i's).
func (e *env) replicatedJob(n int, denom string) (uint64, []uint64) {
	t := e.T
	m := replicatedOrder(e.buyer, uint32(n))
	m.Requirements.MinProviderBond = sdk.NewInt64Coin(denom, 5_000)
	id := e.createOrder(m)
	for _, p := range e.providers[:n] {
		e.bond(p, sdk.NewInt64Coin(denom, 10_000))
		require.NoError(t, e.bidOn(p, id, price))
	}
	e.clear(id)
	leases := e.leasesOf(id)
	require.Len(t, leases, n)
	for i, l := range leases {
		require.Equal(t, e.providers[i].String(), e.marketLease(l).Provider)
	}
	return id, leases
}

func (e *env) commit(p sdk.AccAddress, lease uint64, digest []byte) error {
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.CommitResult(ctx, &types.MsgCommitResult{Provider: p.String(), LeaseId: lease, Commitment: types.Commitment(digest, p, salt(p))})
		return err
	})
	return err
}

func (e *env) reveal(p sdk.AccAddress, lease uint64, digest []byte) error {
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.RevealResult(ctx, &types.MsgRevealResult{Provider: p.String(), LeaseId: lease, ResultDigest: digest, Salt: salt(p)})
		return err
	})
	return err
}

func (e *env) replication(orderID uint64) types.Replication {
	res, err := e.q.Replication(e.Ctx(), &types.QueryReplicationRequest{OrderId: orderID})
	require.NoError(e.T, err)
	return res.Replication
}

// runJob commits every digest in the block after clearing, then reveals the non-nil ones in the
// first block after the commit deadline.
func (e *env) runJob(orderID uint64, leases []uint64, digests [][]byte) {
	t := e.T
	e.NextBlock()
	for i, d := range digests {
		if d != nil {
			require.NoError(t, e.commit(e.providers[i], leases[i], d))
		}
	}
	e.finalizeThrough(e.replication(orderID).CommitDeadline)
	for i, d := range digests {
		if d != nil {
			require.NoError(t, e.reveal(e.providers[i], leases[i], d))
		}
	}
}

// TestReplicationHonestMajority: three replicas agree. The last reveal resolves at once: each is
// paid for the blocks it ran, the digest is recorded on the order, the leases close COMPLETED and
// the buyer gets the rest of its deposit back.
func TestReplicationHonestMajority(t *testing.T) {
	e := setup(t)
	buyerStart := e.Balance(e.buyer, usdc)
	orderID, leases := e.replicatedJob(3, usdc)
	start := e.marketLease(leases[0]).StartHeight
	joined, enforced := 0, 0
	for _, ev := range e.BlockEvents() {
		switch ev.Type {
		case "computed.sla.v1.EventReplicaJoined":
			joined++
		case "computed.sla.v1.EventLeaseEnforced":
			for _, a := range ev.Attributes {
				if a.Key == "replicated" && a.Value == "true" {
					enforced++
				}
			}
		}
	}
	require.Equal(t, 3, joined, "each replica's joining is an event")
	require.Equal(t, 3, enforced, "each replica lease's enforcement is an event, marked replicated")

	r := e.replication(orderID)
	require.Equal(t, types.REPLICATION_STATUS_COMMITTING, r.Status)
	require.Len(t, r.Members, 3)
	require.Equal(t, start+3, r.CommitDeadline)
	require.Equal(t, start+6, r.RevealDeadline)
	for _, l := range leases {
		require.Equal(t, escrowtypes.STREAM_STATE_PAUSED, e.stream(l).State, "paid only if its result wins")
		require.Zero(t, e.slaLease(l).Terms.WindowBlocks, "judged by commit-reveal, not windows")
		require.Empty(t, e.queued(l))
	}
	require.Equal(t, sdk.NewCoins(usdcCoin(5_000)), e.bondOf(e.providers[0]).Locked)

	e.runJob(orderID, leases, [][]byte{digestA, digestA, digestA})
	now := e.Height()
	paid := amt(price * (now - start))

	r = e.replication(orderID)
	require.Equal(t, types.REPLICATION_STATUS_AGREED, r.Status)
	require.Equal(t, digestA, r.ResultDigest)
	require.Equal(t, now, r.ResolvedHeight)
	o := e.order(orderID)
	require.Equal(t, hex.EncodeToString(digestA), o.ResultDigest)
	require.Equal(t, markettypes.ORDER_STATE_CLOSED, o.State)
	require.Equal(t, markettypes.CLOSE_REASON_COMPLETED, o.CloseReason)
	for i, l := range leases {
		require.Equal(t, markettypes.CLOSE_REASON_COMPLETED, e.marketLease(l).CloseReason)
		require.Equal(t, paid, e.stream(l).Earned, "replica %d paid for the blocks it ran", i)
		require.Equal(t, usdcCoin(paid.Int64()), r.Members[i].Paid)
		require.True(t, r.Members[i].Slashed.IsZero())
		require.Equal(t, sdk.NewCoins(usdcCoin(10_000)), e.bondOf(e.providers[i]).Bonded)
		require.Empty(t, e.bondOf(e.providers[i]).Locked)
		require.Equal(t, uint32(5500), e.reputation(e.providers[i]))
	}
	require.Equal(t, buyerStart.Sub(paid.MulRaw(3)), e.Balance(e.buyer, usdc), "the buyer paid the three replicas and nothing else")
	has, err := e.App.SLAKeeper.ReplicationQueue.Has(e.Ctx(), joinHeight(r.RevealDeadline, orderID))
	require.NoError(t, err)
	require.False(t, has)
	e.checkAll()
	e.finalizeThrough(r.RevealDeadline)
	require.Equal(t, r, e.replication(orderID), "the deadline finds nothing left to do")
}

// TestReplicationCheatingMinority: the dissenter is slashed replica_slash_bps of its bond, paid
// to the buyer, and earns nothing; the majority is paid.
func TestReplicationCheatingMinority(t *testing.T) {
	e := setup(t)
	buyerStart := e.Balance(e.buyer, usdc)
	orderID, leases := e.replicatedJob(3, usdc)
	start := e.marketLease(leases[0]).StartHeight
	e.runJob(orderID, leases, [][]byte{digestA, digestB, digestA})
	paid := amt(price * (e.Height() - start))
	const slash = 10_000 * 1000 / 10_000

	r := e.replication(orderID)
	require.Equal(t, types.REPLICATION_STATUS_AGREED, r.Status)
	require.Equal(t, usdcCoin(slash), r.Members[1].Slashed)
	require.True(t, r.Members[1].Paid.IsZero())
	require.True(t, e.stream(leases[1]).Earned.IsZero())
	require.Equal(t, sdk.NewCoins(usdcCoin(10_000-slash)), e.bondOf(e.providers[1]).Bonded)
	require.Equal(t, uint32(4500), e.reputation(e.providers[1]))
	for _, i := range []int{0, 2} {
		require.Equal(t, paid, e.stream(leases[i]).Earned)
		require.Equal(t, sdk.NewCoins(usdcCoin(10_000)), e.bondOf(e.providers[i]).Bonded)
	}
	require.Equal(t, buyerStart.Sub(paid.MulRaw(2)).AddRaw(slash), e.Balance(e.buyer, usdc))
	require.Equal(t, hex.EncodeToString(digestA), e.order(orderID).ResultDigest)
	e.checkAll()
}

// TestReplicationNoMajority: two different digests and a replica that never reveals. Nothing is
// agreed by the reveal deadline: the order fails, its leases close REPLICATION_FAILED and the
// buyer's deposit comes back whole; only the absent replica is slashed.
func TestReplicationNoMajority(t *testing.T) {
	e := setup(t)
	buyerStart := e.Balance(e.buyer, usdc)
	orderID, leases := e.replicatedJob(3, cmpt)
	e.NextBlock()
	for i, d := range [][]byte{digestA, digestB, digestC} {
		require.NoError(t, e.commit(e.providers[i], leases[i], d))
	}
	r := e.replication(orderID)
	e.finalizeThrough(r.CommitDeadline)
	require.NoError(t, e.reveal(e.providers[0], leases[0], digestA))
	require.NoError(t, e.reveal(e.providers[1], leases[1], digestB))
	e.finalizeThrough(r.RevealDeadline - 1)
	require.Equal(t, types.REPLICATION_STATUS_REVEALING, e.replication(orderID).Status)
	absent := e.Balance(e.providers[2], cmpt)
	e.finalizeThrough(r.RevealDeadline)

	r = e.replication(orderID)
	require.Equal(t, types.REPLICATION_STATUS_FAILED, r.Status)
	require.Empty(t, r.ResultDigest)
	o := e.order(orderID)
	require.Equal(t, markettypes.ORDER_STATE_CLOSED, o.State)
	require.Equal(t, markettypes.CLOSE_REASON_REPLICATION_FAILED, o.CloseReason)
	require.Empty(t, o.ResultDigest)
	for _, l := range leases {
		require.Equal(t, markettypes.CLOSE_REASON_REPLICATION_FAILED, e.marketLease(l).CloseReason)
		require.True(t, e.stream(l).Earned.IsZero())
	}
	require.Equal(t, buyerStart, e.Balance(e.buyer, usdc), "deposit refunded whole")
	require.Equal(t, cmptCoin(1_000), r.Members[2].Slashed, "10% of the absent replica's bond")
	require.Equal(t, sdk.NewCoins(cmptCoin(9_000)), e.bondOf(e.providers[2]).Bonded)
	require.Equal(t, absent, e.Balance(e.providers[2], cmpt), "slashed from the bond, not the balance")
	for _, i := range []int{0, 1} {
		require.True(t, r.Members[i].Slashed.IsZero(), "a revealed dissent without a majority is no fault")
		require.Equal(t, sdk.NewCoins(cmptCoin(10_000)), e.bondOf(e.providers[i]).Bonded)
	}
	require.True(t, hasEvent(e.BlockEvents(), "computed.sla.v1.EventReplicationResolved"))
	e.checkAll()
}

func TestCommitRevealRejects(t *testing.T) {
	e := setup(t)
	plain := e.lease(e.providers[3], slaOrder(e.buyer))
	orderID, leases := e.replicatedJob(2, usdc)
	p0, p1 := e.providers[0], e.providers[1]
	e.NextBlock()
	require.NoError(t, e.commit(p0, leases[0], digestA))
	gs, bal := e.snapshot()

	commit := func(m *types.MsgCommitResult) error {
		_, err := e.Exec(func(ctx sdk.Context) error { _, err := e.srv.CommitResult(ctx, m); return err })
		return err
	}
	revealMsg := func() *types.MsgRevealResult {
		return &types.MsgRevealResult{Provider: p0.String(), LeaseId: leases[0], ResultDigest: digestA, Salt: salt(p0)}
	}
	reveal := func(m *types.MsgRevealResult) error {
		_, err := e.Exec(func(ctx sdk.Context) error { _, err := e.srv.RevealResult(ctx, m); return err })
		return err
	}
	c := types.Commitment(digestA, p1, salt(p1))
	for _, tc := range []struct {
		name string
		msg  *types.MsgCommitResult
		err  *errorsmod.Error
	}{
		{"bad address", &types.MsgCommitResult{Provider: "cmpt1nope", LeaseId: leases[1], Commitment: c}, types.ErrInvalidAddress},
		{"short commitment", &types.MsgCommitResult{Provider: p1.String(), LeaseId: leases[1], Commitment: c[:31]}, types.ErrInvalidCommitment},
		{"unknown lease", &types.MsgCommitResult{Provider: p1.String(), LeaseId: 999, Commitment: c}, types.ErrLeaseNotFound},
		{"another's lease", &types.MsgCommitResult{Provider: p1.String(), LeaseId: leases[0], Commitment: c}, types.ErrUnauthorized},
		{"not replicated", &types.MsgCommitResult{Provider: e.providers[3].String(), LeaseId: plain, Commitment: c}, types.ErrNotReplicated},
		{"second commit", &types.MsgCommitResult{Provider: p0.String(), LeaseId: leases[0], Commitment: c}, types.ErrAlreadyCommitted},
	} {
		t.Run("commit: "+tc.name, func(t *testing.T) { require.ErrorIs(t, commit(tc.msg), tc.err) })
	}
	require.ErrorIs(t, reveal(revealMsg()), types.ErrReplicationPhase, "no reveal before the commit deadline")
	e.requireUnchanged(gs, bal)

	e.finalizeThrough(e.replication(orderID).CommitDeadline)
	require.ErrorIs(t, commit(&types.MsgCommitResult{Provider: p1.String(), LeaseId: leases[1], Commitment: c}), types.ErrReplicationPhase, "commit deadline passed")
	gs, bal = e.snapshot()
	for _, tc := range []struct {
		name string
		mod  func(m *types.MsgRevealResult)
		err  *errorsmod.Error
	}{
		{"bad address", func(m *types.MsgRevealResult) { m.Provider = "cmpt1nope" }, types.ErrInvalidAddress},
		{"short digest", func(m *types.MsgRevealResult) { m.ResultDigest = digestA[:31] }, types.ErrInvalidCommitment},
		{"no salt", func(m *types.MsgRevealResult) { m.Salt = nil }, types.ErrInvalidCommitment},
		{"salt too long", func(m *types.MsgRevealResult) { m.Salt = make([]byte, types.MaxSaltSize+1) }, types.ErrInvalidCommitment},
		{"wrong salt", func(m *types.MsgRevealResult) { m.Salt = []byte("other") }, types.ErrCommitMismatch},
		{"other digest", func(m *types.MsgRevealResult) { m.ResultDigest = digestB }, types.ErrCommitMismatch},
		{"never committed", func(m *types.MsgRevealResult) { m.Provider, m.LeaseId, m.Salt = p1.String(), leases[1], salt(p1) }, types.ErrCommitMismatch},
		{"another's lease", func(m *types.MsgRevealResult) { m.Provider = p1.String() }, types.ErrUnauthorized},
	} {
		t.Run("reveal: "+tc.name, func(t *testing.T) {
			m := revealMsg()
			tc.mod(m)
			require.ErrorIs(t, reveal(m), tc.err)
		})
	}
	e.requireUnchanged(gs, bal)
	require.NoError(t, reveal(revealMsg()))
	require.ErrorIs(t, reveal(revealMsg()), types.ErrAlreadyRevealed, "revealed once")
	e.finalizeThrough(e.replication(orderID).RevealDeadline)
	require.Equal(t, types.REPLICATION_STATUS_FAILED, e.replication(orderID).Status, "1 of 2 is no strict majority")
	require.ErrorIs(t, reveal(&types.MsgRevealResult{Provider: p1.String(), LeaseId: leases[1], ResultDigest: digestA, Salt: salt(p1)}),
		types.ErrReplicationPhase, "resolved")
	e.checkAll()
}

// TestReplicatedOrderClosesOnlyWhenResolved: the buyer cannot close a replicated order while its
// replicas commit or reveal (that would refund it in full for work done); the order closes itself
// at resolution, and the buyer may close an ordinary order whenever it likes.
func TestReplicatedOrderClosesOnlyWhenResolved(t *testing.T) {
	e := setup(t)
	orderID, leases := e.replicatedJob(3, usdc)
	closeOrder := func() error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.mkt.CloseOrder(ctx, &markettypes.MsgCloseOrder{Owner: e.buyer.String(), OrderId: orderID})
			return err
		})
		return err
	}
	refused := func(phase types.ReplicationStatus) {
		t.Helper()
		require.Equal(t, phase, e.replication(orderID).Status)
		gs, bal := e.snapshot()
		before := e.order(orderID)
		err := closeOrder()
		require.ErrorIs(t, err, types.ErrReplicationOpen)
		// Nor lease by lease: the last close would refund the deposit.
		for _, l := range leases {
			_, err := e.Exec(func(ctx sdk.Context) error {
				_, err := e.mkt.CloseLease(ctx, &markettypes.MsgCloseLease{Sender: e.buyer.String(), LeaseId: l})
				return err
			})
			require.ErrorIs(t, err, types.ErrReplicationOpen, "lease %d", l)
		}
		require.Equal(t, before, e.order(orderID))
		for _, l := range leases {
			require.Equal(t, markettypes.LEASE_STATE_ACTIVE, e.marketLease(l).State)
		}
		e.requireUnchanged(gs, bal)
	}
	refused(types.REPLICATION_STATUS_COMMITTING)
	e.NextBlock()
	for i := range leases {
		require.NoError(t, e.commit(e.providers[i], leases[i], digestA))
	}
	r := e.replication(orderID)
	e.finalizeThrough(r.CommitDeadline)
	require.NoError(t, e.reveal(e.providers[0], leases[0], digestA))
	refused(types.REPLICATION_STATUS_REVEALING)
	require.NoError(t, e.reveal(e.providers[1], leases[1], digestA))
	require.NoError(t, e.reveal(e.providers[2], leases[2], digestA))
	require.Equal(t, types.REPLICATION_STATUS_AGREED, e.replication(orderID).Status)
	require.Equal(t, markettypes.ORDER_STATE_CLOSED, e.order(orderID).State)
	require.ErrorIs(t, closeOrder(), markettypes.ErrOrderClosed)

	plain := e.createOrder(slaOrder(e.buyer))
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.mkt.CloseOrder(ctx, &markettypes.MsgCloseOrder{Owner: e.buyer.String(), OrderId: plain})
		return err
	})
	require.NoError(t, err)
	e.checkAll()
}

// TestUnderfundedReplicationSharesFairly: a deposit too small to pay every winner in full is
// shared in proportion to what each is owed; before, the first members took it all and the last
// got nothing for the same work.
func TestUnderfundedReplicationSharesFairly(t *testing.T) {
	e := setup(t)
	m := replicatedOrder(e.buyer, 3)
	m.Requirements.MinProviderBond = usdcCoin(5_000)
	m.Deposit = usdcCoin(price * 5) // about one replica's pay
	id := e.createOrder(m)
	for _, p := range e.providers[:3] {
		e.bond(p, usdcCoin(10_000))
		require.NoError(t, e.bidOn(p, id, price))
	}
	e.clear(id)
	leases := e.leasesOf(id)
	require.Len(t, leases, 3)
	start := e.marketLease(leases[0]).StartHeight
	e.runJob(id, leases, [][]byte{digestA, digestA, digestA})
	owed := price * (e.Height() - start)
	require.Greater(t, 3*owed, int64(price*5), "the deposit does not cover the three")

	r := e.replication(id)
	require.Equal(t, types.REPLICATION_STATUS_AGREED, r.Status)
	each := amt(price * 5).MulRaw(owed).QuoRaw(3 * owed) // floor(owed * funds / total)
	require.True(t, each.IsPositive())
	for i, mem := range r.Members {
		require.Equal(t, usdcCoin(each.Int64()), mem.Paid, "replica %d", i)
		require.Equal(t, each, e.stream(leases[i]).Earned)
	}
	e.checkAll()
}
