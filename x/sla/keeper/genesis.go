package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/computed-network/computed/x/sla/types"
)

// InitGenesis writes a validated genesis state into the store and rebuilds every index and
// queue from the objects, so exports stay small and can never disagree with their indexes.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, b := range gs.Bonds {
		p, err := k.addr(b.Provider, "bond provider")
		if err != nil {
			return err
		}
		if err := k.Bonds.Set(ctx, p, b); err != nil {
			return err
		}
	}
	if err := k.UnbondingSeq.Set(ctx, gs.NextUnbondingId); err != nil {
		return err
	}
	for _, u := range gs.Unbondings {
		p, err := k.addr(u.Provider, "unbonding provider")
		if err != nil {
			return err
		}
		if err := k.putUnbonding(ctx, p, u); err != nil {
			return err
		}
	}
	for _, ls := range gs.Leases {
		if err := k.Leases.Set(ctx, ls.LeaseId, ls); err != nil {
			return err
		}
		if ls.Active {
			p, err := k.addr(ls.Provider, "lease provider")
			if err != nil {
				return err
			}
			if err := k.LeasesByProvider.Set(ctx, collections.Join([]byte(p), ls.LeaseId)); err != nil {
				return err
			}
		}
		if ls.Terms.WindowBlocks == 0 {
			continue
		}
		// A closed lease may still have windows that ended before the close and are judged at
		// their deadlines. The exporting chain had judged every deadline before this height, so
		// a closed lease whose next deadline is past has nothing left; one whose deadline is to
		// come is queued, and judgeWindow drops it then if the lease closed inside the window.
		due := types.WindowDue(ls.StartHeight, ls.Terms.WindowBlocks, ls.NextWindow, gs.Params.ReportGraceBlocks)
		if ls.Active || due >= height(ctx) {
			if err := k.WindowQueue.Set(ctx, collections.Join(due, ls.LeaseId)); err != nil {
				return err
			}
		}
	}
	for _, r := range gs.Reports {
		if err := k.Reports.Set(ctx, collections.Join(r.LeaseId, r.Window), r); err != nil {
			return err
		}
	}
	for _, b := range gs.Batches {
		if err := k.Batches.Set(ctx, collections.Join(b.LeaseId, b.FirstSequence), b); err != nil {
			return err
		}
	}
	if err := k.DisputeSeq.Set(ctx, gs.NextDisputeId); err != nil {
		return err
	}
	for _, d := range gs.Disputes {
		if err := k.Disputes.Set(ctx, d.Id, d); err != nil {
			return err
		}
		if err := k.DisputesByLease.Set(ctx, collections.Join(d.LeaseId, d.Id)); err != nil {
			return err
		}
		if d.Status == types.DISPUTE_STATUS_AWAITING_RESPONSE || d.Status == types.DISPUTE_STATUS_VOTING {
			if err := k.DisputeQueue.Set(ctx, collections.Join(d.DeadlineHeight, d.Id)); err != nil {
				return err
			}
		}
	}
	for _, r := range gs.Replications {
		if err := k.Replications.Set(ctx, r.OrderId, r); err != nil {
			return err
		}
		if r.Status == types.REPLICATION_STATUS_COMMITTING || r.Status == types.REPLICATION_STATUS_REVEALING {
			if err := k.ReplicationQueue.Set(ctx, collections.Join(r.RevealDeadline, r.OrderId)); err != nil {
				return err
			}
		}
	}
	for _, e := range gs.Reputations {
		p, err := k.addr(e.Provider, "reputation provider")
		if err != nil {
			return err
		}
		if err := k.Reputation.Set(ctx, p, e.ScoreBps); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis reads the module's whole state back out, in key order.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if gs.Bonds, err = values(ctx, k.Bonds); err != nil {
		return nil, err
	}
	if gs.Unbondings, err = values(ctx, k.Unbondings); err != nil {
		return nil, err
	}
	if gs.Leases, err = values(ctx, k.Leases); err != nil {
		return nil, err
	}
	if gs.Reports, err = values(ctx, k.Reports); err != nil {
		return nil, err
	}
	if gs.Batches, err = values(ctx, k.Batches); err != nil {
		return nil, err
	}
	if gs.Disputes, err = values(ctx, k.Disputes); err != nil {
		return nil, err
	}
	if gs.Replications, err = values(ctx, k.Replications); err != nil {
		return nil, err
	}
	iter, err := k.Reputation.Iterate(ctx, nil)
	if err != nil {
		return nil, err
	}
	kvs, err := iter.KeyValues()
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		gs.Reputations = append(gs.Reputations, types.ReputationEntry{Provider: k.str(kv.Key), ScoreBps: kv.Value})
	}
	if gs.NextUnbondingId, err = k.UnbondingSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if gs.NextDisputeId, err = k.DisputeSeq.Peek(ctx); err != nil {
		return nil, err
	}
	return gs, nil
}

func values[K, V any](ctx context.Context, m collections.Map[K, V]) ([]V, error) {
	iter, err := m.Iterate(ctx, nil)
	if err != nil {
		return nil, err
	}
	return iter.Values()
}
