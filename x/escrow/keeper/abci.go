package keeper

import (
	"context"
	"math"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/internal/heightqueue"
)

// EndBlocker handles only the accounts due at this height, found through the height-keyed queues:
// refills first (a refill due now can save an account from depleting now), then depletions. Its
// cost is O(accounts due), independent of how many accounts stream.
func (k Keeper) EndBlocker(ctx context.Context) error {
	h := height(ctx)
	if err := heightqueue.Process(ctx, k.RefillQueue, h, types.ModuleName, "refill",
		func(c context.Context, id uint64) error { return k.refill(c, id, h) }); err != nil {
		return err
	}
	return heightqueue.Process(ctx, k.DepletionQueue, h, types.ModuleName, "depletion",
		func(c context.Context, id uint64) error { return k.deplete(c, id, h) })
}

// deplete settles an account to its last fully funded block, closes its streams, refunds the
// remainder (less than one block's rate) and tells x/market which leases ended.
func (k Keeper) deplete(ctx context.Context, id uint64, h int64) error {
	acc, err := k.Accounts.Get(ctx, id)
	if err != nil {
		return err
	}
	at := acc.DepletionHeight
	refund, leases, err := k.closeAccount(ctx, &acc, at, "insufficient_funds")
	if err != nil {
		return err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountDepleted{
		AccountId: id, Height: at, Refunded: refund.String(),
	}); err != nil {
		return err
	}
	if k.hooks.hooks != nil && len(leases) > 0 {
		return k.hooks.hooks.AfterAccountDepleted(ctx, id, leases)
	}
	return nil
}

// nextRefill is the earliest height at which acc, refilled with amount at h, refills again: once
// the blocks amount pays for have passed, and not after the account runs out.
func nextRefill(acc types.Account, amount sdkmath.Int, h int64) int64 {
	bought := int64(1)
	if acc.Rate.IsPositive() {
		if b := amount.Quo(acc.Rate); b.IsInt64() && b.Int64() > 1 {
			bought = b.Int64()
		} else if !b.IsInt64() {
			bought = math.MaxInt64
		}
	}
	if acc.DepletionHeight > h && bought > acc.DepletionHeight-h {
		return acc.DepletionHeight
	}
	if bought > math.MaxInt64-h {
		return math.MaxInt64
	}
	return h + bought
}

// refill pulls the policy's amount from the owner's spendable balance if it is there and the cap
// allows, and emits an event either way. A failed refill is not retried until the account
// changes again (a deposit or a new policy re-arms it), so it cannot spin every block.
func (k Keeper) refill(ctx context.Context, id uint64, h int64) error {
	acc, err := k.Accounts.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := k.RefillQueue.Remove(ctx, pairKey(acc.RefillHeight, id)); err != nil {
		return err
	}
	acc.RefillHeight = 0
	em := sdk.UnwrapSDKContext(ctx).EventManager()
	fail := func(reason string) error {
		if err := k.Accounts.Set(ctx, id, acc); err != nil {
			return err
		}
		return em.EmitTypedEvent(&types.EventRefill{AccountId: id, Ok: false, Reason: reason})
	}
	p := acc.Refill
	if acc.State != types.ACCOUNT_STATE_OPEN || p == nil {
		return fail("no open account with a refill policy")
	}
	amount := sdkmath.MinInt(p.Amount, p.Cap.Sub(p.Refilled))
	if !amount.IsPositive() {
		return fail("refill cap reached")
	}
	owner, err := k.addressCodec.StringToBytes(acc.Owner)
	if err != nil {
		return err
	}
	if k.bank.SpendableCoin(ctx, owner, acc.Denom).Amount.LT(amount) {
		return fail("owner balance below the refill amount")
	}
	if err := k.settle(ctx, &acc, h); err != nil {
		return err
	}
	coin := sdk.NewCoin(acc.Denom, amount)
	if err := k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, sdk.NewCoins(coin)); err != nil {
		return fail(err.Error())
	}
	p.Refilled = p.Refilled.Add(amount)
	if err := k.deposit(ctx, &acc, acc.Owner, amount); err != nil {
		return err
	}
	// Re-armed no sooner than the blocks this refill bought (at least the next block): refills
	// keep pace with what the leases consume, and a policy of tiny amounts cannot have every
	// EndBlock refill the account, unmetered, for next to nothing.
	if next := nextRefill(acc, amount, h); acc.RefillHeight != 0 && acc.RefillHeight < next {
		if err := k.RefillQueue.Remove(ctx, pairKey(acc.RefillHeight, id)); err != nil {
			return err
		}
		acc.RefillHeight = next
		if err := k.RefillQueue.Set(ctx, pairKey(next, id)); err != nil {
			return err
		}
		if err := k.Accounts.Set(ctx, id, acc); err != nil {
			return err
		}
	}
	return em.EmitTypedEvent(&types.EventRefill{AccountId: id, Ok: true, Amount: coin.String()})
}
