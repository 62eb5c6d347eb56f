package keeper

import "cosmossdk.io/collections"

func pairKey[A, B any](a A, b B) collections.Pair[A, B] { return collections.Join(a, b) }

func prefixRange(accountID uint64) *collections.PairRange[uint64, uint64] {
	return collections.NewPrefixedPairRange[uint64, uint64](accountID)
}
