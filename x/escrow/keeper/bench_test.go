package keeper_test

import (
	"fmt"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/keepertest"
	"github.com/computed-network/computed/x/escrow/keeper"
	"github.com/computed-network/computed/x/escrow/types"
)

// noBank fails the benchmark if EndBlock moves money: nothing is due, so nothing may move.
type noBank struct{ types.BankKeeper }

// BenchmarkEndBlockNothingDue measures EndBlock with N open streams, none due this block. The
// cost must not grow with N: EndBlock reads only the queue entries at or below the height.
func BenchmarkEndBlockNothingDue(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			env := keepertest.New(b, types.StoreKey)
			k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, noBank{}, nil, nil)
			ctx := env.Ctx.WithBlockHeight(1000)
			if err := k.Params.Set(ctx, types.DefaultParams()); err != nil {
				b.Fatal(err)
			}
			owner, _ := env.AddressCodec.BytesToString(make([]byte, 20))
			for i := 1; i <= n; i++ {
				id := uint64(i)
				acc := types.Account{Id: id, Owner: owner, Denom: "uusdc", Balance: sdkmath.NewInt(1_000_000_000),
					SettledHeight: 1000, State: types.ACCOUNT_STATE_OPEN, Rate: sdkmath.NewInt(10), DepletionHeight: 1000 + 100_000_000}
				s := types.Stream{LeaseId: id, AccountId: id, Payee: owner, Rate: sdkmath.NewInt(10), Earned: sdkmath.ZeroInt(),
					Withdrawn: sdkmath.ZeroInt(), State: types.STREAM_STATE_ACTIVE, OpenedHeight: 1000}
				if err := k.Accounts.Set(ctx, id, acc); err != nil {
					b.Fatal(err)
				}
				if err := k.Streams.Set(ctx, id, s); err != nil {
					b.Fatal(err)
				}
				if err := k.StreamsByAccount.Set(ctx, collections.Join(id, id)); err != nil {
					b.Fatal(err)
				}
				if err := k.DepletionQueue.Set(ctx, collections.Join(acc.DepletionHeight, id)); err != nil {
					b.Fatal(err)
				}
			}
			env.Commit()
			var reads uint64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bctx := keepertest.ReadCounting(ctx.WithBlockHeight(1001 + int64(i)))
				if err := k.EndBlocker(bctx); err != nil {
					b.Fatal(err)
				}
				reads = bctx.GasMeter().GasConsumed()
			}
			b.ReportMetric(float64(reads), "reads/block")
			_ = sdk.Context{}
		})
	}
}
