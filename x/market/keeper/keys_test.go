package keeper_test

import "cosmossdk.io/collections"

func joinHeight(h int64, id uint64) collections.Pair[int64, uint64] { return collections.Join(h, id) }
