package keeper

import (
	"context"
	"math"

	sdkmath "cosmossdk.io/math"

	"github.com/computed-network/computed/x/escrow/types"
)

// settle brings an open account and its active streams up to height h, exactly: each active
// stream earns rate × blocks, and the account pays rate_total × blocks. If the balance cannot pay
// for every block, it pays only the fully funded ones and stops there (depletion handles the
// rest). Work is O(streams of this account), never O(all streams).
func (k Keeper) settle(ctx context.Context, acc *types.Account, h int64) error {
	if acc.State != types.ACCOUNT_STATE_OPEN || h <= acc.SettledHeight {
		return nil
	}
	if acc.Rate.IsZero() {
		acc.SettledHeight = h
		return nil
	}
	blocks := sdkmath.NewInt(h - acc.SettledHeight)
	fundable := acc.Balance.Quo(acc.Rate)
	pay := sdkmath.MinInt(blocks, fundable)
	if pay.IsPositive() {
		err := k.forEachStream(ctx, acc.Id, func(s *types.Stream) (bool, error) {
			if s.State != types.STREAM_STATE_ACTIVE {
				return false, nil
			}
			s.Earned = s.Earned.Add(s.Rate.Mul(pay))
			return true, nil
		})
		if err != nil {
			return err
		}
		acc.Balance = acc.Balance.Sub(acc.Rate.Mul(pay))
	}
	acc.SettledHeight += pay.Int64()
	return nil
}

// forEachStream visits an account's streams in lease order and saves those fn reports changed.
func (k Keeper) forEachStream(ctx context.Context, accountID uint64, fn func(s *types.Stream) (changed bool, err error)) error {
	iter, err := k.StreamsByAccount.Iterate(ctx, prefixRange(accountID))
	if err != nil {
		return err
	}
	keys, err := iter.Keys()
	if err != nil {
		return err
	}
	for _, key := range keys {
		s, err := k.Streams.Get(ctx, key.K2())
		if err != nil {
			return err
		}
		changed, err := fn(&s)
		if err != nil {
			return err
		}
		if changed {
			if err := k.Streams.Set(ctx, s.LeaseId, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// depletionHeight is the last block the balance fully pays for at the current rate (0: no rate).
// A balance that lasts beyond the largest height gets math.MaxInt64 (never): the quotient of a
// large deposit (an 18-decimal denom) and a small rate need not fit an int64, and a sum that
// wrapped would put the depletion in the past and close the account at once.
func depletionHeight(acc types.Account) int64 {
	if acc.Rate.IsZero() {
		return 0
	}
	blocks := acc.Balance.Quo(acc.Rate)
	if !blocks.IsInt64() || blocks.Int64() > math.MaxInt64-acc.SettledHeight {
		return math.MaxInt64
	}
	return acc.SettledHeight + blocks.Int64()
}

// reschedule recomputes the account's depletion and refill heights after any change, moves its
// queue entries, and saves it. now is the current height: a refill due in the past fires now.
func (k Keeper) reschedule(ctx context.Context, acc *types.Account, now int64) error {
	if acc.DepletionHeight != 0 {
		if err := k.DepletionQueue.Remove(ctx, pairKey(acc.DepletionHeight, acc.Id)); err != nil {
			return err
		}
	}
	if acc.RefillHeight != 0 {
		if err := k.RefillQueue.Remove(ctx, pairKey(acc.RefillHeight, acc.Id)); err != nil {
			return err
		}
	}
	acc.DepletionHeight, acc.RefillHeight = 0, 0
	if acc.State == types.ACCOUNT_STATE_OPEN {
		acc.DepletionHeight = depletionHeight(*acc)
		if acc.DepletionHeight != 0 {
			if err := k.DepletionQueue.Set(ctx, pairKey(acc.DepletionHeight, acc.Id)); err != nil {
				return err
			}
			if p := acc.Refill; p != nil && p.Refilled.LT(p.Cap) {
				at := acc.DepletionHeight - int64(p.LowWaterBlocks)
				if at < now {
					at = now
				}
				acc.RefillHeight = at
				if err := k.RefillQueue.Set(ctx, pairKey(at, acc.Id)); err != nil {
					return err
				}
			}
		}
	}
	return k.Accounts.Set(ctx, acc.Id, *acc)
}
