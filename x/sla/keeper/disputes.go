package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/sla/types"
)

// openDispute is MsgOpenDispute: the buyer challenges a window judged met, within the challenge
// period, with its own measurements and a deposit.
func (k Keeper) openDispute(ctx context.Context, msg *types.MsgOpenDispute) (types.Dispute, error) {
	buyer, err := k.addr(msg.Buyer, "buyer")
	if err != nil {
		return types.Dispute{}, err
	}
	ls, err := k.getLeaseSLA(ctx, msg.LeaseId)
	if err != nil {
		return types.Dispute{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Dispute{}, err
	}
	switch {
	case msg.Buyer != ls.Buyer:
		return types.Dispute{}, errorsmod.Wrapf(types.ErrUnauthorized, "only lease %d's buyer %s may dispute it", ls.LeaseId, ls.Buyer)
	case msg.AvailabilityBps > 10_000:
		return types.Dispute{}, errorsmod.Wrapf(types.ErrInvalidReport, "availability_bps %d above 10000", msg.AvailabilityBps)
	case len(msg.EvidenceRoot) != types.RootSize:
		return types.Dispute{}, errorsmod.Wrapf(types.ErrInvalidReport, "evidence_root must be %d bytes, got %d", types.RootSize, len(msg.EvidenceRoot))
	}
	key := collections.Join(ls.LeaseId, msg.Window)
	r, err := k.Reports.Get(ctx, key)
	if err != nil {
		return types.Dispute{}, errorsmod.Wrapf(types.ErrNotDisputable, "window %d of lease %d has no report", msg.Window, ls.LeaseId)
	}
	now := height(ctx)
	switch {
	case r.Status != types.WINDOW_STATUS_MET:
		return types.Dispute{}, errorsmod.Wrapf(types.ErrNotDisputable, "window %d of lease %d is %s; only windows judged met can be disputed", msg.Window, ls.LeaseId, r.Status)
	case r.Disputed:
		return types.Dispute{}, errorsmod.Wrapf(types.ErrNotDisputable, "window %d of lease %d was already disputed", msg.Window, ls.LeaseId)
	case now > r.JudgedHeight+int64(params.DisputeWindowBlocks):
		return types.Dispute{}, errorsmod.Wrapf(types.ErrDisputeWindowEnded, "window %d was judged at %d; disputes were open until %d", msg.Window, r.JudgedHeight, r.JudgedHeight+int64(params.DisputeWindowBlocks))
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, buyer, types.ModuleName, sdk.NewCoins(params.DisputeDeposit)); err != nil {
		return types.Dispute{}, err
	}
	id, err := nextID(ctx, k.DisputeSeq)
	if err != nil {
		return types.Dispute{}, err
	}
	d := types.Dispute{
		Id: id, LeaseId: ls.LeaseId, Window: msg.Window, Buyer: ls.Buyer, Provider: ls.Provider,
		Deposit: params.DisputeDeposit, Status: types.DISPUTE_STATUS_AWAITING_RESPONSE,
		OpenedHeight: now, DeadlineHeight: now + int64(params.DisputeResponseBlocks),
		BuyerEvidence: types.WindowStats{
			Requests: msg.Requests, P95LatencyUs: msg.P95LatencyUs, P99LatencyUs: msg.P99LatencyUs,
			AvailabilityBps: msg.AvailabilityBps, SamplesRoot: msg.EvidenceRoot,
		},
		Penalty: sdk.NewInt64Coin(ls.PricePerBlock.Denom, 0),
	}
	r.Disputed = true
	if err := k.Reports.Set(ctx, key, r); err != nil {
		return d, err
	}
	if err := k.Disputes.Set(ctx, id, d); err != nil {
		return d, err
	}
	if err := k.DisputesByLease.Set(ctx, collections.Join(ls.LeaseId, id)); err != nil {
		return d, err
	}
	if err := k.DisputeQueue.Set(ctx, collections.Join(d.DeadlineHeight, id)); err != nil {
		return d, err
	}
	return d, emit(ctx, &types.EventDisputeOpened{DisputeId: id, LeaseId: ls.LeaseId, Window: msg.Window, Buyer: ls.Buyer, ResponseDeadline: d.DeadlineHeight})
}

func (k Keeper) getDispute(ctx context.Context, id uint64) (types.Dispute, error) {
	d, err := k.Disputes.Get(ctx, id)
	if err != nil {
		return d, errorsmod.Wrapf(types.ErrDisputeNotFound, "dispute %d", id)
	}
	return d, nil
}

// respondDispute is MsgRespondDispute: the provider's answer sends the dispute to the arbiters.
func (k Keeper) respondDispute(ctx context.Context, msg *types.MsgRespondDispute) (int64, error) {
	if _, err := k.addr(msg.Provider, "provider"); err != nil {
		return 0, err
	}
	d, err := k.getDispute(ctx, msg.DisputeId)
	if err != nil {
		return 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	switch {
	case msg.Provider != d.Provider:
		return 0, errorsmod.Wrapf(types.ErrUnauthorized, "only provider %s may answer dispute %d", d.Provider, d.Id)
	case d.Status != types.DISPUTE_STATUS_AWAITING_RESPONSE:
		return 0, errorsmod.Wrapf(types.ErrDisputePhase, "dispute %d is %s", d.Id, d.Status)
	case len(msg.EvidenceRoot) != types.RootSize:
		return 0, errorsmod.Wrapf(types.ErrInvalidReport, "evidence_root must be %d bytes, got %d", types.RootSize, len(msg.EvidenceRoot))
	case len(msg.Statement) > types.MaxStatementSize:
		return 0, errorsmod.Wrapf(types.ErrInvalidReport, "statement is %d bytes, at most %d", len(msg.Statement), types.MaxStatementSize)
	}
	if err := k.DisputeQueue.Remove(ctx, collections.Join(d.DeadlineHeight, d.Id)); err != nil {
		return 0, err
	}
	r, err := k.Reports.Get(ctx, collections.Join(d.LeaseId, d.Window))
	if err != nil {
		return 0, err
	}
	d.ProviderEvidence = r.Stats
	d.ProviderEvidence.SamplesRoot = msg.EvidenceRoot
	d.ProviderStatement = msg.Statement
	d.Status = types.DISPUTE_STATUS_VOTING
	d.DeadlineHeight = height(ctx) + int64(params.DisputeVoteBlocks)
	if err := k.Disputes.Set(ctx, d.Id, d); err != nil {
		return 0, err
	}
	if err := k.DisputeQueue.Set(ctx, collections.Join(d.DeadlineHeight, d.Id)); err != nil {
		return 0, err
	}
	return d.DeadlineHeight, emit(ctx, &types.EventDisputeResponded{DisputeId: d.Id, VoteDeadline: d.DeadlineHeight})
}

// voteDispute is MsgVoteDispute. A side that holds a strict majority of the arbiters wins at once
// (tally). An arbiter who is the dispute's buyer or provider may not vote on it.
func (k Keeper) voteDispute(ctx context.Context, msg *types.MsgVoteDispute) (bool, error) {
	if _, err := k.addr(msg.Arbiter, "arbiter"); err != nil {
		return false, err
	}
	d, err := k.getDispute(ctx, msg.DisputeId)
	if err != nil {
		return false, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return false, err
	}
	if !params.IsArbiter(msg.Arbiter) {
		return false, errorsmod.Wrapf(types.ErrNotArbiter, "%s", msg.Arbiter)
	}
	if msg.Arbiter == d.Buyer || msg.Arbiter == d.Provider {
		return false, errorsmod.Wrapf(types.ErrNotArbiter, "%s is a party to dispute %d", msg.Arbiter, d.Id)
	}
	if d.Status != types.DISPUTE_STATUS_VOTING {
		return false, errorsmod.Wrapf(types.ErrDisputePhase, "dispute %d is %s", d.Id, d.Status)
	}
	for _, v := range append(append([]string{}, d.VotersForBuyer...), d.VotersForProvider...) {
		if v == msg.Arbiter {
			return false, errorsmod.Wrapf(types.ErrAlreadyVoted, "%s on dispute %d", msg.Arbiter, d.Id)
		}
	}
	if msg.ForBuyer {
		d.VotersForBuyer = append(d.VotersForBuyer, msg.Arbiter)
	} else {
		d.VotersForProvider = append(d.VotersForProvider, msg.Arbiter)
	}
	if err := k.Disputes.Set(ctx, d.Id, d); err != nil {
		return false, err
	}
	if err := emit(ctx, &types.EventDisputeVoted{DisputeId: d.Id, Arbiter: msg.Arbiter, ForBuyer: msg.ForBuyer}); err != nil {
		return false, err
	}
	forBuyer, forProvider, seats := tally(d, params)
	switch {
	case forBuyer > seats/2:
		return true, k.resolveDispute(ctx, d, true, "arbiters' majority")
	case forProvider > seats/2:
		return true, k.resolveDispute(ctx, d, false, "arbiters' majority")
	}
	return false, nil
}

// tally counts a dispute's votes as the arbiter set stands now: governance may change the set
// while a vote runs, and a vote cast by an arbiter it removed (a compromised key, say) must not
// count toward a majority of the set that replaced it. seats is the arbiters who may vote on
// it, the dispute's own buyer and provider excluded.
func tally(d types.Dispute, params types.Params) (forBuyer, forProvider, seats int) {
	for _, a := range params.Arbiters {
		if a != d.Buyer && a != d.Provider {
			seats++
		}
	}
	for _, v := range d.VotersForBuyer {
		if params.IsArbiter(v) {
			forBuyer++
		}
	}
	for _, v := range d.VotersForProvider {
		if params.IsArbiter(v) {
			forProvider++
		}
	}
	return forBuyer, forProvider, seats
}

// disputeDeadline runs in EndBlock at a dispute's deadline: an unanswered dispute goes to the
// buyer; a voted one to the side with more votes of current arbiters (a tie, or no vote, leaves
// the verdict standing).
func (k Keeper) disputeDeadline(ctx context.Context, id uint64) error {
	d, err := k.getDispute(ctx, id)
	if err != nil {
		return err
	}
	switch d.Status {
	case types.DISPUTE_STATUS_AWAITING_RESPONSE:
		return k.resolveDispute(ctx, d, true, "provider did not answer")
	case types.DISPUTE_STATUS_VOTING:
		params, err := k.Params.Get(ctx)
		if err != nil {
			return err
		}
		forBuyer, forProvider, _ := tally(d, params)
		return k.resolveDispute(ctx, d, forBuyer > forProvider, "vote deadline")
	}
	return k.DisputeQueue.Remove(ctx, collections.Join(d.DeadlineHeight, d.Id))
}

// resolveDispute settles a dispute. Buyer wins: its deposit back, the window's penalty from the
// provider's bond, the window recorded as lost and counted as a breach. Provider wins: the
// buyer's deposit goes to the provider for its trouble.
func (k Keeper) resolveDispute(ctx context.Context, d types.Dispute, buyerWins bool, reason string) error {
	if err := k.DisputeQueue.Remove(ctx, collections.Join(d.DeadlineHeight, d.Id)); err != nil {
		return err
	}
	buyer, err := k.addr(d.Buyer, "buyer")
	if err != nil {
		return err
	}
	provider, err := k.addr(d.Provider, "provider")
	if err != nil {
		return err
	}
	outcome := types.DISPUTE_STATUS_PROVIDER_WON
	if buyerWins {
		outcome = types.DISPUTE_STATUS_BUYER_WON
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, buyer, sdk.NewCoins(d.Deposit)); err != nil {
			return err
		}
		key := collections.Join(d.LeaseId, d.Window)
		r, err := k.Reports.Get(ctx, key)
		if err != nil {
			return err
		}
		ls, err := k.getLeaseSLA(ctx, d.LeaseId)
		if err != nil {
			return err
		}
		since := types.WindowStart(ls.StartHeight, ls.Terms.WindowBlocks, d.Window)
		if d.Penalty, err = k.breach(ctx, d.LeaseId, "dispute lost", since); err != nil {
			return err
		}
		// The window no longer counts as met (read after breach, which may have closed the lease).
		ls, err = k.getLeaseSLA(ctx, d.LeaseId)
		if err != nil {
			return err
		}
		if ls.WindowsMet > 0 {
			ls.WindowsMet--
		}
		if err := k.Leases.Set(ctx, ls.LeaseId, ls); err != nil {
			return err
		}
		r.Status, r.Penalty = types.WINDOW_STATUS_DISPUTE_LOST, d.Penalty
		if err := k.Reports.Set(ctx, key, r); err != nil {
			return err
		}
	} else if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, provider, sdk.NewCoins(d.Deposit)); err != nil {
		return err
	}
	d.Status, d.ResolvedHeight = outcome, height(ctx)
	if err := k.Disputes.Set(ctx, d.Id, d); err != nil {
		return err
	}
	return emit(ctx, &types.EventDisputeResolved{DisputeId: d.Id, Outcome: outcome.String(), Reason: reason, Penalty: d.Penalty.String()})
}
