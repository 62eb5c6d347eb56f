package daemon

import (
	"context"
	"time"

	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/exec"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// handleBlock reacts to one block's events, then ticks every running lease, then moves the
// cursor. Because the cursor moves last, a crash re-handles the block: every reaction is
// idempotent (a second bid on an order is refused by the engine's reservation or the chain,
// a running lease is re-attached, an anchored batch is recognised).
//
// A chain query a reaction needs is tried again while the node cannot be reached, holding the
// watcher at this block: a dropped connection must not lose an order or a won lease. When ctx
// ends meanwhile, the block is left unhandled (the cursor stays) for the next start.
func (d *Daemon) handleBlock(ctx context.Context, b chain.Block) error {
	d.height.Store(b.Height)
	d.raiseHead(b.Height)
	d.metrics.Height.Set(float64(b.Height))
	for _, ev := range b.Events {
		switch e := ev.(type) {
		case *markettypes.EventOrderCreated:
			mq := markettypes.NewQueryClient(d.chain.Context())
			res, err := ask(ctx, d, "query_order", func() (*markettypes.QueryOrderResponse, error) {
				return mq.Order(ctx, &markettypes.QueryOrderRequest{Id: e.OrderId})
			})
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil: // closed in the same block, say
				d.log.Info("not bidding", "order", e.OrderId, "reason", "order unreadable: "+err.Error())
			default:
				d.considerOrder(ctx, res.Order)
			}
		case *markettypes.EventBidCreated:
			if e.Provider == d.provider {
				d.mu.Lock()
				d.bids[e.BidId] = e.OrderId
				d.mu.Unlock()
				if len(d.engine.Held(e.OrderId)) == 0 {
					d.adoptLateBid(ctx, e.BidId, e.OrderId)
				}
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
				d.runLease(ctx, e.LeaseId, "start lease")
			}
		case *markettypes.EventLeaseClosed:
			d.mu.Lock()
			run := d.leases[e.LeaseId]
			d.mu.Unlock()
			if run != nil {
				d.finishLease(context.WithoutCancel(ctx), e.LeaseId, run, b.Height)
				d.withdraw(context.WithoutCancel(ctx), e.LeaseId)
			}
		case *slatypes.EventReceiptBatchAnchored:
			if d.ownsLease(e.LeaseId) {
				if err := d.batcher.Acked(e.LeaseId, e.FirstSequence, b.Height); err != nil {
					d.log.Warn("batch ack", "lease", e.LeaseId, "err", err)
				}
			}
		}
	}
	for _, r := range d.runningLeases() {
		d.tickLease(context.WithoutCancel(ctx), r, b.Height)
	}
	if b.Height%50 == 0 {
		d.renewAttestation(ctx)
	}
	if ctx.Err() != nil {
		return ctx.Err() // a reaction may have been cut short: handle the block again next start
	}
	return d.store.SetCursor(b.Height)
}

// renewAttestation re-attests beside the watcher, once at a time. Attesting waits for two
// transactions in turn (challenge, then evidence), several blocks, and the watcher must not: the
// SLA reports and reveals it queues have deadlines a few blocks away.
func (d *Daemon) renewAttestation(ctx context.Context) {
	if !d.renewing.CompareAndSwap(false, true) {
		return // the last renewal is still waiting for its transactions
	}
	renew := d.renew
	if renew == nil {
		renew = d.ensureAttested
	}
	go func() {
		defer d.renewing.Store(false)
		if err := renew(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("re-attest", "err", err)
		}
	}()
}

// adoptLateBid reserves GPUs for a bid of ours that holds none: one sent before a restart that
// landed after the restart adopted the open bids. It may still win, and its GPUs must not be
// promised to another order meanwhile.
func (d *Daemon) adoptLateBid(ctx context.Context, bidID, orderID uint64) {
	res, err := markettypes.NewQueryClient(d.chain.Context()).Order(ctx, &markettypes.QueryOrderRequest{Id: orderID})
	if err != nil {
		d.log.Warn("order of a bid sent before the restart unreadable; its GPUs stay unreserved", "bid", bidID, "order", orderID, "err", err)
		return
	}
	if res.Order.State != markettypes.ORDER_STATE_OPEN {
		return // a replayed block: the bid has been settled since
	}
	if _, ok := d.engine.Adopt(res.Order); !ok {
		d.log.Warn("open bid kept without GPUs: too few free", "bid", bidID, "order", orderID, "needs", res.Order.Requirements.GpuCount)
	}
}

// raiseHead moves the head up to h (the watcher and a stall's charge both learn heights).
func (d *Daemon) raiseHead(h int64) {
	for {
		cur := d.head.Load()
		if h <= cur || d.head.CompareAndSwap(cur, h) {
			return
		}
	}
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
	// A lease won for a module or image that is not here could not run: no bid.
	if drv, workload, digest := d.workloadOf(o.Workload); drv != nil {
		if c, ok := drv.(exec.Checker); ok {
			// Bounded: the watcher waits on this, and an engine that hangs must not stall it.
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.Check(cctx, workload, digest)
			cancel()
			if err != nil {
				d.engine.Release(o.Id)
				d.metrics.BidsSkipped.Inc()
				d.log.Info("not bidding", "order", o.Id, "reason", "workload: "+err.Error())
				return
			}
		}
	}
	d.log.Info("bidding", "order", o.Id, "price", dec.Price.String(), "gpus", len(dec.GPUs))
	d.mu.Lock()
	d.inflight[o.Id]++
	d.mu.Unlock()
	// Sent again while the node is unreachable and the bid can still land before bidding
	// closes: after, the chain refuses it, and a refused transaction still pays its fee.
	open := func() bool { return d.head.Load() < o.BiddingClosesHeight }
	d.queueRetrying("bid", open, func(_ *chain.Result, err error) {
		d.mu.Lock()
		if d.inflight[o.Id]--; d.inflight[o.Id] <= 0 {
			delete(d.inflight, o.Id)
		}
		d.mu.Unlock()
		switch {
		case err == nil:
			d.metrics.Bids.Inc()
		case containsErr(err, markettypes.ErrDuplicateBid) && d.keepOpenBid(ctx, o.Id):
			// A bid of ours is already open (sent before a crash, landed after the restart
			// began): it may still win, so its GPUs stay reserved.
		case d.orderRunning(o.Id):
			// A resend refused because the first copy landed and won (bidding has closed):
			// the GPUs are the lease's now.
		default:
			d.engine.Release(o.Id)
		}
	}, &markettypes.MsgCreateBid{Provider: d.provider, OrderId: o.Id, PricePerBlock: dec.Price})
}

// keepOpenBid finds this provider's open bid on the order and keeps it (keepBid); false if
// there is none (or it cannot be read).
func (d *Daemon) keepOpenBid(ctx context.Context, orderID uint64) bool {
	bidID, err := d.openBid(ctx, orderID)
	if err != nil || bidID == 0 {
		return false
	}
	d.keepBid(bidID, orderID)
	return true
}

// keepBid tracks an open bid this run did not place, whose GPUs the engine holds for its
// order, so that its loss releases them.
func (d *Daemon) keepBid(bidID, orderID uint64) {
	d.mu.Lock()
	d.bids[bidID] = orderID
	d.mu.Unlock()
	d.log.Info("open bid kept", "bid", bidID, "order", orderID, "gpus", len(d.engine.Held(orderID)))
}

// openBid is the id of this provider's open bid on the order, 0 if there is none.
func (d *Daemon) openBid(ctx context.Context, orderID uint64) (uint64, error) {
	mq := markettypes.NewQueryClient(d.chain.Context())
	res, err := ask(ctx, d, "query_bids", func() (*markettypes.QueryBidsResponse, error) {
		return mq.Bids(ctx, &markettypes.QueryBidsRequest{OrderId: orderID, Provider: d.provider, State: markettypes.BID_STATE_OPEN})
	})
	if err != nil {
		return 0, err
	}
	if len(res.Bids) == 0 {
		return 0, nil
	}
	return res.Bids[0].Id, nil
}

// standingFails says why the provider's bond or reputation cannot meet req ("" if they can).
func (d *Daemon) standingFails(ctx context.Context, req markettypes.Requirements) string {
	if req.MinReputationBps > 0 {
		sq := slatypes.NewQueryClient(d.chain.Context())
		r, err := ask(ctx, d, "query_reputation", func() (*slatypes.QueryReputationResponse, error) {
			return sq.Reputation(ctx, &slatypes.QueryReputationRequest{Provider: d.provider})
		})
		if err != nil {
			return "reputation unreadable: " + err.Error()
		}
		if r.ScoreBps < req.MinReputationBps {
			return "reputation below the order's minimum"
		}
	}
	if min := req.MinProviderBond; min.Denom != "" && min.IsPositive() {
		sq := slatypes.NewQueryClient(d.chain.Context())
		b, err := ask(ctx, d, "query_bond", func() (*slatypes.QueryBondResponse, error) {
			return sq.Bond(ctx, &slatypes.QueryBondRequest{Provider: d.provider})
		})
		if err != nil {
			return "bond unreadable: " + err.Error()
		}
		if b.Bond.Bonded.AmountOf(min.Denom).Sub(b.Bond.Locked.AmountOf(min.Denom)).LT(min.Amount) {
			return "free bond below the order's minimum " + min.String()
		}
	}
	return ""
}

// ask runs a chain query, asking again while the node cannot be reached (chain.Transient):
// a reaction to a block must not be lost to a dropped connection. Each such failure counts
// under what. It returns the node's answer, or ctx's error once ctx has ended.
func ask[T any](ctx context.Context, d *Daemon, what string, q func() (T, error)) (T, error) {
	var res T
	err := d.retrying(ctx, what, func() (err error) {
		if res, err = q(); chain.Transient(err) {
			d.metrics.ChainErrors.WithLabelValues(what).Inc()
		}
		return err
	})
	return res, err
}

// retrying calls fn again, backing off, while it fails because the node cannot be reached,
// logging the first and every tenth failure. It returns fn's last error, or ctx's.
func (d *Daemon) retrying(ctx context.Context, what string, fn func() error) error {
	return chain.Retry(ctx, chain.DefaultBackoff, func(attempt int, err error) {
		if attempt == 1 || attempt%10 == 0 {
			d.log.Warn("node unreachable, retrying", "what", what, "attempt", attempt, "err", err)
		}
	}, fn)
}
