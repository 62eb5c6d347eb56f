package keeper

import (
	"context"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/sla/types"
)

// RegisterInvariants registers x/sla's invariants with x/crisis.
func RegisterInvariants(ir sdk.InvariantRegistry, k Keeper) {
	ir.RegisterRoute(types.ModuleName, "module-balance", ModuleBalanceInvariant(k))
	ir.RegisterRoute(types.ModuleName, "bond-locks", BondLocksInvariant(k))
}

// AllInvariants runs every invariant, as x/market's and x/escrow's do; tests call it after each block.
func AllInvariants(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		for _, inv := range []sdk.Invariant{ModuleBalanceInvariant(k), BondLocksInvariant(k)} {
			if msg, broken := inv(ctx); broken {
				return msg, true
			}
		}
		return "", false
	}
}

// Held is everything the module account must hold: every bond, every unbonding on its way back
// and every deposit of an open dispute.
func (k Keeper) Held(ctx context.Context) (sdk.Coins, error) {
	held := sdk.NewCoins()
	bonds, err := values(ctx, k.Bonds)
	if err != nil {
		return nil, err
	}
	for _, b := range bonds {
		held = held.Add(b.Bonded...)
	}
	unbondings, err := values(ctx, k.Unbondings)
	if err != nil {
		return nil, err
	}
	for _, u := range unbondings {
		held = held.Add(u.Amount)
	}
	disputes, err := values(ctx, k.Disputes)
	if err != nil {
		return nil, err
	}
	for _, d := range disputes {
		if d.Status == types.DISPUTE_STATUS_AWAITING_RESPONSE || d.Status == types.DISPUTE_STATUS_VOTING {
			held = held.Add(d.Deposit)
		}
	}
	return held, nil
}

// ModuleBalanceInvariant: the module account holds exactly what Held says, no more, no less.
func ModuleBalanceInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		held, err := k.Held(ctx)
		if err != nil {
			return sdk.FormatInvariant(types.ModuleName, "module-balance", err.Error()), true
		}
		balance := k.bank.GetAllBalances(ctx, k.auth.GetModuleAddress(types.ModuleName))
		broken := !balance.Equal(held)
		return sdk.FormatInvariant(types.ModuleName, "module-balance",
			fmt.Sprintf("module account holds %s, bonds + unbondings + open dispute deposits are %s", balance, held)), broken
	}
}

// BondLocksInvariant: each provider's locked bond is the sum of its active leases' locks.
func BondLocksInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		leases, err := values(ctx, k.Leases)
		if err != nil {
			return sdk.FormatInvariant(types.ModuleName, "bond-locks", err.Error()), true
		}
		want := map[string]sdk.Coins{}
		for _, l := range leases {
			if l.Active && l.LockedBond.IsPositive() {
				want[l.Provider] = want[l.Provider].Add(l.LockedBond)
			}
		}
		bonds, err := values(ctx, k.Bonds)
		if err != nil {
			return sdk.FormatInvariant(types.ModuleName, "bond-locks", err.Error()), true
		}
		seen := map[string]bool{}
		for _, b := range bonds {
			seen[b.Provider] = true
			if !b.Locked.Equal(want[b.Provider]) {
				return sdk.FormatInvariant(types.ModuleName, "bond-locks",
					fmt.Sprintf("%s has %s locked, its active leases lock %s", b.Provider, b.Locked, want[b.Provider])), true
			}
		}
		for p, c := range want {
			if !seen[p] && !c.IsZero() {
				return sdk.FormatInvariant(types.ModuleName, "bond-locks", fmt.Sprintf("%s locks %s but has no bond", p, c)), true
			}
		}
		return sdk.FormatInvariant(types.ModuleName, "bond-locks", "locks match active leases"), false
	}
}
