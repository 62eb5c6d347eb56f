package types

import errorsmod "cosmossdk.io/errors"

// DefaultGenesis is the state a fresh chain starts with.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks a genesis state before it is written to the store: params, unique ids below
// the next-id counters, and references between orders, bids and leases.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidGenesis, err.Error())
	}
	orders := map[uint64]bool{}
	for _, o := range gs.Orders {
		if o.Id == 0 || o.Id > gs.NextOrderId || orders[o.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order id %d duplicate or beyond next_order_id %d", o.Id, gs.NextOrderId)
		}
		// The rules an order was created under hold for an imported one too: replicas = 0
		// cleared to an ACTIVE order with no lease that never closed, and a nil price panicked
		// the next bid. (A replicated job with a duration is refused here as well.) The deposit
		// lives in x/escrow; the price stands in for it.
		if err := (&MsgCreateOrder{
			Owner: o.Owner, Requirements: o.Requirements, MaxPricePerBlock: o.MaxPricePerBlock, DurationBlocks: o.DurationBlocks,
			BiddingWindowBlocks: o.BiddingWindowBlocks, Policy: o.Policy, Sla: o.Sla, Workload: o.Workload, Replicas: o.Replicas,
			Deposit: o.MaxPricePerBlock,
		}).ValidateStateless(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order %d: %v", o.Id, err)
		}
		if _, ok := OrderState_name[int32(o.State)]; !ok || o.State == ORDER_STATE_UNSPECIFIED {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order %d: state %d", o.Id, o.State)
		}
		orders[o.Id] = true
	}
	bids := map[uint64]bool{}
	type orderProvider struct {
		order    uint64
		provider string
	}
	open := map[orderProvider]bool{}
	for _, b := range gs.Bids {
		if b.Id == 0 || b.Id > gs.NextBidId || bids[b.Id] || !orders[b.OrderId] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d duplicate, beyond next_bid_id or of unknown order %d", b.Id, b.OrderId)
		}
		bids[b.Id] = true
		if err := ValidateCoin(b.PricePerBlock); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d: price_per_block: %v", b.Id, err)
		}
		if _, ok := BidState_name[int32(b.State)]; !ok || b.State == BID_STATE_UNSPECIFIED {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d: state %d", b.Id, b.State)
		}
		if b.State == BID_STATE_OPEN {
			// One open bid per provider per order: the open-bid index, from which clearing
			// settles them, holds one, and a second would never be settled.
			k := orderProvider{b.OrderId, b.Provider}
			if open[k] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d: %s already has an open bid on order %d", b.Id, b.Provider, b.OrderId)
			}
			open[k] = true
		}
	}
	leases := map[uint64]bool{}
	for _, l := range gs.Leases {
		if l.Id == 0 || l.Id > gs.NextLeaseId || leases[l.Id] || !orders[l.OrderId] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d duplicate, beyond next_lease_id or of unknown order %d", l.Id, l.OrderId)
		}
		leases[l.Id] = true
		if err := ValidateCoin(l.PricePerBlock); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: price_per_block: %v", l.Id, err)
		}
		if _, ok := LeaseState_name[int32(l.State)]; !ok || l.State == LEASE_STATE_UNSPECIFIED {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d: state %d", l.Id, l.State)
		}
	}
	return nil
}
