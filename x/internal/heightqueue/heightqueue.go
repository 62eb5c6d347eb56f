// Package heightqueue is the one way computed's modules find and process what is due at a block:
// a KeySet of (height, id) entries, read from its start up to the current height, so EndBlock
// costs O(items due), never O(items stored).
package heightqueue

import (
	"context"
	"fmt"
	"strconv"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Entry is one (height, id) queue entry.
type Entry = collections.Pair[int64, uint64]

// Queue is a height-keyed queue.
type Queue = collections.KeySet[Entry]

// Due lists the entries at or below height h. They are collected before any is processed, because
// processing moves entries within the same queue.
func Due(ctx context.Context, q Queue, h int64) ([]Entry, error) {
	rng := new(collections.Range[Entry]).EndExclusive(collections.Join(h+1, uint64(0)))
	iter, err := q.Iterate(ctx, rng)
	if err != nil {
		return nil, err
	}
	return iter.Keys()
}

// Process runs fn for every entry of q due at height h, each in its own branch of state. An entry
// whose fn fails or panics is logged and reported in an event, its writes are dropped and the
// entry is removed, so one bad item can neither halt the chain nor be retried every block.
// FinalizeBlock does not recover panics: one escaping here would stop every validator at this
// height, and every restart would replay it.
func Process(ctx context.Context, q Queue, h int64, module, what string, fn func(ctx context.Context, id uint64) error) error {
	due, err := Due(ctx, q, h)
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for _, e := range due {
		cacheCtx, write := sdkCtx.CacheContext()
		if err := guarded(cacheCtx, e.K2(), fn); err != nil {
			ReportFailed(sdkCtx, module, what, e.K2(), "dropped", err)
			if err := q.Remove(ctx, e); err != nil {
				return err
			}
			continue
		}
		write()
	}
	return nil
}

// EventTypeItemFailed is the event of an end-block item that failed and was dropped.
const EventTypeItemFailed = "end_block_item_failed"

// ReportFailed logs an end-block item's failure, saying what became of the item (outcome), and
// emits EventTypeItemFailed (module, what, id, error).
func ReportFailed(ctx sdk.Context, module, what string, id uint64, outcome string, err error) {
	ctx.Logger().Error("end-block item failed; "+outcome, "module", module, "what", what, "id", id, "err", err)
	ctx.EventManager().EmitEvent(sdk.NewEvent(EventTypeItemFailed,
		sdk.NewAttribute("module", module), sdk.NewAttribute("what", what),
		sdk.NewAttribute("id", strconv.FormatUint(id, 10)), sdk.NewAttribute("error", err.Error())))
}

// Recovered runs fn, turning a panic into an error, for end-block work outside a queue: the
// panic is deterministic, so every validator fails the same item.
func Recovered(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

// guarded runs fn for one queue entry (Recovered).
func guarded(ctx context.Context, id uint64, fn func(ctx context.Context, id uint64) error) error {
	return Recovered(func() error { return fn(ctx, id) })
}
