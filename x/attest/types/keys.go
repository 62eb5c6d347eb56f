package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, store key and route.
	ModuleName = "attest"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// MaxOpenChallenges is how many challenges one provider may hold at once: a new one replaces its
// oldest, so requests, which cost only their fee, cannot fill the store.
const MaxOpenChallenges = 4

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
	// ProviderChallengesKey indexes outstanding challenges by provider.
	ProviderChallengesKey = collections.NewPrefix(9)
)
