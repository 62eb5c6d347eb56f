package market

import (
	"sort"

	"cosmossdk.io/core/address"
	"cosmossdk.io/core/appmodule"
	"cosmossdk.io/core/store"
	"cosmossdk.io/depinject"

	"github.com/cosmos/cosmos-sdk/codec"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	modulev1 "github.com/computed-network/computed/api/computed/market/module/v1"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/market/keeper"
	"github.com/computed-network/computed/x/market/types"
)

func init() {
	appmodule.Register(&modulev1.Module{},
		appmodule.Provide(ProvideModule),
		appmodule.Invoke(InvokeSetMarketHooks),
	)
}

// ModuleInputs are what depinject hands the module.
type ModuleInputs struct {
	depinject.In

	Config       *modulev1.Module
	StoreService store.KVStoreService
	Cdc          codec.Codec
	AddressCodec address.Codec

	BankKeeper    types.BankKeeper
	AccountKeeper types.AccountKeeper
	EscrowKeeper  types.EscrowKeeper
	// ProviderFilter comes from x/sla (composing x/attest's checks); without it the market
	// refuses bids on orders whose requirements it cannot check.
	ProviderFilter types.ProviderFilter `optional:"true"`
}

// ModuleOutputs are what the module gives the app.
type ModuleOutputs struct {
	depinject.Out

	Keeper      keeper.Keeper
	Module      appmodule.AppModule
	EscrowHooks escrowtypes.EscrowHooksWrapper
	// Keeper also serves x/attest as its LeaseCounter (ActiveLeaseCount): depinject hands the one
	// provided type implementing that interface to x/attest's optional input.
}

// ProvideModule builds the keeper and module for depinject.
func ProvideModule(in ModuleInputs) ModuleOutputs {
	authority := authtypes.NewModuleAddress(govtypes.ModuleName)
	if in.Config.Authority != "" {
		authority = authtypes.NewModuleAddressOrBech32Address(in.Config.Authority)
	}
	authorityStr, err := in.AddressCodec.BytesToString(authority)
	if err != nil {
		panic(err)
	}
	k := keeper.NewKeeper(in.Cdc, in.StoreService, in.AddressCodec, authorityStr,
		in.BankKeeper, in.AccountKeeper, in.EscrowKeeper, in.ProviderFilter)
	return ModuleOutputs{
		Keeper:      k,
		Module:      NewAppModule(in.Cdc, k),
		EscrowHooks: escrowtypes.EscrowHooksWrapper{EscrowHooks: k.EscrowHooks()},
	}
}

// InvokeSetMarketHooks installs the lease hooks other modules (x/sla) provide, in module-name
// order so the call order is the same on every node.
func InvokeSetMarketHooks(k keeper.Keeper, hooks map[string]types.MarketHooksWrapper) error {
	if len(hooks) == 0 {
		return nil
	}
	names := make([]string, 0, len(hooks))
	for name := range hooks {
		names = append(names, name)
	}
	sort.Strings(names)
	multi := make(types.MultiMarketHooks, 0, len(names))
	for _, name := range names {
		multi = append(multi, hooks[name])
	}
	k.SetHooks(multi)
	return nil
}
