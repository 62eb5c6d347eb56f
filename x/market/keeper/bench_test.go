package keeper_test

import (
	"context"
	"fmt"
	"testing"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/keepertest"
	"github.com/computed-network/computed/x/market/keeper"
	"github.com/computed-network/computed/x/market/types"
)

// nopBank and nopEscrow accept every call: the benchmark measures x/market's own work.
type nopBank struct{}

func (nopBank) SendCoinsFromAccountToModule(context.Context, sdk.AccAddress, string, sdk.Coins) error {
	return nil
}
func (nopBank) SendCoinsFromModuleToAccount(context.Context, string, sdk.AccAddress, sdk.Coins) error {
	return nil
}
func (nopBank) GetAllBalances(context.Context, sdk.AccAddress) sdk.Coins { return nil }

type nopEscrow struct{}

func (nopEscrow) ValidateDeposit(context.Context, sdk.Coin) error                     { return nil }
func (nopEscrow) IsDenomAllowed(context.Context, string) (bool, error)                { return true, nil }
func (nopEscrow) OpenAccount(context.Context, uint64, sdk.AccAddress, sdk.Coin) error { return nil }
func (nopEscrow) OpenStream(context.Context, uint64, uint64, sdk.AccAddress, sdk.Coin) error {
	return nil
}
func (nopEscrow) CloseStream(context.Context, uint64, string) error  { return nil }
func (nopEscrow) CloseAccount(context.Context, uint64, string) error { return nil }

// BenchmarkClearing measures EndBlock clearing one AUTO order with three bids per block while N
// other orders are open. The cost must not grow with N.
func BenchmarkClearing(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("open_orders=%d", n), func(b *testing.B) {
			env := keepertest.New(b, types.StoreKey)
			k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nopBank{}, nil, nopEscrow{}, nil)
			ctx := env.Ctx.WithBlockHeight(1000)
			must := func(err error) {
				if err != nil {
					b.Fatal(err)
				}
			}
			must(k.Params.Set(ctx, types.DefaultParams()))
			addr := func(i int) string {
				bz := make([]byte, 20)
				bz[0], bz[1], bz[2] = byte(i), byte(i>>8), byte(i>>16)
				s, _ := env.AddressCodec.BytesToString(bz)
				return s
			}
			owner := addr(0)
			var nextBid uint64
			put := func(id uint64, closes int64, bids int) {
				o := types.Order{Id: id, Owner: owner, Requirements: types.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 8, Metro: "FRA"},
					MaxPricePerBlock: sdk.NewInt64Coin("uusdc", 100), Policy: types.ACCEPTANCE_POLICY_AUTO, Replicas: 1,
					State: types.ORDER_STATE_OPEN, BiddingClosesHeight: closes, OpenBids: uint32(bids)}
				must(k.Orders.Set(ctx, id, o))
				must(k.BiddingCloseQueue.Set(ctx, collections.Join(closes, id)))
				for j := 0; j < bids; j++ {
					nextBid++
					p := addr(j + 1)
					bid := types.Bid{Id: nextBid, OrderId: id, Provider: p, PricePerBlock: sdk.NewInt64Coin("uusdc", int64(90-j)),
						Deposit: sdk.NewInt64Coin("ucmpt", 1), State: types.BID_STATE_OPEN}
					must(k.Bids.Set(ctx, bid.Id, bid))
					must(k.BidsByOrder.Set(ctx, collections.Join(id, bid.Id)))
					pb, _ := env.AddressCodec.StringToBytes(p)
					must(k.BidByOrderProvider.Set(ctx, collections.Join(id, pb), bid.Id))
				}
			}
			// N orders open far in the future, and one order due in each benchmarked block.
			for i := 1; i <= n; i++ {
				put(uint64(i), 1_000_000_000, 0)
			}
			for i := 0; i < b.N; i++ {
				put(uint64(n+1+i), 1001+int64(i), 3)
			}
			must(k.BidSeq.Set(ctx, nextBid))
			env.Commit()

			var reads uint64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bctx := keepertest.ReadCounting(ctx.WithBlockHeight(1001 + int64(i)))
				must(k.EndBlocker(bctx))
				reads = bctx.GasMeter().GasConsumed()
			}
			b.StopTimer()
			o, err := k.Orders.Get(ctx, uint64(n+b.N))
			must(err)
			if o.State != types.ORDER_STATE_ACTIVE {
				b.Fatalf("due order not cleared: %s", o.State)
			}
			b.ReportMetric(float64(reads), "reads/block")
		})
	}
}

// readsPerOp runs op b.N times on a read-counting copy of ctx and reports the store reads of one.
func readsPerOp(b *testing.B, ctx sdk.Context, op func(ctx sdk.Context) error) {
	var reads uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		qctx := keepertest.ReadCounting(ctx)
		if err := op(qctx); err != nil {
			b.Fatal(err)
		}
		reads = qctx.GasMeter().GasConsumed()
	}
	b.ReportMetric(float64(reads), "reads/op")
}

// BenchmarkOpenOrdersQuery measures the list a sidecar pages through when it catches up: the
// open orders, while N closed ones lie in state. The reads must not grow with N.
func BenchmarkOpenOrdersQuery(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("closed_orders=%d", n), func(b *testing.B) {
			env := keepertest.New(b, types.StoreKey)
			k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nopBank{}, nil, nopEscrow{}, nil)
			ctx := env.Ctx.WithBlockHeight(1000)
			owner, _ := env.AddressCodec.BytesToString(make([]byte, 20))
			for i := 1; i <= n+10; i++ {
				o := types.Order{Id: uint64(i), Owner: owner, Requirements: types.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 8, Metro: "FRA"},
					MaxPricePerBlock: sdk.NewInt64Coin("uusdc", 100), Policy: types.ACCEPTANCE_POLICY_AUTO, Replicas: 1, State: types.ORDER_STATE_CLOSED}
				if i%(n/10+1) == 0 || i > n { // ten open orders among the closed, and ten after
					o.State, o.BiddingClosesHeight = types.ORDER_STATE_OPEN, 2000+int64(i)
					if err := k.BiddingCloseQueue.Set(ctx, collections.Join(o.BiddingClosesHeight, o.Id)); err != nil {
						b.Fatal(err)
					}
				}
				if err := k.Orders.Set(ctx, o.Id, o); err != nil {
					b.Fatal(err)
				}
			}
			env.Commit()
			q := keeper.NewQueryServerImpl(k)
			readsPerOp(b, ctx, func(ctx sdk.Context) error {
				res, err := q.Orders(ctx, &types.QueryOrdersRequest{State: types.ORDER_STATE_OPEN})
				if err == nil && len(res.Orders) < 10 {
					err = fmt.Errorf("%d open orders", len(res.Orders))
				}
				return err
			})
		})
	}
}

// BenchmarkProviderLists measures what a sidecar lists at every start (its active leases) and a
// deregistration counts, for a provider with N closed leases behind it. The reads must not grow
// with N.
func BenchmarkProviderLists(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("closed_leases=%d", n), func(b *testing.B) {
			env := keepertest.New(b, types.StoreKey)
			k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nopBank{}, nil, nopEscrow{}, nil)
			ctx := env.Ctx.WithBlockHeight(1000)
			pb := make([]byte, 20)
			pb[0] = 7
			provider, _ := env.AddressCodec.BytesToString(pb)
			for i := 1; i <= n+1; i++ {
				l := types.Lease{Id: uint64(i), OrderId: uint64(i), Owner: provider, Provider: provider,
					PricePerBlock: sdk.NewInt64Coin("uusdc", 1), State: types.LEASE_STATE_CLOSED}
				if i == n+1 {
					l.State = types.LEASE_STATE_ACTIVE
					if err := k.LiveLeases.Set(ctx, collections.Join(pb, l.Id)); err != nil {
						b.Fatal(err)
					}
				}
				if err := k.Leases.Set(ctx, l.Id, l); err != nil {
					b.Fatal(err)
				}
				if err := k.LeasesByProvider.Set(ctx, collections.Join(pb, l.Id)); err != nil {
					b.Fatal(err)
				}
			}
			env.Commit()
			q := keeper.NewQueryServerImpl(k)
			readsPerOp(b, ctx, func(ctx sdk.Context) error {
				res, err := q.Leases(ctx, &types.QueryLeasesRequest{Provider: provider, State: types.LEASE_STATE_ACTIVE})
				if err != nil || len(res.Leases) != 1 {
					return fmt.Errorf("%d active leases, err %v", len(res.Leases), err)
				}
				if count, err := k.ActiveLeaseCount(ctx, pb); err != nil || count != 1 {
					return fmt.Errorf("ActiveLeaseCount = %d, %v", count, err)
				}
				return nil
			})
		})
	}
}
