package escrow

import (
	"sort"

	"cosmossdk.io/core/address"
	"cosmossdk.io/core/appmodule"
	"cosmossdk.io/core/store"
	"cosmossdk.io/depinject"

	"github.com/cosmos/cosmos-sdk/codec"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	modulev1 "github.com/computed-network/computed/api/computed/escrow/module/v1"
	"github.com/computed-network/computed/x/escrow/keeper"
	"github.com/computed-network/computed/x/escrow/types"
)

func init() {
	appmodule.Register(&modulev1.Module{},
		appmodule.Provide(ProvideModule),
		appmodule.Invoke(InvokeSetEscrowHooks),
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
	DistrKeeper   types.DistributionKeeper
	AccountKeeper types.AccountKeeper
}

// ModuleOutputs are what the module gives the app.
type ModuleOutputs struct {
	depinject.Out

	Keeper keeper.Keeper
	Module appmodule.AppModule
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
	k := keeper.NewKeeper(in.Cdc, in.StoreService, in.AddressCodec, authorityStr, in.BankKeeper, in.DistrKeeper, in.AccountKeeper)
	return ModuleOutputs{Keeper: k, Module: NewAppModule(in.Cdc, k)}
}

// InvokeSetEscrowHooks installs the hooks other modules (x/market) provide, in module-name order
// so the call order is the same on every node.
func InvokeSetEscrowHooks(k keeper.Keeper, hooks map[string]types.EscrowHooksWrapper) error {
	if len(hooks) == 0 {
		return nil
	}
	names := make([]string, 0, len(hooks))
	for name := range hooks {
		names = append(names, name)
	}
	sort.Strings(names)
	multi := make(types.MultiEscrowHooks, 0, len(names))
	for _, name := range names {
		multi = append(multi, hooks[name])
	}
	k.SetHooks(multi)
	return nil
}
