package keeper

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/market/types"
)

// RegisterInvariants registers x/market's invariants with x/crisis.
func RegisterInvariants(ir sdk.InvariantRegistry, k Keeper) {
	ir.RegisterRoute(types.ModuleName, "bid-deposits", BidDepositsInvariant(k))
	ir.RegisterRoute(types.ModuleName, "order-counters", OrderCountersInvariant(k))
	ir.RegisterRoute(types.ModuleName, "gpus-leased", GPUsLeasedInvariant(k))
	ir.RegisterRoute(types.ModuleName, "live-indexes", LiveIndexesInvariant(k))
}

// AllInvariants runs every invariant; tests call it after each block.
func AllInvariants(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		for _, inv := range []sdk.Invariant{BidDepositsInvariant(k), OrderCountersInvariant(k), GPUsLeasedInvariant(k), LiveIndexesInvariant(k)} {
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

// GPUsLeasedInvariant: each provider's count of leased GPUs per SKU is what its active leases'
// orders ask for, and no entry outlives them.
func GPUsLeasedInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		want := map[string]uint32{}
		var msg string
		_ = k.Leases.Walk(ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
			if l.State != types.LEASE_STATE_ACTIVE {
				return false, nil
			}
			o, err := k.Orders.Get(ctx, l.OrderId)
			if err != nil {
				msg = fmt.Sprintf("lease %d: order %d: %v", l.Id, l.OrderId, err)
				return true, nil
			}
			p, err := k.addressCodec.StringToBytes(l.Provider)
			if err != nil {
				msg = fmt.Sprintf("lease %d: provider %q: %v", l.Id, l.Provider, err)
				return true, nil
			}
			// Keyed by address bytes, as the count is: a string may spell one address two ways.
			want[string(p)+"/"+o.Requirements.GpuSku] += o.Requirements.GpuCount
			return false, nil
		})
		if msg == "" {
			have := map[string]uint32{}
			_ = k.GPUsLeased.Walk(ctx, nil, func(key collections.Pair[[]byte, string], n uint32) (bool, error) {
				have[string(key.K1())+"/"+key.K2()] = n
				return false, nil
			})
			if len(have) != len(want) {
				msg = fmt.Sprintf("%d (provider, SKU) counts kept, %d with active leases", len(have), len(want))
			}
			keys := make([]string, 0, len(want))
			for key := range want {
				keys = append(keys, key)
			}
			sort.Strings(keys) // the first mismatch reported is the same on every node
			for _, key := range keys {
				if have[key] != want[key] && msg == "" {
					p, sku, _ := strings.Cut(key, "/")
					msg = fmt.Sprintf("%s %s: %d GPUs counted as leased, active leases hold %d", sdk.AccAddress(p), sku, have[key], want[key])
				}
			}
		}
		return sdk.FormatInvariant(types.ModuleName, "gpus-leased", msg), msg != ""
	}
}

// LiveIndexesInvariant: LiveLeases holds exactly the active leases and LiveBids exactly the open
// bids, each under its provider.
func LiveIndexesInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		var msg string
		check := func(what string, idx collections.KeySet[collections.Pair[[]byte, uint64]], id uint64, provider string, live bool) bool {
			p, err := k.addressCodec.StringToBytes(provider)
			if err != nil {
				msg = fmt.Sprintf("%s %d: provider %q: %v", what, id, provider, err)
				return true
			}
			has, err := idx.Has(ctx, collections.Join(p, id))
			if err != nil || has != live {
				msg = fmt.Sprintf("%s %d: live %t, indexed %t (%v)", what, id, live, has, err)
				return true
			}
			return false
		}
		var leases, bids int
		_ = k.Leases.Walk(ctx, nil, func(id uint64, l types.Lease) (bool, error) {
			live := l.State == types.LEASE_STATE_ACTIVE
			if live {
				leases++
			}
			return check("lease", k.LiveLeases, id, l.Provider, live), nil
		})
		if msg == "" {
			_ = k.Bids.Walk(ctx, nil, func(id uint64, b types.Bid) (bool, error) {
				live := b.State == types.BID_STATE_OPEN
				if live {
					bids++
					// Clearing and refunds read an order's open bids from this index.
					p, _ := k.addressCodec.StringToBytes(b.Provider)
					if got, err := k.BidByOrderProvider.Get(ctx, collections.Join(b.OrderId, p)); err != nil || got != id {
						msg = fmt.Sprintf("open bid %d: order %d's open-bid index holds %d (%v)", id, b.OrderId, got, err)
						return true, nil
					}
				}
				return check("bid", k.LiveBids, id, b.Provider, live), nil
			})
		}
		if msg == "" {
			count := func(idx collections.KeySet[collections.Pair[[]byte, uint64]]) int {
				n := 0
				_ = idx.Walk(ctx, nil, func(collections.Pair[[]byte, uint64]) (bool, error) { n++; return false, nil })
				return n
			}
			if n := count(k.LiveLeases); n != leases {
				msg = fmt.Sprintf("%d live lease entries, %d active leases", n, leases)
			} else if n := count(k.LiveBids); n != bids {
				msg = fmt.Sprintf("%d live bid entries, %d open bids", n, bids)
			} else {
				n := 0
				_ = k.BidByOrderProvider.Walk(ctx, nil, func(collections.Pair[uint64, []byte], uint64) (bool, error) { n++; return false, nil })
				if n != bids {
					msg = fmt.Sprintf("%d open-bid index entries, %d open bids", n, bids)
				}
			}
		}
		if msg == "" {
			msg = clearingCounts(ctx, k)
		}
		return sdk.FormatInvariant(types.ModuleName, "live-indexes", msg), msg != ""
	}
}

// clearingCounts checks ClearingsAt against the bidding-close queue, height by height ("" if
// they agree): max_clearings_per_block is only as good as the count.
func clearingCounts(ctx sdk.Context, k Keeper) string {
	queued := map[int64]uint32{}
	_ = k.BiddingCloseQueue.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
		queued[key.K1()]++
		return false, nil
	})
	var msg string
	counted := 0
	_ = k.ClearingsAt.Walk(ctx, nil, func(h int64, n uint32) (bool, error) {
		counted++
		if queued[h] != n {
			msg = fmt.Sprintf("height %d: %d orders counted, %d queued", h, n, queued[h])
			return true, nil
		}
		return false, nil
	})
	if msg == "" && counted != len(queued) {
		msg = fmt.Sprintf("%d heights counted, %d queued", counted, len(queued))
	}
	return msg
}
