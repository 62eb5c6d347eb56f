package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/escrow/types"
)

// This file is the keeper API other modules call: x/market opens and closes accounts and streams,
// x/sla credits buyers and reduces or pauses streams. Every function settles first, so money owed
// up to now is always paid at the rate that applied.

func height(ctx context.Context) int64 { return sdk.UnwrapSDKContext(ctx).BlockHeight() }

// ValidateDeposit checks that coin may open an account: allowed denom, positive, above the minimum.
func (k Keeper) ValidateDeposit(ctx context.Context, coin sdk.Coin) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if !params.IsAllowed(coin.Denom) {
		return errorsmod.Wrapf(types.ErrDenomNotAllowed, "%s (allowed: %v)", coin.Denom, params.AllowedDenoms)
	}
	if !coin.Amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "deposit must be positive, got %s", coin)
	}
	if min := params.MinDeposit(coin.Denom); coin.Amount.LT(min) {
		return errorsmod.Wrapf(types.ErrDepositTooSmall, "%s is below the minimum %s%s", coin, min, coin.Denom)
	}
	return nil
}

// IsDenomAllowed reports whether denom may price and pay orders.
func (k Keeper) IsDenomAllowed(ctx context.Context, denom string) (bool, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return false, err
	}
	return params.IsAllowed(denom), nil
}

// OpenAccount locks an order's deposit from owner.
func (k Keeper) OpenAccount(ctx context.Context, id uint64, owner sdk.AccAddress, deposit sdk.Coin) error {
	if err := k.ValidateDeposit(ctx, deposit); err != nil {
		return err
	}
	if ok, err := k.Accounts.Has(ctx, id); err != nil {
		return err
	} else if ok {
		return errorsmod.Wrapf(types.ErrAccountExists, "account %d", id)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, sdk.NewCoins(deposit)); err != nil {
		return err
	}
	ownerStr, err := k.addressCodec.BytesToString(owner)
	if err != nil {
		return err
	}
	now := height(ctx)
	acc := types.Account{
		Id: id, Owner: ownerStr, Denom: deposit.Denom, Balance: deposit.Amount, SettledHeight: now,
		State: types.ACCOUNT_STATE_OPEN, Rate: sdkmath.ZeroInt(), OpenedHeight: now,
	}
	if err := k.AccountsByOwner.Set(ctx, pairKey([]byte(owner), id)); err != nil {
		return err
	}
	if err := k.Accounts.Set(ctx, id, acc); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountOpened{
		AccountId: id, Owner: ownerStr, Amount: deposit.String(),
	})
}

func (k Keeper) openAccount(ctx context.Context, id uint64) (types.Account, error) {
	acc, err := k.Accounts.Get(ctx, id)
	if err != nil {
		return acc, errorsmod.Wrapf(types.ErrAccountNotFound, "account %d", id)
	}
	if acc.State != types.ACCOUNT_STATE_OPEN {
		return acc, errorsmod.Wrapf(types.ErrAccountClosed, "account %d", id)
	}
	return acc, k.settle(ctx, &acc, height(ctx))
}

// OpenStream starts paying payee rate per block from the account, from the next block on.
func (k Keeper) OpenStream(ctx context.Context, accountID, leaseID uint64, payee sdk.AccAddress, rate sdk.Coin) error {
	acc, err := k.openAccount(ctx, accountID)
	if err != nil {
		return err
	}
	if rate.Denom != acc.Denom {
		return errorsmod.Wrapf(types.ErrDenomMismatch, "rate %s, account %s", rate.Denom, acc.Denom)
	}
	if !rate.Amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "rate must be positive, got %s", rate)
	}
	if ok, err := k.Streams.Has(ctx, leaseID); err != nil {
		return err
	} else if ok {
		return errorsmod.Wrapf(types.ErrStreamExists, "stream %d", leaseID)
	}
	payeeStr, err := k.addressCodec.BytesToString(payee)
	if err != nil {
		return err
	}
	now := height(ctx)
	s := types.Stream{
		LeaseId: leaseID, AccountId: accountID, Payee: payeeStr, Rate: rate.Amount,
		Earned: sdkmath.ZeroInt(), Withdrawn: sdkmath.ZeroInt(), State: types.STREAM_STATE_ACTIVE, OpenedHeight: now,
	}
	if err := k.Streams.Set(ctx, leaseID, s); err != nil {
		return err
	}
	if err := k.StreamsByAccount.Set(ctx, pairKey(accountID, leaseID)); err != nil {
		return err
	}
	acc.Rate = acc.Rate.Add(rate.Amount)
	if err := k.reschedule(ctx, &acc, now); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStreamOpened{
		LeaseId: leaseID, AccountId: accountID, Payee: payeeStr, Rate: rate.String(), DepletionHeight: acc.DepletionHeight,
	})
}

// CloseStream stops a stream after settling it; a closed stream or account is left as it is, so
// market and escrow may both close the same lease without double effects.
func (k Keeper) CloseStream(ctx context.Context, leaseID uint64, reason string) error {
	s, err := k.Streams.Get(ctx, leaseID)
	if err != nil {
		return errorsmod.Wrapf(types.ErrStreamNotFound, "stream %d", leaseID)
	}
	if s.State == types.STREAM_STATE_CLOSED {
		return nil
	}
	acc, err := k.Accounts.Get(ctx, s.AccountId)
	if err != nil {
		return err
	}
	now := height(ctx)
	if err := k.settle(ctx, &acc, now); err != nil {
		return err
	}
	s, _ = k.Streams.Get(ctx, leaseID) // settle may have credited it
	if s.State == types.STREAM_STATE_ACTIVE {
		acc.Rate = acc.Rate.Sub(s.Rate)
	}
	s.State, s.ClosedHeight = types.STREAM_STATE_CLOSED, now
	if err := k.Streams.Set(ctx, leaseID, s); err != nil {
		return err
	}
	if err := k.reschedule(ctx, &acc, now); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStreamClosed{
		LeaseId: leaseID, AccountId: s.AccountId, Earned: s.Earned.String() + acc.Denom, Reason: reason,
	})
}

// CloseAccount settles, closes every stream still running and refunds the rest to the owner.
// Earned but unwithdrawn money stays for the payees. Closing a closed account does nothing.
func (k Keeper) CloseAccount(ctx context.Context, id uint64, reason string) error {
	acc, err := k.Accounts.Get(ctx, id)
	if err != nil {
		return errorsmod.Wrapf(types.ErrAccountNotFound, "account %d", id)
	}
	if acc.State != types.ACCOUNT_STATE_OPEN {
		return nil
	}
	refund, _, err := k.closeAccount(ctx, &acc, height(ctx), reason)
	if err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountClosed{
		AccountId: id, Refunded: refund.String(),
	})
}

// closeAccount settles acc to h, closes its streams, refunds its balance and saves it closed. It
// returns the refund and the leases whose streams it closed.
func (k Keeper) closeAccount(ctx context.Context, acc *types.Account, h int64, reason string) (sdk.Coin, []uint64, error) {
	if err := k.settle(ctx, acc, h); err != nil {
		return sdk.Coin{}, nil, err
	}
	var closed []uint64
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	err := k.forEachStream(ctx, acc.Id, func(s *types.Stream) (bool, error) {
		if s.State == types.STREAM_STATE_CLOSED {
			return false, nil
		}
		s.State, s.ClosedHeight = types.STREAM_STATE_CLOSED, h
		closed = append(closed, s.LeaseId)
		return true, sdkCtx.EventManager().EmitTypedEvent(&types.EventStreamClosed{
			LeaseId: s.LeaseId, AccountId: acc.Id, Earned: s.Earned.String() + acc.Denom, Reason: reason,
		})
	})
	if err != nil {
		return sdk.Coin{}, nil, err
	}
	refund := sdk.NewCoin(acc.Denom, acc.Balance)
	if refund.IsPositive() {
		owner, err := k.addressCodec.StringToBytes(acc.Owner)
		if err != nil {
			return sdk.Coin{}, nil, err
		}
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, owner, sdk.NewCoins(refund)); err != nil {
			return sdk.Coin{}, nil, err
		}
	}
	acc.Balance, acc.Rate = sdkmath.ZeroInt(), sdkmath.ZeroInt()
	acc.State, acc.ClosedHeight = types.ACCOUNT_STATE_CLOSED, h
	return refund, closed, k.reschedule(ctx, acc, h)
}

// deposit adds amount (already in the module account) to an open, settled account.
func (k Keeper) deposit(ctx context.Context, acc *types.Account, depositor string, amount sdkmath.Int) error {
	acc.Balance = acc.Balance.Add(amount)
	if err := k.reschedule(ctx, acc, height(ctx)); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventDeposited{
		AccountId: acc.Id, Depositor: depositor, Amount: amount.String() + acc.Denom, DepletionHeight: acc.DepletionHeight,
	})
}

// CreditAccount moves amount from another module's account (x/sla's bond pool) into a buyer's
// escrow account: a penalty paid to the buyer extends its runway.
func (k Keeper) CreditAccount(ctx context.Context, fromModule string, accountID uint64, amount sdk.Coin) error {
	acc, err := k.openAccount(ctx, accountID)
	if err != nil {
		return err
	}
	if amount.Denom != acc.Denom {
		return errorsmod.Wrapf(types.ErrDenomMismatch, "credit %s, account %s", amount.Denom, acc.Denom)
	}
	if !amount.Amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "credit must be positive, got %s", amount)
	}
	if err := k.bank.SendCoinsFromModuleToModule(ctx, fromModule, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return err
	}
	if err := k.deposit(ctx, &acc, fromModule, amount.Amount); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountCredited{
		AccountId: accountID, FromModule: fromModule, Amount: amount.String(),
	})
}

// SetStreamRate changes a stream's rate from the next block on (x/sla reduces it after a breach).
func (k Keeper) SetStreamRate(ctx context.Context, leaseID uint64, rate sdkmath.Int) error {
	if rate.IsNil() || !rate.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "rate must be positive")
	}
	return k.changeStream(ctx, leaseID, func(s *types.Stream) { s.Rate = rate })
}

// PauseStream stops a stream earning until ResumeStream.
func (k Keeper) PauseStream(ctx context.Context, leaseID uint64) error {
	return k.changeStream(ctx, leaseID, func(s *types.Stream) { s.State = types.STREAM_STATE_PAUSED })
}

// ResumeStream restarts a paused stream.
func (k Keeper) ResumeStream(ctx context.Context, leaseID uint64) error {
	return k.changeStream(ctx, leaseID, func(s *types.Stream) { s.State = types.STREAM_STATE_ACTIVE })
}

func (k Keeper) changeStream(ctx context.Context, leaseID uint64, change func(s *types.Stream)) error {
	s, err := k.Streams.Get(ctx, leaseID)
	if err != nil {
		return errorsmod.Wrapf(types.ErrStreamNotFound, "stream %d", leaseID)
	}
	if s.State == types.STREAM_STATE_CLOSED {
		return errorsmod.Wrapf(types.ErrStreamClosed, "stream %d", leaseID)
	}
	acc, err := k.openAccount(ctx, s.AccountId)
	if err != nil {
		return err
	}
	s, _ = k.Streams.Get(ctx, leaseID) // settled
	if s.State == types.STREAM_STATE_ACTIVE {
		acc.Rate = acc.Rate.Sub(s.Rate)
	}
	change(&s)
	if s.State == types.STREAM_STATE_ACTIVE {
		acc.Rate = acc.Rate.Add(s.Rate)
	}
	if err := k.Streams.Set(ctx, leaseID, s); err != nil {
		return err
	}
	if err := k.reschedule(ctx, &acc, height(ctx)); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStreamRateChanged{
		LeaseId: leaseID, Rate: s.Rate.String() + acc.Denom, State: s.State.String(),
	})
}

// StreamFunds is the settled balance of the account lease's stream draws on: x/sla shares it
// among a replicated job's winners when it cannot pay them all in full.
func (k Keeper) StreamFunds(ctx context.Context, leaseID uint64) (sdkmath.Int, error) {
	s, err := k.Streams.Get(ctx, leaseID)
	if err != nil {
		return sdkmath.ZeroInt(), errorsmod.Wrapf(types.ErrStreamNotFound, "stream %d", leaseID)
	}
	acc, err := k.openAccount(ctx, s.AccountId)
	if err != nil {
		return sdkmath.ZeroInt(), err
	}
	// Settling paid the streams in the store: the account must say so too, or the next
	// settle pays the same blocks again.
	if err := k.Accounts.Set(ctx, acc.Id, acc); err != nil {
		return sdkmath.ZeroInt(), err
	}
	return acc.Balance, nil
}

// PayStream moves up to amount from a stream's account balance into the stream's earnings at
// once, returning what it moved. x/sla pays replicated jobs this way: their streams are paused
// while the replicas work, and each winner is paid for the blocks it ran once the result is
// agreed. The stream may be paused or active, not closed.
func (k Keeper) PayStream(ctx context.Context, leaseID uint64, amount sdkmath.Int) (sdkmath.Int, error) {
	if amount.IsNil() || !amount.IsPositive() {
		return sdkmath.ZeroInt(), errorsmod.Wrapf(types.ErrInvalidAmount, "payment must be positive")
	}
	s, err := k.Streams.Get(ctx, leaseID)
	if err != nil {
		return sdkmath.ZeroInt(), errorsmod.Wrapf(types.ErrStreamNotFound, "stream %d", leaseID)
	}
	if s.State == types.STREAM_STATE_CLOSED {
		return sdkmath.ZeroInt(), errorsmod.Wrapf(types.ErrStreamClosed, "stream %d", leaseID)
	}
	acc, err := k.openAccount(ctx, s.AccountId)
	if err != nil {
		return sdkmath.ZeroInt(), err
	}
	s, _ = k.Streams.Get(ctx, leaseID) // settled
	paid := sdkmath.MinInt(amount, acc.Balance)
	if !paid.IsPositive() {
		return sdkmath.ZeroInt(), nil
	}
	acc.Balance = acc.Balance.Sub(paid)
	s.Earned = s.Earned.Add(paid)
	if err := k.Streams.Set(ctx, leaseID, s); err != nil {
		return sdkmath.ZeroInt(), err
	}
	if err := k.reschedule(ctx, &acc, height(ctx)); err != nil {
		return sdkmath.ZeroInt(), err
	}
	return paid, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStreamPaid{
		LeaseId: leaseID, AccountId: acc.Id, Amount: paid.String() + acc.Denom,
	})
}
