package keeper

import (
	"context"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/market/types"
)

// RegisterInvariants registers x/market's invariants with x/crisis.
func RegisterInvariants(ir sdk.InvariantRegistry, k Keeper) {
	ir.RegisterRoute(types.ModuleName, "bid-deposits", BidDepositsInvariant(k))
	ir.RegisterRoute(types.ModuleName, "order-counters", OrderCountersInvariant(k))
}

// AllInvariants runs every invariant; tests call it after each block.
func AllInvariants(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		for _, inv := range []sdk.Invariant{BidDepositsInvariant(k), OrderCountersInvariant(k)} {
			if msg, broken := inv(ctx); broken {
				return msg, true
			}
		}
		return "", false
	}
}

// HeldDeposits sums the deposits of open bids: all the market module account may hold.
func (k Keeper) HeldDeposits(ctx context.Context) (sdk.Coins, error) {
	held := sdk.NewCoins()
	err := k.Bids.Walk(ctx, nil, func(_ uint64, b types.Bid) (bool, error) {
		if b.State == types.BID_STATE_OPEN {
			held = held.Add(b.Deposit)
		}
		return false, nil
	})
	return held, err
}

// BidDepositsInvariant: the market module account holds exactly the open bids' deposits.
func BidDepositsInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		want, err := k.HeldDeposits(ctx)
		if err != nil {
			return sdk.FormatInvariant(types.ModuleName, "bid-deposits", err.Error()), true
		}
		have := k.bank.GetAllBalances(ctx, k.auth.GetModuleAddress(types.ModuleName))
		return sdk.FormatInvariant(types.ModuleName, "bid-deposits",
			fmt.Sprintf("module account holds %s, open bids deposited %s", have, want)), !have.Equal(want)
	}
}

// OrderCountersInvariant: each order's open-bid and active-lease counters match its bids and leases.
func OrderCountersInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		bids, leases := map[uint64]uint32{}, map[uint64]uint32{}
		_ = k.Bids.Walk(ctx, nil, func(_ uint64, b types.Bid) (bool, error) {
			if b.State == types.BID_STATE_OPEN {
				bids[b.OrderId]++
			}
			return false, nil
		})
		_ = k.Leases.Walk(ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
			if l.State == types.LEASE_STATE_ACTIVE {
				leases[l.OrderId]++
			}
			return false, nil
		})
		msg := ""
		_ = k.Orders.Walk(ctx, nil, func(id uint64, o types.Order) (bool, error) {
			if o.OpenBids != bids[id] || o.ActiveLeases != leases[id] {
				msg = fmt.Sprintf("order %d: counters %d bids / %d leases, actual %d / %d", id, o.OpenBids, o.ActiveLeases, bids[id], leases[id])
				return true, nil
			}
			if o.State == types.ORDER_STATE_CLOSED && (bids[id] != 0 || leases[id] != 0) {
				msg = fmt.Sprintf("closed order %d still has open bids or active leases", id)
				return true, nil
			}
			return false, nil
		})
		return sdk.FormatInvariant(types.ModuleName, "order-counters", msg), msg != ""
	}
}
