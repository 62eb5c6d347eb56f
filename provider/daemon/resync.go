package daemon

import (
	"context"

	"github.com/computed-network/computed/provider/chain"
)

// resync continues after the node pruned heights the watcher had not read yet (the sidecar fell
// further behind than the node keeps blocks: it stood still, or its node prunes hard). As at a
// start after such a gap, it goes on from the node's earliest height (skipPruned) and reads from
// the chain's current state what the skipped blocks said: leases that ended close, bids that
// closed unseen give their GPUs back, won leases start, open orders are considered.
func (d *Daemon) resync(ctx context.Context, pruned *chain.PrunedError) (int64, error) {
	cursor, err := d.skipPruned(ctx, pruned.Height-1)
	if err != nil {
		return 0, err
	}
	if err := d.resume(ctx); err != nil {
		return 0, err
	}
	if err := d.releaseClosedBids(ctx); err != nil {
		return 0, err
	}
	if err := d.catchUp(ctx); err != nil {
		return 0, err
	}
	return cursor, nil
}

// releaseClosedBids frees the GPUs held for orders that no bid of ours still open on chain, no
// bid being sent and no running lease needs: their bids closed in blocks the watcher never read.
func (d *Daemon) releaseClosedBids(ctx context.Context) error {
	// Bids in flight first: one that lands after the listing below was counted here.
	d.mu.Lock()
	needed := map[uint64]bool{}
	for order := range d.inflight {
		needed[order] = true
	}
	for _, r := range d.leases {
		needed[r.rec.OrderID] = true
	}
	d.mu.Unlock()
	bids, err := d.ownOpenBids(ctx)
	if err != nil {
		return err
	}
	open := map[uint64]bool{}
	for _, b := range bids {
		open[b.Id], needed[b.OrderId] = true, true
	}
	d.mu.Lock()
	for bid := range d.bids {
		if !open[bid] {
			delete(d.bids, bid)
		}
	}
	d.mu.Unlock()
	for _, order := range d.engine.Orders() {
		if !needed[order] {
			d.engine.Release(order)
			d.log.Info("bid closed while the sidecar was behind: GPUs released", "order", order)
		}
	}
	return nil
}
