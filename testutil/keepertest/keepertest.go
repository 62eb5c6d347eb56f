// Package keepertest builds bare keeper contexts (in-memory store, no app) for benchmarks that
// need hundreds of thousands of objects in state.
package keepertest

import (
	"testing"

	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	storetypes "cosmossdk.io/store/types"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/computed-network/computed/app"
)

// Env is a store, a codec and the gov authority for one module.
type Env struct {
	Ctx          sdk.Context
	Store        store.KVStoreService
	Cdc          codec.Codec
	AddressCodec address.Codec
	Authority    string
	cms          storetypes.CommitMultiStore
}

// Commit saves the store as a block commit does. Iterating an uncommitted IAVL tree sorts every
// unsaved key, so benchmarks must commit their set-up or they measure the set-up's size.
func (e Env) Commit() { e.cms.Commit() }

// New opens an in-memory store for storeKey.
func New(tb testing.TB, storeKey string) Env {
	key := storetypes.NewKVStoreKey(storeKey)
	tctx := testutil.DefaultContextWithDB(tb, key, storetypes.NewTransientStoreKey("transient_"+storeKey))
	ac := addresscodec.NewBech32Codec(app.AccountAddressPrefix)
	authority, err := ac.BytesToString(authtypes.NewModuleAddress(govtypes.ModuleName))
	if err != nil {
		tb.Fatal(err)
	}
	return Env{
		Ctx: tctx.Ctx, Store: runtime.NewKVStoreService(key),
		Cdc: moduletestutil.MakeTestEncodingConfig().Codec, AddressCodec: ac, Authority: authority,
		cms: tctx.CMS,
	}
}

// ReadCounting returns ctx whose gas meter counts store reads: one unit per Get, Has and
// iterator step, nothing for bytes or writes. GasConsumed() is then the number of reads.
func ReadCounting(ctx sdk.Context) sdk.Context {
	return ctx.WithGasMeter(storetypes.NewInfiniteGasMeter()).WithKVGasConfig(storetypes.GasConfig{
		HasCost: 1, ReadCostFlat: 1, IterNextCostFlat: 1,
	})
}
