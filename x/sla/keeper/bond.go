package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/sla/types"
)

// getBond returns provider's bond, empty if it never bonded.
func (k Keeper) getBond(ctx context.Context, provider sdk.AccAddress) (types.Bond, error) {
	b, err := k.Bonds.Get(ctx, provider)
	if errors.Is(err, collections.ErrNotFound) {
		return types.Bond{Provider: k.str(provider), Bonded: sdk.Coins{}, Locked: sdk.Coins{}}, nil
	}
	return b, err
}

func (k Keeper) setBond(ctx context.Context, provider sdk.AccAddress, b types.Bond) error {
	if b.Bonded.IsZero() && b.Locked.IsZero() {
		return k.Bonds.Remove(ctx, provider)
	}
	return k.Bonds.Set(ctx, provider, b)
}

// FreeBond is what of provider's bond in denom no active lease has locked.
func (k Keeper) FreeBond(ctx context.Context, provider sdk.AccAddress, denom string) (sdkmath.Int, error) {
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return sdkmath.ZeroInt(), err
	}
	return freeOf(b, denom), nil
}

func freeOf(b types.Bond, denom string) sdkmath.Int {
	free := b.Bonded.AmountOf(denom).Sub(b.Locked.AmountOf(denom))
	if free.IsNegative() {
		return sdkmath.ZeroInt()
	}
	return free
}

// bond is MsgBond.
func (k Keeper) bond(ctx context.Context, msg *types.MsgBond) error {
	provider, err := k.addr(msg.Provider, "provider")
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := msg.Amount.Validate(); err != nil || !msg.Amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "bond must be a positive coin, got %s", msg.Amount)
	}
	if !params.IsBondable(msg.Amount.Denom) {
		return errorsmod.Wrapf(types.ErrDenomNotBondable, "%s (bondable: %v)", msg.Amount.Denom, params.BondDenoms)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, provider, types.ModuleName, sdk.NewCoins(msg.Amount)); err != nil {
		return err
	}
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return err
	}
	b.Bonded = b.Bonded.Add(msg.Amount)
	if err := k.setBond(ctx, provider, b); err != nil {
		return err
	}
	return emit(ctx, &types.EventBonded{Provider: msg.Provider, Amount: msg.Amount.String(), Bonded: b.Bonded.String()})
}

// unbond is MsgUnbond: free bond leaves the bond now and returns after the unbonding period.
func (k Keeper) unbond(ctx context.Context, msg *types.MsgUnbond) (uint64, int64, error) {
	provider, err := k.addr(msg.Provider, "provider")
	if err != nil {
		return 0, 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, 0, err
	}
	if err := msg.Amount.Validate(); err != nil || !msg.Amount.IsPositive() {
		return 0, 0, errorsmod.Wrapf(types.ErrInvalidAmount, "unbond must be a positive coin, got %s", msg.Amount)
	}
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return 0, 0, err
	}
	if free := freeOf(b, msg.Amount.Denom); free.LT(msg.Amount.Amount) {
		return 0, 0, errorsmod.Wrapf(types.ErrInsufficientBond, "free bond is %s%s (bonded %s, locked by active leases %s)",
			free, msg.Amount.Denom, b.Bonded, b.Locked)
	}
	b.Bonded = b.Bonded.Sub(msg.Amount)
	if err := k.setBond(ctx, provider, b); err != nil {
		return 0, 0, err
	}
	id, err := nextID(ctx, k.UnbondingSeq)
	if err != nil {
		return 0, 0, err
	}
	done := height(ctx) + int64(params.UnbondingBlocks)
	u := types.Unbonding{Id: id, Provider: msg.Provider, Amount: msg.Amount, CompletionHeight: done}
	if err := k.putUnbonding(ctx, provider, u); err != nil {
		return 0, 0, err
	}
	return id, done, emit(ctx, &types.EventUnbondingStarted{Provider: msg.Provider, UnbondingId: id, Amount: msg.Amount.String(), CompletionHeight: done})
}

func (k Keeper) putUnbonding(ctx context.Context, provider sdk.AccAddress, u types.Unbonding) error {
	if err := k.Unbondings.Set(ctx, u.Id, u); err != nil {
		return err
	}
	if err := k.UnbondingsByProvider.Set(ctx, collections.Join([]byte(provider), u.Id)); err != nil {
		return err
	}
	return k.UnbondingQueue.Set(ctx, collections.Join(u.CompletionHeight, u.Id))
}

// completeUnbonding returns matured collateral (called from EndBlock through the queue).
func (k Keeper) completeUnbonding(ctx context.Context, id uint64) error {
	u, err := k.Unbondings.Get(ctx, id)
	if err != nil {
		return err
	}
	provider, err := k.addr(u.Provider, "provider")
	if err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, provider, sdk.NewCoins(u.Amount)); err != nil {
		return err
	}
	if err := k.Unbondings.Remove(ctx, id); err != nil {
		return err
	}
	if err := k.UnbondingsByProvider.Remove(ctx, collections.Join([]byte(provider), id)); err != nil {
		return err
	}
	if err := k.UnbondingQueue.Remove(ctx, collections.Join(u.CompletionHeight, id)); err != nil {
		return err
	}
	return emit(ctx, &types.EventUnbondingCompleted{Provider: u.Provider, UnbondingId: id, Amount: u.Amount.String()})
}

// lockBond locks up to want of provider's free bond for a lease and returns what it locked.
func (k Keeper) lockBond(ctx context.Context, provider sdk.AccAddress, leaseID uint64, want sdk.Coin) (sdk.Coin, error) {
	if want.Denom == "" || !want.IsPositive() {
		return sdk.Coin{}, nil
	}
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return sdk.Coin{}, err
	}
	locked := sdk.NewCoin(want.Denom, sdkmath.MinInt(want.Amount, freeOf(b, want.Denom)))
	if locked.IsPositive() {
		b.Locked = b.Locked.Add(locked)
		if err := k.setBond(ctx, provider, b); err != nil {
			return sdk.Coin{}, err
		}
	}
	return locked, emit(ctx, &types.EventBondLocked{
		Provider: k.str(provider), LeaseId: leaseID, Amount: locked.String(), Shortfall: want.Sub(locked).String(),
	})
}

// releaseBond gives a closed lease's lock back to the free bond.
func (k Keeper) releaseBond(ctx context.Context, provider sdk.AccAddress, leaseID uint64, locked sdk.Coin) error {
	if locked.Denom == "" || !locked.IsPositive() {
		return nil
	}
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return err
	}
	// Locks are added and removed whole, so the lock is there to subtract; clamp anyway rather
	// than panic on state imported from a bad genesis.
	rest, negative := b.Locked.SafeSub(locked)
	if negative {
		rest = b.Locked.Sub(sdk.NewCoins(sdk.NewCoin(locked.Denom, b.Locked.AmountOf(locked.Denom)))...)
	}
	b.Locked = rest
	if err := k.setBond(ctx, provider, b); err != nil {
		return err
	}
	return emit(ctx, &types.EventBondReleased{Provider: k.str(provider), LeaseId: leaseID, Amount: locked.String()})
}

// slash pays up to amount from provider's bond to recipient and returns what it paid. Locked
// bond is slashable too: locks say what may not be withdrawn, not what is safe from penalties.
func (k Keeper) slash(ctx context.Context, provider, recipient sdk.AccAddress, amount sdk.Coin) (sdk.Coin, error) {
	if amount.Denom == "" || amount.Amount.IsNil() || !amount.IsPositive() {
		// A literal, not sdk.NewCoin, which panics on the empty denom this branch admits.
		return sdk.Coin{Denom: amount.Denom, Amount: sdkmath.ZeroInt()}, nil
	}
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return sdk.Coin{}, err
	}
	paid := sdk.NewCoin(amount.Denom, sdkmath.MinInt(amount.Amount, b.Bonded.AmountOf(amount.Denom)))
	if !paid.IsPositive() {
		return paid, nil
	}
	b.Bonded = b.Bonded.Sub(paid)
	if err := k.setBond(ctx, provider, b); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, recipient, sdk.NewCoins(paid)); err != nil {
		return sdk.Coin{}, err
	}
	return paid, nil
}
