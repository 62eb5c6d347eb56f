package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/computed-network/computed/x/market/types"
)

// InitGenesis writes a validated genesis state and rebuilds every index and queue from it.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, seq := range []struct {
		s collections.Sequence
		v uint64
	}{{k.OrderSeq, gs.NextOrderId}, {k.BidSeq, gs.NextBidId}, {k.LeaseSeq, gs.NextLeaseId}} {
		if err := seq.s.Set(ctx, seq.v); err != nil {
			return err
		}
	}
	for _, o := range gs.Orders {
		ownerAddr, err := k.addr(o.Owner, "order owner")
		if err != nil {
			return err
		}
		owner := []byte(ownerAddr)
		if err := k.Orders.Set(ctx, o.Id, o); err != nil {
			return err
		}
		if err := k.OrdersByOwner.Set(ctx, collections.Join(owner, o.Id)); err != nil {
			return err
		}
		if o.State == types.ORDER_STATE_OPEN {
			if err := k.BiddingCloseQueue.Set(ctx, collections.Join(o.BiddingClosesHeight, o.Id)); err != nil {
				return err
			}
		}
	}
	if err := k.recountClearings(ctx); err != nil {
		return err
	}
	for _, b := range gs.Bids {
		providerAddr, err := k.addr(b.Provider, "bid provider")
		if err != nil {
			return err
		}
		provider := []byte(providerAddr)
		if err := k.Bids.Set(ctx, b.Id, b); err != nil {
			return err
		}
		if err := k.BidsByOrder.Set(ctx, collections.Join(b.OrderId, b.Id)); err != nil {
			return err
		}
		if err := k.BidsByProvider.Set(ctx, collections.Join(provider, b.Id)); err != nil {
			return err
		}
		if b.State == types.BID_STATE_OPEN {
			if err := k.LiveBids.Set(ctx, collections.Join(provider, b.Id)); err != nil {
				return err
			}
			if err := k.BidByOrderProvider.Set(ctx, collections.Join(b.OrderId, provider), b.Id); err != nil {
				return err
			}
		}
	}
	for _, l := range gs.Leases {
		ownerAddr, err := k.addr(l.Owner, "lease owner")
		if err != nil {
			return err
		}
		owner := []byte(ownerAddr)
		providerAddr, err := k.addr(l.Provider, "lease provider")
		if err != nil {
			return err
		}
		provider := []byte(providerAddr)
		if err := k.Leases.Set(ctx, l.Id, l); err != nil {
			return err
		}
		for _, err := range []error{
			k.LeasesByOrder.Set(ctx, collections.Join(l.OrderId, l.Id)),
			k.LeasesByOwner.Set(ctx, collections.Join(owner, l.Id)),
			k.LeasesByProvider.Set(ctx, collections.Join(provider, l.Id)),
		} {
			if err != nil {
				return err
			}
		}
		if l.State == types.LEASE_STATE_ACTIVE {
			o, err := k.getOrder(ctx, l.OrderId)
			if err != nil {
				return err
			}
			if err := k.holdGPUs(ctx, provider, o.Requirements); err != nil {
				return err
			}
			if err := k.LiveLeases.Set(ctx, collections.Join(provider, l.Id)); err != nil {
				return err
			}
		}
		if l.State == types.LEASE_STATE_ACTIVE && l.EndHeight != 0 {
			if err := k.LeaseEndQueue.Set(ctx, collections.Join(l.EndHeight, l.Id)); err != nil {
				return err
			}
		}
	}
	for _, e := range gs.Prices {
		if err := k.Prices.Set(ctx, collections.Join3(e.GpuSku, e.Metro, e.Denom), e); err != nil {
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
	if gs.NextOrderId, err = k.OrderSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if gs.NextBidId, err = k.BidSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if gs.NextLeaseId, err = k.LeaseSeq.Peek(ctx); err != nil {
		return nil, err
	}
	err = k.Orders.Walk(ctx, nil, func(_ uint64, o types.Order) (bool, error) {
		gs.Orders = append(gs.Orders, o)
		return false, nil
	})
	if err == nil {
		err = k.Bids.Walk(ctx, nil, func(_ uint64, b types.Bid) (bool, error) {
			gs.Bids = append(gs.Bids, b)
			return false, nil
		})
	}
	if err == nil {
		err = k.Leases.Walk(ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
			gs.Leases = append(gs.Leases, l)
			return false, nil
		})
	}
	if err == nil {
		err = k.Prices.Walk(ctx, nil, func(_ collections.Triple[string, string, string], e types.PriceIndexEntry) (bool, error) {
			gs.Prices = append(gs.Prices, e)
			return false, nil
		})
	}
	return gs, err
}

// recountClearings rebuilds ClearingsAt from the bidding-close queue, in its (height) order.
func (k Keeper) recountClearings(ctx context.Context) error {
	if err := k.ClearingsAt.Clear(ctx, nil); err != nil {
		return err
	}
	counts := map[int64]uint32{}
	var heights []int64
	if err := k.BiddingCloseQueue.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
		if counts[key.K1()] == 0 {
			heights = append(heights, key.K1())
		}
		counts[key.K1()]++
		return false, nil
	}); err != nil {
		return err
	}
	for _, h := range heights { // the queue's order: ascending heights
		if err := k.ClearingsAt.Set(ctx, h, counts[h]); err != nil {
			return err
		}
	}
	return nil
}
