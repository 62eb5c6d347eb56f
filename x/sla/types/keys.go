package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, store key and route.
	ModuleName = "sla"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. Each is one byte and never reused, so state written by one version stays
// readable by the next.
var (
	ParamsKey               = collections.NewPrefix(0)
	BondsKey                = collections.NewPrefix(1)
	UnbondingsKey           = collections.NewPrefix(2)
	UnbondingQueueKey       = collections.NewPrefix(3)
	UnbondingsByProviderKey = collections.NewPrefix(4)
	UnbondingSeqKey         = collections.NewPrefix(5)
	LeasesKey               = collections.NewPrefix(6)
	LeasesByProviderKey     = collections.NewPrefix(7)
	WindowQueueKey          = collections.NewPrefix(8)
	ReportsKey              = collections.NewPrefix(9)
	BatchesKey              = collections.NewPrefix(10)
	DisputesKey             = collections.NewPrefix(11)
	DisputeSeqKey           = collections.NewPrefix(12)
	DisputeQueueKey         = collections.NewPrefix(13)
	DisputesByLeaseKey      = collections.NewPrefix(14)
	ReplicationsKey         = collections.NewPrefix(15)
	ReplicationQueueKey     = collections.NewPrefix(16)
	ReputationKey           = collections.NewPrefix(17)
)

// RootSize is the size of every Merkle root x/sla accepts (SHA-256).
const RootSize = 32

// MaxStatementSize bounds a provider's dispute statement.
const MaxStatementSize = 1024

// MaxSaltSize bounds a commit-reveal salt.
const MaxSaltSize = 64
