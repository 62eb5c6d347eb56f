package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/computed-network/computed/x/market/types"
)

// Keeper owns x/market's state. Every list a query or EndBlock needs has its own index, so no
// operation scans all orders, bids or leases.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	authority    string

	bank   types.BankKeeper
	auth   types.AccountKeeper
	escrow types.EscrowKeeper
	filter types.ProviderFilter
	// hooks is shared by every copy of the keeper, so hooks set after wiring reach them all.
	hooks *hooksHolder

	Schema   collections.Schema
	Params   collections.Item[types.Params]
	Orders   collections.Map[uint64, types.Order]
	Bids     collections.Map[uint64, types.Bid]
	Leases   collections.Map[uint64, types.Lease]
	OrderSeq collections.Sequence
	BidSeq   collections.Sequence
	LeaseSeq collections.Sequence

	// BiddingCloseQueue: (bidding close height, order) for every open order.
	BiddingCloseQueue collections.KeySet[collections.Pair[int64, uint64]]
	// ClearingsAt counts BiddingCloseQueue's entries at each height (max_clearings_per_block);
	// derived, rebuilt at genesis.
	ClearingsAt collections.Map[int64, uint32]
	// LeaseEndQueue: (end height, lease) for every active lease with a duration.
	LeaseEndQueue collections.KeySet[collections.Pair[int64, uint64]]
	// BidsByOrder: (order, bid) for every bid.
	BidsByOrder collections.KeySet[collections.Pair[uint64, uint64]]
	// BidByOrderProvider: (order, provider) → open bid, enforcing one open bid per provider per order.
	BidByOrderProvider collections.Map[collections.Pair[uint64, []byte], uint64]
	BidsByProvider     collections.KeySet[collections.Pair[[]byte, uint64]]
	OrdersByOwner      collections.KeySet[collections.Pair[[]byte, uint64]]
	LeasesByOwner      collections.KeySet[collections.Pair[[]byte, uint64]]
	LeasesByProvider   collections.KeySet[collections.Pair[[]byte, uint64]]
	LeasesByOrder      collections.KeySet[collections.Pair[uint64, uint64]]
	// Prices: (SKU, metro, denom) → price index entry.
	Prices collections.Map[collections.Triple[string, string, string], types.PriceIndexEntry]
	// GPUsLeased: (provider, SKU) → GPUs the provider's active leases hold, so a bid and a win
	// are checked against what its attestation covers beyond them. Derived from the leases:
	// InitGenesis rebuilds it.
	GPUsLeased collections.Map[collections.Pair[[]byte, string], uint32]
	// LiveLeases: (provider, lease) for every active lease, and LiveBids: (provider, bid) for
	// every open bid. A sidecar lists these at every start and a deregistration counts them;
	// LeasesByProvider and BidsByProvider hold a provider's whole history.
	LiveLeases collections.KeySet[collections.Pair[[]byte, uint64]]
	LiveBids   collections.KeySet[collections.Pair[[]byte, uint64]]
}

// NewKeeper builds the keeper and its collections schema. filter may be nil: the default filter
// then refuses what it cannot check. It panics on a bad authority, which only app wiring can cause.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	authority string,
	bank types.BankKeeper,
	auth types.AccountKeeper,
	escrow types.EscrowKeeper,
	filter types.ProviderFilter,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid %s authority address %q: %w", types.ModuleName, authority, err))
	}
	if filter == nil {
		filter = types.DefaultProviderFilter{}
	}
	sb := collections.NewSchemaBuilder(storeService)
	u64pair := collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)
	heightPair := collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)
	addrPair := collections.PairKeyCodec(collections.BytesKey, collections.Uint64Key)
	k := Keeper{
		cdc: cdc, storeService: storeService, addressCodec: addressCodec, authority: authority,
		bank: bank, auth: auth, escrow: escrow, filter: filter, hooks: &hooksHolder{},
		Params:            collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Orders:            collections.NewMap(sb, types.OrdersKey, "orders", collections.Uint64Key, codec.CollValue[types.Order](cdc)),
		Bids:              collections.NewMap(sb, types.BidsKey, "bids", collections.Uint64Key, codec.CollValue[types.Bid](cdc)),
		Leases:            collections.NewMap(sb, types.LeasesKey, "leases", collections.Uint64Key, codec.CollValue[types.Lease](cdc)),
		OrderSeq:          collections.NewSequence(sb, types.OrderSeqKey, "order_seq"),
		BidSeq:            collections.NewSequence(sb, types.BidSeqKey, "bid_seq"),
		LeaseSeq:          collections.NewSequence(sb, types.LeaseSeqKey, "lease_seq"),
		BiddingCloseQueue: collections.NewKeySet(sb, types.BiddingCloseQueueKey, "bidding_close_queue", heightPair),
		ClearingsAt:       collections.NewMap(sb, types.ClearingsAtKey, "clearings_at", collections.Int64Key, collections.Uint32Value),
		LeaseEndQueue:     collections.NewKeySet(sb, types.LeaseEndQueueKey, "lease_end_queue", heightPair),
		BidsByOrder:       collections.NewKeySet(sb, types.BidsByOrderKey, "bids_by_order", u64pair),
		BidByOrderProvider: collections.NewMap(sb, types.BidByOrderProviderKey, "bid_by_order_provider",
			collections.PairKeyCodec(collections.Uint64Key, collections.BytesKey), collections.Uint64Value),
		BidsByProvider:   collections.NewKeySet(sb, types.BidsByProviderKey, "bids_by_provider", addrPair),
		OrdersByOwner:    collections.NewKeySet(sb, types.OrdersByOwnerKey, "orders_by_owner", addrPair),
		LeasesByOwner:    collections.NewKeySet(sb, types.LeasesByOwnerKey, "leases_by_owner", addrPair),
		LeasesByProvider: collections.NewKeySet(sb, types.LeasesByProviderKey, "leases_by_provider", addrPair),
		LeasesByOrder:    collections.NewKeySet(sb, types.LeasesByOrderKey, "leases_by_order", u64pair),
		Prices: collections.NewMap(sb, types.PricesKey, "prices",
			collections.TripleKeyCodec(collections.StringKey, collections.StringKey, collections.StringKey),
			codec.CollValue[types.PriceIndexEntry](cdc)),
		GPUsLeased: collections.NewMap(sb, types.GPUsLeasedKey, "gpus_leased",
			collections.PairKeyCodec(collections.BytesKey, collections.StringKey), collections.Uint32Value),
		LiveLeases: collections.NewKeySet(sb, types.LiveLeasesKey, "live_leases", addrPair),
		LiveBids:   collections.NewKeySet(sb, types.LiveBidsKey, "live_bids", addrPair),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

type hooksHolder struct{ hooks types.MarketHooks }

// SetHooks installs the lease hooks; app wiring calls it once.
func (k Keeper) SetHooks(h types.MarketHooks) {
	if k.hooks.hooks != nil {
		panic("market hooks already set")
	}
	k.hooks.hooks = h
}

// GetAuthority returns the address allowed to update params.
func (k Keeper) GetAuthority() string { return k.authority }

// nextID hands out ids from 1, so 0 can mean "none" in queries and messages.
func nextID(ctx context.Context, seq collections.Sequence) (uint64, error) {
	last, err := seq.Peek(ctx)
	if err != nil {
		return 0, err
	}
	if err := seq.Set(ctx, last+1); err != nil {
		return 0, err
	}
	return last + 1, nil
}
