package keeper

import (
	"cosmossdk.io/collections"

	"context"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/escrow/types"
)

// RegisterInvariants registers x/escrow's invariants with x/crisis.
func RegisterInvariants(ir sdk.InvariantRegistry, k Keeper) {
	ir.RegisterRoute(types.ModuleName, "module-balance", ModuleBalanceInvariant(k))
	ir.RegisterRoute(types.ModuleName, "non-negative", NonNegativeInvariant(k))
	ir.RegisterRoute(types.ModuleName, "settled-height", SettledHeightInvariant(k))
}

// AllInvariants runs every invariant; tests call it after each block.
func AllInvariants(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		for _, inv := range []sdk.Invariant{ModuleBalanceInvariant(k), NonNegativeInvariant(k), SettledHeightInvariant(k)} {
			if msg, broken := inv(ctx); broken {
				return msg, true
			}
		}
		return "", false
	}
}

// Owed sums what escrow holds on behalf of others: open accounts' balances plus every stream's
// earned-not-withdrawn. Settlement moves money between the two terms only, so lazily settled
// state gives the same total as fully settled state.
func (k Keeper) Owed(ctx context.Context) (sdk.Coins, error) {
	owed := sdk.NewCoins()
	denoms := map[uint64]string{}
	err := k.Accounts.Walk(ctx, nil, func(id uint64, acc types.Account) (bool, error) {
		denoms[id] = acc.Denom
		if acc.State == types.ACCOUNT_STATE_OPEN {
			owed = owed.Add(sdk.NewCoin(acc.Denom, acc.Balance))
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Streams.Walk(ctx, nil, func(_ uint64, s types.Stream) (bool, error) {
		owed = owed.Add(sdk.NewCoin(denoms[s.AccountId], s.Earned))
		return false, nil
	})
	return owed, err
}

// ModuleBalanceInvariant: the module account holds exactly what escrow owes.
func ModuleBalanceInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		owed, err := k.Owed(ctx)
		if err != nil {
			return sdk.FormatInvariant(types.ModuleName, "module-balance", err.Error()), true
		}
		held := k.bank.GetAllBalances(ctx, k.auth.GetModuleAddress(types.ModuleName))
		broken := !held.Equal(owed)
		return sdk.FormatInvariant(types.ModuleName, "module-balance",
			fmt.Sprintf("module account holds %s, accounts and streams owe %s", held, owed)), broken
	}
}

// NonNegativeInvariant: no balance, rate, earning or withdrawal is negative.
func NonNegativeInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		msg := ""
		_ = k.Accounts.Walk(ctx, nil, func(id uint64, acc types.Account) (bool, error) {
			if acc.Balance.IsNegative() || acc.Rate.IsNegative() {
				msg = fmt.Sprintf("account %d: balance %s rate %s", id, acc.Balance, acc.Rate)
				return true, nil
			}
			return false, nil
		})
		if msg == "" {
			_ = k.Streams.Walk(ctx, nil, func(id uint64, s types.Stream) (bool, error) {
				if s.Earned.IsNegative() || s.Withdrawn.IsNegative() || s.Rate.IsNegative() {
					msg = fmt.Sprintf("stream %d: earned %s withdrawn %s rate %s", id, s.Earned, s.Withdrawn, s.Rate)
					return true, nil
				}
				return false, nil
			})
		}
		return sdk.FormatInvariant(types.ModuleName, "non-negative", msg), msg != ""
	}
}

// SettledHeightInvariant: no account is settled past the current height, and every open account
// that streams is in the depletion queue at its depletion height.
func SettledHeightInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		msg := ""
		_ = k.Accounts.Walk(ctx, nil, func(id uint64, acc types.Account) (bool, error) {
			if acc.SettledHeight > ctx.BlockHeight() {
				msg = fmt.Sprintf("account %d settled at %d, beyond height %d", id, acc.SettledHeight, ctx.BlockHeight())
				return true, nil
			}
			if acc.State == types.ACCOUNT_STATE_OPEN && !acc.Rate.IsZero() {
				// Settling keeps it: the balance falls by what the blocks it settles cost.
				if want := depletionHeight(acc); acc.DepletionHeight != want {
					msg = fmt.Sprintf("account %d records depletion at %d, its balance and rate say %d", id, acc.DepletionHeight, want)
					return true, nil
				}
				if ok, _ := k.DepletionQueue.Has(ctx, pairKey(acc.DepletionHeight, id)); !ok {
					msg = fmt.Sprintf("account %d streams but is not queued at its depletion height %d", id, acc.DepletionHeight)
					return true, nil
				}
			}
			return false, nil
		})
		if msg == "" {
			// And nothing else is queued: a stale entry would end a stream early.
			_ = k.DepletionQueue.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
				acc, err := k.Accounts.Get(ctx, key.K2())
				if err != nil || acc.State != types.ACCOUNT_STATE_OPEN || acc.Rate.IsZero() || acc.DepletionHeight != key.K1() {
					msg = fmt.Sprintf("depletion queue entry (%d, %d) matches no streaming account depleting then", key.K1(), key.K2())
					return true, nil
				}
				return false, nil
			})
		}
		return sdk.FormatInvariant(types.ModuleName, "settled-height", msg), msg != ""
	}
}
