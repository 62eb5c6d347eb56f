package keeper

import (
	"cosmossdk.io/collections"
)

// queueRange selects every (height, id) entry of a height-keyed queue at or below a height.
type queueRange struct {
	set collections.KeySet[collections.Pair[int64, uint64]]
	max int64
}

func (q queueRange) ranger() collections.Ranger[collections.Pair[int64, uint64]] {
	return new(collections.Range[collections.Pair[int64, uint64]]).
		EndExclusive(collections.Join(q.max+1, uint64(0)))
}
