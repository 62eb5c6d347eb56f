package sla

import (
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/appmodule"
	"cosmossdk.io/core/store"
	"cosmossdk.io/depinject"

	"github.com/cosmos/cosmos-sdk/codec"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	modulev1 "github.com/computed-network/computed/api/computed/sla/module/v1"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/keeper"
	"github.com/computed-network/computed/x/sla/types"
)

func init() {
	appmodule.Register(&modulev1.Module{},
		appmodule.Provide(ProvideModule),
		appmodule.Invoke(InvokeSetMarketKeeper),
	)
}

// ModuleInputs are what depinject hands the module. x/market is not among them: x/market takes
// this module's bid filter, so x/market's keeper arrives through an invoker instead.
type ModuleInputs struct {
	depinject.In

	Config       *modulev1.Module
	StoreService store.KVStoreService
	Cdc          codec.Codec
	AddressCodec address.Codec

	BankKeeper    types.BankKeeper
	AccountKeeper types.AccountKeeper
	EscrowKeeper  types.EscrowKeeper
	// AttestationFilter is x/attest's half of the bid filter; without it, orders that require
	// evidence are refused.
	AttestationFilter markettypes.AttestationFilter `optional:"true"`
}

// ModuleOutputs are what the module gives the app: the composed bid filter for x/market, and
// hooks for x/market's leases and x/attest's lapses.
type ModuleOutputs struct {
	depinject.Out

	Keeper         keeper.Keeper
	Module         appmodule.AppModule
	ProviderFilter markettypes.ProviderFilter
	MarketHooks    markettypes.MarketHooksWrapper
	AttestHooks    attesttypes.AttestHooksWrapper
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
		in.BankKeeper, in.AccountKeeper, in.EscrowKeeper, in.AttestationFilter.Filter)
	return ModuleOutputs{
		Keeper:         k,
		Module:         NewAppModule(in.Cdc, k),
		ProviderFilter: k.BidFilter(),
		MarketHooks:    markettypes.MarketHooksWrapper{MarketHooks: k.Hooks()},
		AttestHooks:    attesttypes.AttestHooksWrapper{AttestHooks: k.Hooks()},
	}
}

// InvokeSetMarketKeeper hands x/market's keeper to x/sla once both exist.
func InvokeSetMarketKeeper(k keeper.Keeper, m types.MarketKeeper) error {
	k.SetMarketKeeper(m)
	return nil
}
