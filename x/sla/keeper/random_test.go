package keeper_test

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"

	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// TestRandomizedWithBonds runs random bonds, unbondings, orders (windowed and replicated), bids,
// reports (meeting and breaching the terms, or none), receipt batches, disputes and votes,
// commit-reveals, closes and withdrawals over a few hundred blocks. After every block: every
// market, escrow and x/sla invariant holds, bank's supply matches all balances (no coin of any
// denom appears or vanishes outside minting), no uusdc was created or lost, and no queue entry
// was left behind at a height already finalised. Every refused message fails with a registered
// error.
func TestRandomizedWithBonds(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runRandom(t, seed, 300) })
	}
}

type randomRun struct {
	*env
	r       *rand.Rand
	buyers  []sdk.AccAddress
	digests map[uint64][]byte // committed digest per replica lease
	stats   map[string]int
}

func runRandom(t *testing.T, seed int64, blocks int) {
	e := setup(t)
	rr := &randomRun{
		env: e, r: rand.New(rand.NewSource(seed)), buyers: []sdk.AccAddress{e.Accounts[0], e.Accounts[9]},
		digests: map[uint64][]byte{}, stats: map[string]int{},
	}
	// Longer commit-reveal phases give the random replicas time to commit and reveal.
	params := e.params()
	params.CommitBlocks, params.RevealBlocks = 6, 6
	e.must(func(ctx sdk.Context) error { return e.App.SLAKeeper.Params.Set(ctx, params) })
	for _, p := range e.providers {
		e.bond(p, usdcCoin(20_000))
		e.bond(p, cmptCoin(20_000))
	}
	supply := e.App.BankKeeper.GetSupply(e.Ctx(), usdc).Amount
	accepted, refused := 0, 0
	for b := 0; b < blocks; b++ {
		for n := rr.r.Intn(10); n > 0; n-- {
			name, op := rr.op()
			if op == nil {
				continue
			}
			if _, err := e.Exec(op); err != nil {
				refused++
				codespace, code, _ := errorsmod.ABCIInfo(err, false)
				require.NotEqual(t, errorsmod.UndefinedCodespace, codespace, "%s: unregistered error: %v", name, err)
				require.NotZero(t, code)
			} else {
				accepted++
				rr.stats[name]++
			}
		}
		e.NextBlock()
		rr.check(supply)
	}
	e.Advance(30) // let windows, disputes, replications and unbondings play out
	rr.check(supply)
	t.Logf("seed %d: %d accepted, %d refused; accepted by kind %v", seed, accepted, refused, rr.stats)
	for _, kind := range []string{"bond", "unbond", "order", "bid", "report", "batch", "dispute", "respond", "vote", "commit", "reveal"} {
		require.Positive(t, rr.stats[kind], "the random mix must exercise %s", kind)
	}
	gs, err := e.App.SLAKeeper.ExportGenesis(e.Ctx())
	require.NoError(t, err)
	var met, breached, missing, lost int
	for _, r := range gs.Reports {
		switch r.Status {
		case types.WINDOW_STATUS_MET:
			met++
		case types.WINDOW_STATUS_BREACHED:
			breached++
		case types.WINDOW_STATUS_MISSING:
			missing++
		case types.WINDOW_STATUS_DISPUTE_LOST:
			lost++
		}
	}
	t.Logf("windows: %d met, %d breached, %d missing, %d lost in dispute; %d replications", met, breached, missing, lost, len(gs.Replications))
	require.Positive(t, met)
	require.Positive(t, breached)
	require.Positive(t, missing)
}

func (rr *randomRun) pick(from []sdk.AccAddress) sdk.AccAddress { return from[rr.r.Intn(len(from))] }

// recent is a recent id from seq, sometimes 0 or one past the last (objects that do not exist).
func (rr *randomRun) recent(seq collections.Sequence) uint64 {
	last, err := seq.Peek(rr.Ctx())
	require.NoError(rr.T, err)
	if rr.r.Intn(12) == 0 {
		return uint64(rr.r.Int63n(int64(last) + 2))
	}
	return uint64(max(1, int64(last)-rr.r.Int63n(8)))
}

// live picks one of ids, or a recent id from seq when there is none or one time in six (so that
// messages about finished or missing objects are sent too).
func (rr *randomRun) live(ids []uint64, seq collections.Sequence) uint64 {
	if len(ids) == 0 || rr.r.Intn(6) == 0 {
		return rr.recent(seq)
	}
	return ids[rr.r.Intn(len(ids))]
}

// queued lists the ids in a height queue: the objects still in play.
func (rr *randomRun) queued(q collections.KeySet[collections.Pair[int64, uint64]]) []uint64 {
	var ids []uint64
	for _, k := range keys(rr.T, rr.Ctx(), q) {
		ids = append(ids, k.K2())
	}
	return ids
}

// activeLeases are the leases x/sla enforces now, in id order: the index is ordered by provider
// address, and the harness draws fresh addresses every run, which must not change what a seed does.
func (rr *randomRun) activeLeases() []uint64 {
	var ids []uint64
	for _, k := range keys(rr.T, rr.Ctx(), rr.App.SLAKeeper.LeasesByProvider) {
		ids = append(ids, k.K2())
	}
	slices.Sort(ids)
	return ids
}

// openOrders are the orders still taking bids.
func (rr *randomRun) openOrders() []uint64 {
	var ids []uint64
	for _, k := range keys(rr.T, rr.Ctx(), rr.App.MarketKeeper.BiddingCloseQueue) {
		ids = append(ids, k.K2())
	}
	return ids
}

func (rr *randomRun) coin(max int64) sdk.Coin {
	if rr.r.Intn(2) == 0 {
		return usdcCoin(1 + rr.r.Int63n(max))
	}
	return cmptCoin(1 + rr.r.Int63n(max))
}

// op draws one message; nil when there is nothing sensible to send.
func (rr *randomRun) op() (string, func(ctx sdk.Context) error) {
	e, r := rr.env, rr.r
	mk := e.App.MarketKeeper
	sk := e.App.SLAKeeper
	switch r.Intn(30) {
	case 0:
		m := &types.MsgBond{Provider: rr.pick(e.providers).String(), Amount: rr.coin(5_000)}
		return "bond", func(ctx sdk.Context) error { _, err := e.srv.Bond(ctx, m); return err }
	case 1:
		m := &types.MsgUnbond{Provider: rr.pick(e.providers).String(), Amount: rr.coin(8_000)}
		return "unbond", func(ctx sdk.Context) error { _, err := e.srv.Unbond(ctx, m); return err }
	case 2:
		return "order", rr.orderOp()
	case 3, 4, 5, 27, 28, 29:
		m := &markettypes.MsgCreateBid{Provider: rr.pick(e.providers).String(), OrderId: rr.live(rr.openOrders(), mk.OrderSeq), PricePerBlock: usdcCoin(1 + r.Int63n(price))}
		return "bid", func(ctx sdk.Context) error { _, err := e.mkt.CreateBid(ctx, m); return err }
	case 6, 7, 8, 9:
		return "report", rr.reportOp()
	case 10:
		lease := rr.live(rr.activeLeases(), mk.LeaseSeq)
		ls, err := sk.Leases.Get(e.Ctx(), lease)
		if err != nil {
			return "batch", nil
		}
		first := ls.LastSequence + 1
		if r.Intn(8) == 0 {
			first = ls.LastSequence + uint64(r.Intn(3)) // an overlap, right, or a gap
		}
		last := first + uint64(r.Intn(1_000))
		m := batchMsg(sdk.MustAccAddressFromBech32(ls.Provider), lease, first, last, root(byte(last)))
		return "batch", func(ctx sdk.Context) error { _, err := e.srv.SubmitReceiptBatch(ctx, m); return err }
	case 11, 12:
		return "dispute", rr.disputeOp()
	case 13, 20, 21:
		id := rr.live(rr.queued(sk.DisputeQueue), sk.DisputeSeq)
		d, err := sk.Disputes.Get(e.Ctx(), id)
		provider := rr.pick(e.providers).String()
		if err == nil && r.Intn(5) > 0 {
			provider = d.Provider
		}
		m := &types.MsgRespondDispute{Provider: provider, DisputeId: id, EvidenceRoot: root(4), Statement: "see logs"}
		return "respond", func(ctx sdk.Context) error { _, err := e.srv.RespondDispute(ctx, m); return err }
	case 14, 22, 23:
		m := &types.MsgVoteDispute{Arbiter: rr.pick(e.arbiters).String(), DisputeId: rr.live(rr.queued(sk.DisputeQueue), sk.DisputeSeq), ForBuyer: r.Intn(2) == 0}
		return "vote", func(ctx sdk.Context) error { _, err := e.srv.VoteDispute(ctx, m); return err }
	case 15, 16, 24, 25, 26:
		return rr.replicaOp()
	default:
		lease := rr.live(rr.activeLeases(), mk.LeaseSeq)
		l, err := mk.Leases.Get(e.Ctx(), lease)
		if err != nil {
			return "withdraw", nil
		}
		if r.Intn(6) == 0 {
			m := &markettypes.MsgCloseLease{Sender: []string{l.Owner, l.Provider}[r.Intn(2)], LeaseId: lease}
			return "close", func(ctx sdk.Context) error { _, err := e.mkt.CloseLease(ctx, m); return err }
		}
		m := &escrowtypes.MsgWithdraw{Payee: l.Provider, LeaseId: lease}
		return "withdraw", func(ctx sdk.Context) error { _, err := e.esc.Withdraw(ctx, m); return err }
	}
}

// disputeOp challenges a judged window of a lease, mostly one judged met.
func (rr *randomRun) disputeOp() func(ctx sdk.Context) error {
	e, r := rr.env, rr.r
	lease := rr.live(rr.activeLeases(), e.App.MarketKeeper.LeaseSeq)
	ls, err := e.App.SLAKeeper.Leases.Get(e.Ctx(), lease)
	if err != nil || ls.NextWindow < 2 {
		return nil
	}
	w := ls.NextWindow - 1 - uint64(r.Int63n(int64(min(ls.NextWindow-1, 3))))
	m := disputeMsg(sdk.MustAccAddressFromBech32(ls.Buyer), lease, w)
	return func(ctx sdk.Context) error { _, err := e.srv.OpenDispute(ctx, m); return err }
}

func (rr *randomRun) orderOp() func(ctx sdk.Context) error {
	e, r := rr.env, rr.r
	buyer := rr.pick(rr.buyers)
	m := slaOrder(buyer)
	m.Sla.WindowBlocks = uint64(2 + r.Intn(5))
	m.Sla.PenaltyBps = uint32(r.Intn(3_000))
	m.Deposit = usdcCoin(2_000 + r.Int63n(30_000))
	m.BiddingWindowBlocks = uint64(5 + r.Intn(3))
	switch r.Intn(4) {
	case 0:
		m.Requirements.MinProviderBond = rr.coin(4_000)
	case 1:
		m.Requirements.MinReputationBps = uint32(3_000 + r.Intn(4_000))
	}
	if r.Intn(4) == 0 {
		m.DurationBlocks = uint64(5 + r.Intn(40))
	}
	if r.Intn(3) == 0 {
		m = replicatedOrder(buyer, uint32(2+r.Intn(2)))
		m.Deposit = usdcCoin(2_000 + r.Int63n(30_000))
	}
	return func(ctx sdk.Context) error { _, err := e.mkt.CreateOrder(ctx, m); return err }
}

// reportOp reports a window that can be reported now, meeting the terms three times in four;
// one time in ten a window that cannot be. Leases whose reportable window draws no report here
// breach as missing.
func (rr *randomRun) reportOp() func(ctx sdk.Context) error {
	e, r := rr.env, rr.r
	lease := rr.live(rr.activeLeases(), e.App.MarketKeeper.LeaseSeq)
	ls, err := e.App.SLAKeeper.Leases.Get(e.Ctx(), lease)
	if err != nil || ls.Terms.WindowBlocks == 0 {
		return nil
	}
	w := uint64(r.Intn(int(ls.NextWindow) + 3))
	if r.Intn(10) > 0 {
		for c := ls.NextWindow; c < ls.NextWindow+3; c++ {
			if types.WindowEnd(ls.StartHeight, ls.Terms.WindowBlocks, c) <= e.Height() {
				w = c
			}
		}
	}
	m := reportMsg(sdk.MustAccAddressFromBech32(ls.Provider), lease, w, r.Intn(4) > 0)
	return func(ctx sdk.Context) error { _, err := e.srv.SubmitSLAReport(ctx, m); return err }
}

// replicaOp commits (digest A three times in four, else B) or reveals what was committed,
// sometimes with the wrong salt.
func (rr *randomRun) replicaOp() (string, func(ctx sdk.Context) error) {
	e, r := rr.env, rr.r
	var replicas []uint64
	for _, id := range rr.queued(e.App.SLAKeeper.ReplicationQueue) {
		rep, err := e.App.SLAKeeper.Replications.Get(e.Ctx(), id)
		require.NoError(rr.T, err)
		for _, m := range rep.Members {
			replicas = append(replicas, m.LeaseId)
		}
	}
	lease := rr.live(replicas, e.App.MarketKeeper.LeaseSeq)
	ls, err := e.App.SLAKeeper.Leases.Get(e.Ctx(), lease)
	if err != nil {
		return "commit", nil
	}
	p := sdk.MustAccAddressFromBech32(ls.Provider)
	if d, ok := rr.digests[lease]; ok {
		s := salt(p)
		if r.Intn(10) == 0 {
			s = []byte("wrong")
		}
		m := &types.MsgRevealResult{Provider: ls.Provider, LeaseId: lease, ResultDigest: d, Salt: s}
		return "reveal", func(ctx sdk.Context) error { _, err := e.srv.RevealResult(ctx, m); return err }
	}
	d := digestA
	if r.Intn(4) == 0 {
		d = digestB
	}
	m := &types.MsgCommitResult{Provider: ls.Provider, LeaseId: lease, Commitment: types.Commitment(d, p, salt(p))}
	return "commit", func(ctx sdk.Context) error {
		_, err := e.srv.CommitResult(ctx, m)
		if err == nil {
			rr.digests[lease] = d
		}
		return err
	}
}

// check asserts every invariant, conservation and queue hygiene after a block.
func (rr *randomRun) check(supply sdkmath.Int) {
	e, t := rr.env, rr.T
	t.Helper()
	e.checkAll()
	ctx := e.Ctx()
	msg, broken := bankkeeper.TotalSupply(e.App.BankKeeper)(ctx)
	require.False(t, broken, msg)
	require.Equal(t, supply, e.App.BankKeeper.GetSupply(ctx, usdc).Amount, "uusdc supply changed")
	total := sdkmath.ZeroInt()
	for _, a := range e.Accounts {
		total = total.Add(e.Balance(a, usdc))
	}
	for _, m := range []string{escrowtypes.ModuleName, markettypes.ModuleName, types.ModuleName, distrtypes.ModuleName} {
		total = total.Add(e.Balance(authtypes.NewModuleAddress(m), usdc))
	}
	require.Equal(t, supply, total, "uusdc outside users, escrow, market, sla and the community pool")

	// Every entry at a finalised height was processed and removed, and each lease has at most one
	// window entry: an active lease with windows exactly one.
	k := e.App.SLAKeeper
	for name, q := range map[string]collections.KeySet[collections.Pair[int64, uint64]]{
		"window": k.WindowQueue, "unbonding": k.UnbondingQueue, "dispute": k.DisputeQueue, "replication": k.ReplicationQueue,
	} {
		for _, key := range keys(t, ctx, q) {
			require.GreaterOrEqual(t, key.K1(), e.Height(), "%s queue entry %v left behind", name, key)
		}
	}
	perLease := map[uint64]int{}
	for _, key := range keys(t, ctx, k.WindowQueue) {
		perLease[key.K2()]++
	}
	leases, err := k.Leases.Iterate(ctx, nil)
	require.NoError(t, err)
	all, err := leases.Values()
	require.NoError(t, err)
	for _, ls := range all {
		require.LessOrEqual(t, perLease[ls.LeaseId], 1, "lease %d", ls.LeaseId)
		if ls.Active && ls.Terms.WindowBlocks > 0 {
			require.Equal(t, 1, perLease[ls.LeaseId], "active lease %d has its next window queued", ls.LeaseId)
		}
	}
}
