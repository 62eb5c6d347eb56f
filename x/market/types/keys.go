package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, store key, route and module account (bid deposits).
	ModuleName = "market"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. Each is one byte and never reused.
var (
	ParamsKey             = collections.NewPrefix(0)
	OrdersKey             = collections.NewPrefix(1)
	BidsKey               = collections.NewPrefix(2)
	LeasesKey             = collections.NewPrefix(3)
	OrderSeqKey           = collections.NewPrefix(4)
	BidSeqKey             = collections.NewPrefix(5)
	LeaseSeqKey           = collections.NewPrefix(6)
	BiddingCloseQueueKey  = collections.NewPrefix(7)
	LeaseEndQueueKey      = collections.NewPrefix(8)
	BidsByOrderKey        = collections.NewPrefix(9)
	BidByOrderProviderKey = collections.NewPrefix(10)
	OrdersByOwnerKey      = collections.NewPrefix(11)
	LeasesByOwnerKey      = collections.NewPrefix(12)
	LeasesByProviderKey   = collections.NewPrefix(13)
	LeasesByOrderKey      = collections.NewPrefix(14)
	BidsByProviderKey     = collections.NewPrefix(15)
	PricesKey             = collections.NewPrefix(16)
	GPUsLeasedKey         = collections.NewPrefix(17)
	LiveLeasesKey         = collections.NewPrefix(18)
	LiveBidsKey           = collections.NewPrefix(19)
	ClearingsAtKey        = collections.NewPrefix(20)
)
