package keeper

import (
	"context"

	"github.com/computed-network/computed/x/internal/heightqueue"
	"github.com/computed-network/computed/x/sla/types"
)

// EndBlocker handles only what is due at this height, each through its height-keyed queue:
// matured unbondings, windows at their report deadline, dispute deadlines and replication
// reveal deadlines. It runs after x/market and x/escrow, so a window's verdict sees the block's
// closes and settlements.
func (k Keeper) EndBlocker(ctx context.Context) error {
	h := height(ctx)
	steps := []struct {
		q    heightqueue.Queue
		what string
		fn   func(context.Context, uint64) error
	}{
		{k.UnbondingQueue, "unbonding", k.completeUnbonding},
		{k.WindowQueue, "sla window", k.judgeWindow},
		{k.DisputeQueue, "dispute deadline", k.disputeDeadline},
		{k.ReplicationQueue, "replication deadline", k.replicationDeadline},
	}
	for _, s := range steps {
		if err := heightqueue.Process(ctx, s.q, h, types.ModuleName, s.what, s.fn); err != nil {
			return err
		}
	}
	return nil
}
