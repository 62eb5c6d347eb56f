package heightqueue_test

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	storetypes "cosmossdk.io/store/types"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"

	"github.com/computed-network/computed/x/internal/heightqueue"
)

// TestProcessSurvivesFailures: an item that panics (an sdkmath overflow) or fails is dropped with
// its writes and reported in an event; the items around it are processed and kept, and nothing
// due is left in the queue.
func TestProcessSurvivesFailures(t *testing.T) {
	key := storetypes.NewKVStoreKey("hq")
	ctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t_hq")).Ctx
	sb := collections.NewSchemaBuilder(runtime.NewKVStoreService(key))
	q := collections.NewKeySet(sb, collections.NewPrefix(1), "q", collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key))
	done := collections.NewKeySet(sb, collections.NewPrefix(2), "done", collections.Uint64Key)
	_, err := sb.Build()
	require.NoError(t, err)
	for id := uint64(1); id <= 4; id++ {
		require.NoError(t, q.Set(ctx, collections.Join(int64(10), id)))
	}
	require.NoError(t, q.Set(ctx, collections.Join(int64(11), uint64(5)))) // not due yet

	err = heightqueue.Process(ctx, q, 10, "test", "item", func(ctx context.Context, id uint64) error {
		// As the modules' items do: record the work and take the entry off the queue.
		if err := done.Set(ctx, id); err != nil {
			return err
		}
		if err := q.Remove(ctx, collections.Join(int64(10), id)); err != nil {
			return err
		}
		switch id {
		case 2:
			huge := sdkmath.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 250))
			_ = huge.MulRaw(1 << 20) // overflows 256 bits: panics
		case 3:
			return errors.New("refused")
		}
		return nil
	})
	require.NoError(t, err)

	for id, want := range map[uint64]bool{1: true, 2: false, 3: false, 4: true, 5: false} {
		has, err := done.Has(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, has, "item %d's writes", id)
	}
	left, err := heightqueue.Due(ctx, q, 11)
	require.NoError(t, err)
	require.Equal(t, []heightqueue.Entry{collections.Join(int64(11), uint64(5))}, left)

	var failed []string
	for _, ev := range ctx.EventManager().Events() {
		if ev.Type == heightqueue.EventTypeItemFailed {
			id, _ := ev.GetAttribute("id")
			msg, _ := ev.GetAttribute("error")
			failed = append(failed, id.Value+": "+msg.Value)
		}
	}
	require.Len(t, failed, 2)
	require.Contains(t, failed[0], "2: panic: ")
	require.Equal(t, "3: refused", failed[1])
}
