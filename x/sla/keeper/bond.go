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
	if n, err := k.unbondingCount(ctx, provider, types.MaxUnbondings); err != nil {
		return 0, 0, err
	} else if n >= types.MaxUnbondings {
		return 0, 0, errorsmod.Wrapf(types.ErrTooManyUnbondings, "%d in progress, at most %d: wait for one to complete", n, types.MaxUnbondings)
	}
	b.Bonded = b.Bonded.Sub(msg.Amount)
	if err := k.setBond(ctx, provider, b); err != nil {
		return 0, 0, err
	}
	id, err := nextID(ctx, k.UnbondingSeq)
	if err != nil {
		return 0, 0, err
	}
	done, err := k.unbondingCompletion(ctx, provider, params)
	if err != nil {
		return 0, 0, err
	}
	u := types.Unbonding{Id: id, Provider: msg.Provider, Amount: msg.Amount, CompletionHeight: done, CreationHeight: height(ctx)}
	if err := k.putUnbonding(ctx, provider, u); err != nil {
		return 0, 0, err
	}
	return id, done, emit(ctx, &types.EventUnbondingStarted{Provider: msg.Provider, UnbondingId: id, Amount: msg.Amount.String(), CompletionHeight: done})
}

// unbondingCompletion is when an unbonding started now completes: unbonding_blocks from now, or
// later if one of the provider's active leases could still be penalized after that for a fault
// the unbonding is liable for. A penalty reaches unbondings started at or after the fault's
// first block (slash); the window running now began at or before this block, and its verdict can
// come up to grace + dispute + response + vote after it ends, which for a long window is past
// unbonding_blocks (a day-long window with the default params: about 216,000 blocks against
// 172,800). A replicated job's cut comes at its reveal deadline. Windows already ended and
// closed leases are covered by unbonding_blocks itself (Params.Validate).
func (k Keeper) unbondingCompletion(ctx context.Context, provider sdk.AccAddress, params types.Params) (int64, error) {
	now := height(ctx)
	done := types.AddHeight(now, params.UnbondingBlocks)
	iter, err := k.LeasesByProvider.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, uint64](provider))
	if err != nil {
		return 0, err
	}
	defer iter.Close()
	for ; iter.Valid(); iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return 0, err
		}
		ls, err := k.Leases.Get(ctx, key.K2())
		if err != nil {
			return 0, err
		}
		var verdict int64
		switch {
		case ls.Terms.WindowBlocks > 0:
			w := types.WindowAt(ls.StartHeight, ls.Terms.WindowBlocks, now)
			due := types.WindowDue(ls.StartHeight, ls.Terms.WindowBlocks, w, params.ReportGraceBlocks)
			verdict = types.AddHeight(due, params.DisputeWindowBlocks+params.DisputeResponseBlocks+params.DisputeVoteBlocks)
		default:
			r, err := k.Replications.Get(ctx, ls.OrderId)
			if errors.Is(err, collections.ErrNotFound) {
				continue // no windows, no commit-reveal: nothing to judge
			} else if err != nil {
				return 0, err
			}
			verdict = r.RevealDeadline
		}
		if verdict >= done {
			done = types.AddHeight(verdict, 1)
		}
	}
	return done, nil
}

// unbondingCount counts provider's unbondings in progress, up to limit.
func (k Keeper) unbondingCount(ctx context.Context, provider sdk.AccAddress, limit int) (int, error) {
	iter, err := k.UnbondingsByProvider.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, uint64](provider))
	if err != nil {
		return 0, err
	}
	defer iter.Close()
	n := 0
	for ; iter.Valid() && n < limit; iter.Next() {
		n++
	}
	return n, nil
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
	if err := k.removeUnbonding(ctx, provider, u); err != nil {
		return err
	}
	return emit(ctx, &types.EventUnbondingCompleted{Provider: u.Provider, UnbondingId: id, Amount: u.Amount.String()})
}

func (k Keeper) removeUnbonding(ctx context.Context, provider sdk.AccAddress, u types.Unbonding) error {
	if err := k.Unbondings.Remove(ctx, u.Id); err != nil {
		return err
	}
	if err := k.UnbondingsByProvider.Remove(ctx, collections.Join([]byte(provider), u.Id)); err != nil {
		return err
	}
	return k.UnbondingQueue.Remove(ctx, collections.Join(u.CompletionHeight, u.Id))
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
// What the bond lacks is taken from the provider's unbondings that started at or after since,
// the height the infraction began, newest first: a provider that unbonds between a breach and
// its verdict (the lease's lock ends when the lease closes, windows are judged after the grace
// period and disputes run for days) still pays. Earlier unbondings are not at stake, as in
// x/staking.
func (k Keeper) slash(ctx context.Context, provider, recipient sdk.AccAddress, amount sdk.Coin, since int64) (sdk.Coin, error) {
	if amount.Denom == "" || amount.Amount.IsNil() || !amount.IsPositive() {
		// A literal, not sdk.NewCoin, which panics on the empty denom this branch admits.
		return sdk.Coin{Denom: amount.Denom, Amount: sdkmath.ZeroInt()}, nil
	}
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return sdk.Coin{}, err
	}
	paid := sdk.NewCoin(amount.Denom, sdkmath.MinInt(amount.Amount, b.Bonded.AmountOf(amount.Denom)))
	if paid.IsPositive() {
		b.Bonded = b.Bonded.Sub(paid)
		if err := k.setBond(ctx, provider, b); err != nil {
			return sdk.Coin{}, err
		}
	}
	if rest := amount.Amount.Sub(paid.Amount); rest.IsPositive() {
		took, err := k.slashUnbondings(ctx, provider, sdk.NewCoin(amount.Denom, rest), since)
		if err != nil {
			return sdk.Coin{}, err
		}
		paid = paid.AddAmount(took)
	}
	if !paid.IsPositive() {
		return paid, nil
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, recipient, sdk.NewCoins(paid)); err != nil {
		return sdk.Coin{}, err
	}
	return paid, nil
}

// slashUnbondings takes up to want from provider's unbondings in want's denom that started at or
// after since, newest first, and returns what it took (still in the module account). An unbonding
// taken whole is removed with its queue entry.
func (k Keeper) slashUnbondings(ctx context.Context, provider sdk.AccAddress, want sdk.Coin, since int64) (sdkmath.Int, error) {
	took := sdkmath.ZeroInt()
	us, err := k.unbondingsSince(ctx, provider, since)
	if err != nil {
		return took, err
	}
	for _, u := range us {
		rest := want.Amount.Sub(took)
		if !rest.IsPositive() {
			break
		}
		if u.Amount.Denom != want.Denom || !u.Amount.IsPositive() {
			continue
		}
		cut := sdkmath.MinInt(rest, u.Amount.Amount)
		u.Amount = u.Amount.SubAmount(cut)
		took = took.Add(cut)
		if u.Amount.IsZero() {
			if err := k.removeUnbonding(ctx, provider, u); err != nil {
				return took, err
			}
		} else if err := k.Unbondings.Set(ctx, u.Id, u); err != nil {
			return took, err
		}
		if err := emit(ctx, &types.EventUnbondingSlashed{
			Provider: u.Provider, UnbondingId: u.Id, Amount: sdk.NewCoin(want.Denom, cut).String(), Remaining: u.Amount.String(),
		}); err != nil {
			return took, err
		}
	}
	return took, nil
}

// unbondingsSince lists provider's unbondings that started at or after since, newest first.
// Unbonding ids grow with height, so the walk stops at the first one older than since.
func (k Keeper) unbondingsSince(ctx context.Context, provider sdk.AccAddress, since int64) ([]types.Unbonding, error) {
	iter, err := k.UnbondingsByProvider.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, uint64](provider).Descending())
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	var out []types.Unbonding
	for ; iter.Valid(); iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return nil, err
		}
		u, err := k.Unbondings.Get(ctx, key.K2())
		if err != nil {
			return nil, err
		}
		if u.CreationHeight < since {
			break
		}
		out = append(out, u)
	}
	return out, nil
}

// slashable is what a penalty for an infraction that began at since can take from provider in
// denom: the bond and the unbondings started since then.
func (k Keeper) slashable(ctx context.Context, provider sdk.AccAddress, denom string, since int64) (sdkmath.Int, error) {
	b, err := k.getBond(ctx, provider)
	if err != nil {
		return sdkmath.Int{}, err
	}
	total := b.Bonded.AmountOf(denom)
	us, err := k.unbondingsSince(ctx, provider, since)
	if err != nil {
		return sdkmath.Int{}, err
	}
	for _, u := range us {
		if u.Amount.Denom == denom {
			total = total.Add(u.Amount.Amount)
		}
	}
	return total, nil
}
