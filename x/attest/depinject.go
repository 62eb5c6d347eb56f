package attest

import (
	"sort"

	"cosmossdk.io/core/address"
	"cosmossdk.io/core/appmodule"
	"cosmossdk.io/core/store"
	"cosmossdk.io/depinject"

	"github.com/cosmos/cosmos-sdk/codec"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	modulev1 "github.com/computed-network/computed/api/computed/attest/module/v1"
	"github.com/computed-network/computed/x/attest/keeper"
	"github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
)

func init() {
	appmodule.Register(&modulev1.Module{},
		appmodule.Provide(ProvideModule),
		appmodule.Invoke(InvokeSetAttestHooks, InvokeSetLeaseCounter),
	)
}

// ModuleInputs are what depinject hands the module. It takes no other module's keeper: x/market
// depends (through x/sla) on the bid filter this module provides, so any input from x/market would be a cycle.
// The lease counter therefore arrives through an invoker, after every provider has run.
type ModuleInputs struct {
	depinject.In

	Config       *modulev1.Module
	StoreService store.KVStoreService
	Cdc          codec.Codec
	AddressCodec address.Codec
}

// ModuleOutputs are what the module gives the app, including the attestation half of the bid
// filter, which x/sla composes with its bond and reputation checks for x/market.
type ModuleOutputs struct {
	depinject.Out

	Keeper            keeper.Keeper
	Module            appmodule.AppModule
	AttestationFilter markettypes.AttestationFilter
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
	k := keeper.NewKeeper(in.Cdc, in.StoreService, in.AddressCodec, authorityStr)
	return ModuleOutputs{Keeper: k, Module: NewAppModule(in.Cdc, k), AttestationFilter: markettypes.AttestationFilter{Filter: k.BidFilter()}}
}

// InvokeSetAttestHooks installs the hooks other modules (x/sla) provide, in module-name order so
// the call order is the same on every node. With none, lapses call nothing.
func InvokeSetAttestHooks(k keeper.Keeper, hooks map[string]types.AttestHooksWrapper) error {
	if len(hooks) == 0 {
		return nil
	}
	names := make([]string, 0, len(hooks))
	for name := range hooks {
		names = append(names, name)
	}
	sort.Strings(names)
	multi := make(types.MultiAttestHooks, 0, len(names))
	for _, name := range names {
		multi = append(multi, hooks[name])
	}
	k.SetHooks(multi)
	return nil
}

// LeaseCounterInputs is the optional lease counter (x/market will provide it).
type LeaseCounterInputs struct {
	depinject.In

	Keeper       keeper.Keeper
	LeaseCounter types.LeaseCounter `optional:"true"`
}

// InvokeSetLeaseCounter installs the lease counter if some module provides one; without it
// deregistration is not checked against leases.
func InvokeSetLeaseCounter(in LeaseCounterInputs) error {
	if in.LeaseCounter != nil {
		in.Keeper.SetLeaseCounter(in.LeaseCounter)
	}
	return nil
}
