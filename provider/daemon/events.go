package daemon

import (
	"context"

	"github.com/computed-network/computed/provider/chain"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// handleBlock reacts to one block's events, then ticks every running lease, then moves the
// cursor. Because the cursor moves last, a crash re-handles the block: every reaction is
// idempotent (a second bid on an order is refused by the engine's reservation or the chain,
// a running lease is re-attached, an anchored batch is recognised).
func (d *Daemon) handleBlock(b chain.Block) error {
	ctx := context.Background()
	d.height.Store(b.Height)
	if b.Height > d.head.Load() {
		d.head.Store(b.Height)
	}
	d.metrics.Height.Set(float64(b.Height))
	for _, ev := range b.Events {
		switch e := ev.(type) {
		case *markettypes.EventOrderCreated:
			mq := markettypes.NewQueryClient(d.chain.Context())
			res, err := mq.Order(ctx, &markettypes.QueryOrderRequest{Id: e.OrderId})
			if err == nil {
				d.considerOrder(ctx, res.Order)
			}
		case *markettypes.EventBidCreated:
			if e.Provider == d.provider {
				d.mu.Lock()
				d.bids[e.BidId] = e.OrderId
				d.mu.Unlock()
			}
		case *markettypes.EventBidClosed:
			d.mu.Lock()
			order, ours := d.bids[e.BidId]
			delete(d.bids, e.BidId)
			d.mu.Unlock()
			if ours && e.State != markettypes.BID_STATE_WON.String() {
				d.engine.Release(order)
				d.log.Info("bid lost", "bid", e.BidId, "order", order, "state", e.State)
			}
		case *markettypes.EventLeaseCreated:
			if e.Provider == d.provider {
				d.metrics.Wins.Inc()
				if err := d.startLease(ctx, e.LeaseId); err != nil {
					d.log.Error("start lease", "lease", e.LeaseId, "err", err)
				}
			}
		case *markettypes.EventLeaseClosed:
			d.mu.Lock()
			run := d.leases[e.LeaseId]
			d.mu.Unlock()
			if run != nil {
				d.finishLease(ctx, e.LeaseId, run)
			}
		case *slatypes.EventReceiptBatchAnchored:
			if d.ownsLease(e.LeaseId) {
				if err := d.batcher.Acked(e.LeaseId, e.FirstSequence, b.Height); err != nil {
					d.log.Warn("batch ack", "lease", e.LeaseId, "err", err)
				}
			}
		}
	}
	d.mu.Lock()
	runs := make([]*leaseRun, 0, len(d.leases))
	for _, r := range d.leases {
		runs = append(runs, r)
	}
	d.mu.Unlock()
	for _, r := range runs {
		d.tickLease(ctx, r, b.Height)
	}
	if b.Height%50 == 0 {
		if err := d.ensureAttested(ctx); err != nil {
			d.log.Error("re-attest", "err", err)
		}
	}
	return d.store.SetCursor(b.Height)
}

func (d *Daemon) ownsLease(id uint64) bool {
	rec, err := d.store.GetLease(id)
	return err == nil && rec.LeaseID == id
}

// considerOrder asks the bid engine and bids when it says so. Bond and reputation are the
// chain's to know, so they are checked here first: a bid the chain would refuse costs fees.
func (d *Daemon) considerOrder(ctx context.Context, o markettypes.Order) {
	if o.Owner == d.provider {
		return
	}
	if why := d.standingFails(ctx, o.Requirements); why != "" {
		d.metrics.BidsSkipped.Inc()
		d.log.Info("not bidding", "order", o.Id, "reason", why)
		return
	}
	dec := d.engine.Evaluate(o)
	if !dec.Bid {
		d.metrics.BidsSkipped.Inc()
		d.log.Info("not bidding", "order", o.Id, "reason", dec.Reason)
		return
	}
	d.log.Info("bidding", "order", o.Id, "price", dec.Price.String(), "gpus", len(dec.GPUs))
	d.queue("bid", func(_ *chain.Result, err error) {
		if err != nil {
			d.engine.Release(o.Id)
			return
		}
		d.metrics.Bids.Inc()
	}, &markettypes.MsgCreateBid{Provider: d.provider, OrderId: o.Id, PricePerBlock: dec.Price})
}

// standingFails says why the provider's bond or reputation cannot meet req ("" if they can).
func (d *Daemon) standingFails(ctx context.Context, req markettypes.Requirements) string {
	sq := slatypes.NewQueryClient(d.chain.Context())
	if req.MinReputationBps > 0 {
		r, err := sq.Reputation(ctx, &slatypes.QueryReputationRequest{Provider: d.provider})
		if err != nil || r.ScoreBps < req.MinReputationBps {
			return "reputation below the order's minimum"
		}
	}
	if min := req.MinProviderBond; min.Denom != "" && min.IsPositive() {
		b, err := sq.Bond(ctx, &slatypes.QueryBondRequest{Provider: d.provider})
		if err != nil || b.Bond.Bonded.AmountOf(min.Denom).Sub(b.Bond.Locked.AmountOf(min.Denom)).LT(min.Amount) {
			return "free bond below the order's minimum " + min.String()
		}
	}
	return ""
}
