package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// getLeaseSLA returns the SLA state of a lease.
func (k Keeper) getLeaseSLA(ctx context.Context, id uint64) (types.LeaseSLA, error) {
	ls, err := k.Leases.Get(ctx, id)
	if err != nil {
		return ls, errorsmod.Wrapf(types.ErrLeaseNotFound, "lease %d", id)
	}
	return ls, nil
}

// closedAt is the height the lease closed at, or 0 while it is active.
func (k Keeper) closedAt(ctx context.Context, ls types.LeaseSLA) (int64, error) {
	if ls.Active {
		return 0, nil
	}
	m, err := k.mkt()
	if err != nil {
		return 0, err
	}
	l, err := m.GetLease(ctx, ls.LeaseId)
	if err != nil {
		return 0, err
	}
	return l.ClosedHeight, nil
}

// submitReport is MsgSubmitSLAReport: one report per window, taken from the window's last block
// until its deadline, judged in the deadline's EndBlock.
func (k Keeper) submitReport(ctx context.Context, msg *types.MsgSubmitSLAReport) (int64, error) {
	if _, err := k.addr(msg.Provider, "provider"); err != nil {
		return 0, err
	}
	ls, err := k.getLeaseSLA(ctx, msg.LeaseId)
	if err != nil {
		return 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	switch {
	case msg.Provider != ls.Provider:
		return 0, errorsmod.Wrapf(types.ErrUnauthorized, "only lease %d's provider %s may report it", ls.LeaseId, ls.Provider)
	case ls.Terms.WindowBlocks == 0:
		return 0, errorsmod.Wrapf(types.ErrNoSLA, "lease %d", ls.LeaseId)
	case msg.Window == 0:
		return 0, errorsmod.Wrap(types.ErrInvalidReport, "windows count from 1")
	case msg.Window < ls.NextWindow:
		return 0, errorsmod.Wrapf(types.ErrWindowNotOpen, "window %d of lease %d was already judged", msg.Window, ls.LeaseId)
	case msg.AvailabilityBps > 10_000:
		return 0, errorsmod.Wrapf(types.ErrInvalidReport, "availability_bps %d above 10000", msg.AvailabilityBps)
	case msg.P99LatencyUs < msg.P95LatencyUs:
		return 0, errorsmod.Wrapf(types.ErrInvalidReport, "p99 %d µs below p95 %d µs", msg.P99LatencyUs, msg.P95LatencyUs)
	case len(msg.SamplesRoot) != types.RootSize:
		return 0, errorsmod.Wrapf(types.ErrInvalidReport, "samples_root must be %d bytes, got %d", types.RootSize, len(msg.SamplesRoot))
	}
	now := height(ctx)
	end := types.WindowEnd(ls.StartHeight, ls.Terms.WindowBlocks, msg.Window)
	due := end + int64(params.ReportGraceBlocks)
	if now < end {
		return 0, errorsmod.Wrapf(types.ErrReportFromFuture, "window %d of lease %d ends at height %d, now %d", msg.Window, ls.LeaseId, end, now)
	}
	if now > due {
		return 0, errorsmod.Wrapf(types.ErrReportTooLate, "window %d of lease %d was due by height %d, now %d", msg.Window, ls.LeaseId, due, now)
	}
	closed, err := k.closedAt(ctx, ls)
	if err != nil {
		return 0, err
	}
	if closed != 0 && end > closed {
		return 0, errorsmod.Wrapf(types.ErrLeaseClosed, "lease %d closed at %d, before window %d ended", ls.LeaseId, closed, msg.Window)
	}
	key := collections.Join(ls.LeaseId, msg.Window)
	if has, err := k.Reports.Has(ctx, key); err != nil {
		return 0, err
	} else if has {
		return 0, errorsmod.Wrapf(types.ErrDuplicateReport, "window %d of lease %d", msg.Window, ls.LeaseId)
	}
	r := types.SLAReport{
		LeaseId: ls.LeaseId, Window: msg.Window, SubmittedHeight: now, Status: types.WINDOW_STATUS_REPORTED,
		Stats: types.WindowStats{
			Requests: msg.Requests, P95LatencyUs: msg.P95LatencyUs, P99LatencyUs: msg.P99LatencyUs,
			AvailabilityBps: msg.AvailabilityBps, SamplesRoot: msg.SamplesRoot,
		},
		Penalty: sdk.NewInt64Coin(ls.PricePerBlock.Denom, 0),
	}
	if err := k.Reports.Set(ctx, key, r); err != nil {
		return 0, err
	}
	return due, emit(ctx, &types.EventSLAReportSubmitted{
		LeaseId: ls.LeaseId, Window: msg.Window, P95LatencyUs: msg.P95LatencyUs, AvailabilityBps: msg.AvailabilityBps, JudgedAtHeight: due,
	})
}

// judgeWindow runs in the EndBlock of a window's deadline: a report that meets the terms raises
// the provider's reputation; a breaching or missing one pays the buyer the penalty from the bond.
func (k Keeper) judgeWindow(ctx context.Context, leaseID uint64) error {
	ls, err := k.getLeaseSLA(ctx, leaseID)
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	w := ls.NextWindow
	now := height(ctx)
	due := types.WindowDue(ls.StartHeight, ls.Terms.WindowBlocks, w, params.ReportGraceBlocks)
	// The entry being processed sits at this height, or at the window's deadline when it is
	// processed late (imported from genesis). Both go: an entry left behind would be processed
	// again in every later block, judging windows before they end.
	for _, h := range []int64{now, due} {
		if err := k.WindowQueue.Remove(ctx, collections.Join(h, leaseID)); err != nil {
			return err
		}
	}
	if due > now {
		// report_grace_blocks grew since the entry was queued: the provider may still report, so
		// the window waits for its deadline under the params in force.
		return k.WindowQueue.Set(ctx, collections.Join(due, leaseID))
	}
	closed, err := k.closedAt(ctx, ls)
	if err != nil {
		return err
	}
	if closed != 0 && types.WindowEnd(ls.StartHeight, ls.Terms.WindowBlocks, w) > closed {
		return nil // the lease ended inside this window: nothing more to judge
	}
	key := collections.Join(leaseID, w)
	r, err := k.Reports.Get(ctx, key)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		r = types.SLAReport{LeaseId: leaseID, Window: w, Status: types.WINDOW_STATUS_MISSING}
	case err != nil:
		return err
	case types.Breaches(ls.Terms, r.Stats):
		r.Status = types.WINDOW_STATUS_BREACHED
	default:
		r.Status = types.WINDOW_STATUS_MET
	}
	r.JudgedHeight = now
	r.Penalty = sdk.NewInt64Coin(ls.PricePerBlock.Denom, 0)
	ls.NextWindow++
	ls.WindowsJudged++
	if r.Status == types.WINDOW_STATUS_MET {
		ls.WindowsMet++
	}
	if err := k.Leases.Set(ctx, leaseID, ls); err != nil {
		return err
	}
	if r.Status == types.WINDOW_STATUS_MET {
		if err := k.recordAttainment(ctx, ls.Provider, 10_000); err != nil {
			return err
		}
	} else {
		if r.Penalty, err = k.breach(ctx, leaseID, "window "+r.Status.String(), types.WindowStart(ls.StartHeight, ls.Terms.WindowBlocks, w)); err != nil {
			return err
		}
	}
	if err := k.Reports.Set(ctx, key, r); err != nil {
		return err
	}
	if ls, err = k.getLeaseSLA(ctx, leaseID); err != nil {
		return err
	}
	if err := emit(ctx, &types.EventWindowJudged{
		LeaseId: leaseID, Window: w, Status: r.Status.String(), Penalty: r.Penalty.String(), Breaches: ls.Breaches,
	}); err != nil {
		return err
	}
	// Schedule the next window unless the lease has closed before it could end.
	if closed, err = k.closedAt(ctx, ls); err != nil {
		return err
	}
	next := ls.NextWindow
	if closed != 0 && types.WindowEnd(ls.StartHeight, ls.Terms.WindowBlocks, next) > closed {
		return nil
	}
	nextDue := types.WindowDue(ls.StartHeight, ls.Terms.WindowBlocks, next, params.ReportGraceBlocks)
	if nextDue <= now {
		// Only if the queue fell behind (a window shorter than the grace period): judge next block.
		nextDue = now + 1
	}
	return k.WindowQueue.Set(ctx, collections.Join(nextDue, leaseID))
}

// breach pays the buyer one window's penalty from the provider's bond, lowers the provider's
// reputation and counts the breach; the breach that reaches the params' count ends the lease.
// since is the height the infraction began (see slash).
func (k Keeper) breach(ctx context.Context, leaseID uint64, reason string, since int64) (sdk.Coin, error) {
	ls, err := k.getLeaseSLA(ctx, leaseID)
	if err != nil {
		return sdk.Coin{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	paid, err := k.payPenalty(ctx, ls, types.WindowPenalty(ls.PricePerBlock, ls.Terms), reason, since)
	if err != nil {
		return sdk.Coin{}, err
	}
	ls.Breaches++
	if err := k.Leases.Set(ctx, leaseID, ls); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.recordAttainment(ctx, ls.Provider, 0); err != nil {
		return sdk.Coin{}, err
	}
	if ls.Active && ls.Breaches >= params.BreachesToTerminate {
		m, err := k.mkt()
		if err != nil {
			return sdk.Coin{}, err
		}
		if err := m.CloseLeaseFor(ctx, leaseID, markettypes.CLOSE_REASON_SLA_TERMINATED); err != nil {
			return sdk.Coin{}, err
		}
		if err := emit(ctx, &types.EventLeaseTerminated{LeaseId: leaseID, Reason: reason, Breaches: ls.Breaches}); err != nil {
			return sdk.Coin{}, err
		}
	}
	return paid, nil
}

// payPenalty moves up to penalty from the lease's provider's bond to its buyer.
func (k Keeper) payPenalty(ctx context.Context, ls types.LeaseSLA, penalty sdk.Coin, reason string, since int64) (sdk.Coin, error) {
	provider, err := k.addr(ls.Provider, "provider")
	if err != nil {
		return sdk.Coin{}, err
	}
	buyer, err := k.addr(ls.Buyer, "buyer")
	if err != nil {
		return sdk.Coin{}, err
	}
	paid, err := k.slash(ctx, provider, buyer, penalty, since)
	if err != nil {
		return sdk.Coin{}, err
	}
	return paid, emit(ctx, &types.EventPenaltyPaid{
		LeaseId: ls.LeaseId, Provider: ls.Provider, Buyer: ls.Buyer, Amount: paid.String(),
		Shortfall: penalty.Sub(paid).String(), Reason: reason,
	})
}

// reputation is provider's score and whether any window of it was judged yet.
func (k Keeper) reputation(ctx context.Context, provider sdk.AccAddress) (uint32, bool, error) {
	score, err := k.Reputation.Get(ctx, provider)
	if errors.Is(err, collections.ErrNotFound) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return 0, false, err
		}
		return params.InitialReputationBps, false, nil
	}
	return score, err == nil, err
}

// recordAttainment folds one window's attainment into the provider's reputation.
func (k Keeper) recordAttainment(ctx context.Context, providerStr string, attainment uint32) error {
	provider, err := k.addr(providerStr, "provider")
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	score, _, err := k.reputation(ctx, provider)
	if err != nil {
		return err
	}
	score = types.NextReputation(score, attainment, params.ReputationWeightBps)
	if err := k.Reputation.Set(ctx, provider, score); err != nil {
		return err
	}
	return emit(ctx, &types.EventReputationUpdated{Provider: providerStr, ScoreBps: score})
}
