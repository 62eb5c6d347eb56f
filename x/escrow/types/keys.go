package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, store key and route.
	ModuleName = "escrow"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. Each is one byte and never reused, so state written by one version stays
// readable by the next.
var (
	ParamsKey = collections.NewPrefix(0)
)
