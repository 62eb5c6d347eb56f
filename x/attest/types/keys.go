package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, store key and route.
	ModuleName = "attest"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. Each is one byte and never reused, so state written by one version stays
// readable by the next.
var (
	ParamsKey          = collections.NewPrefix(0)
	ProvidersKey       = collections.NewPrefix(1)
	ChallengesKey      = collections.NewPrefix(2)
	ChallengeSeqKey    = collections.NewPrefix(3)
	ProviderSeqKey     = collections.NewPrefix(4)
	ChallengeExpiryKey = collections.NewPrefix(5)
	RecordsKey         = collections.NewPrefix(6)
	RecordExpiryKey    = collections.NewPrefix(7)
	GPUOwnersKey       = collections.NewPrefix(8)
)
