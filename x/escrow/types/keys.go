package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, store key, route and module account.
	ModuleName = "escrow"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. Each is one byte and never reused.
var (
	ParamsKey           = collections.NewPrefix(0)
	AccountsKey         = collections.NewPrefix(1)
	StreamsKey          = collections.NewPrefix(2)
	StreamsByAccountKey = collections.NewPrefix(3)
	DepletionQueueKey   = collections.NewPrefix(4)
	RefillQueueKey      = collections.NewPrefix(5)
	AccountsByOwnerKey  = collections.NewPrefix(6)
)
