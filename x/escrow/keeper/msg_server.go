package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/internal/addrs"
	"github.com/computed-network/computed/x/internal/govparams"
)

type msgServer struct {
	k Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the module's Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

// UpdateParams replaces params; only the authority may call it.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	event := &types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params}
	if err := govparams.Apply(ctx, m.k.Params, m.k.authority, msg.Authority, msg.Params, types.ErrInvalidParams, event); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

func (m msgServer) address(s, field string) (sdk.AccAddress, error) {
	addr, err := addrs.Decode(m.k.addressCodec, s)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, s, err)
	}
	return addr, nil
}

func validCoin(c sdk.Coin, what string) error {
	if c.Amount.IsNil() || c.Validate() != nil || !c.Amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "%s must be a positive coin, got %s", what, c)
	}
	return nil
}

// Deposit tops up any open account; the depositor need not be its owner.
func (m msgServer) Deposit(ctx context.Context, msg *types.MsgDeposit) (*types.MsgDepositResponse, error) {
	depositor, err := m.address(msg.Depositor, "depositor")
	if err != nil {
		return nil, err
	}
	if err := validCoin(msg.Amount, "amount"); err != nil {
		return nil, err
	}
	acc, err := m.k.openAccount(ctx, msg.AccountId)
	if err != nil {
		return nil, err
	}
	if msg.Amount.Denom != acc.Denom {
		return nil, errorsmod.Wrapf(types.ErrDenomMismatch, "deposit %s, account %s", msg.Amount.Denom, acc.Denom)
	}
	if err := m.k.bank.SendCoinsFromAccountToModule(ctx, depositor, types.ModuleName, sdk.NewCoins(msg.Amount)); err != nil {
		return nil, err
	}
	if err := m.k.deposit(ctx, &acc, msg.Depositor, msg.Amount.Amount); err != nil {
		return nil, err
	}
	return &types.MsgDepositResponse{DepletionHeight: acc.DepletionHeight}, nil
}

// Withdraw pays the payee what its stream has earned up to now, less the protocol take, which goes
// to the community pool.
func (m msgServer) Withdraw(ctx context.Context, msg *types.MsgWithdraw) (*types.MsgWithdrawResponse, error) {
	payee, err := m.address(msg.Payee, "payee")
	if err != nil {
		return nil, err
	}
	s, err := m.k.Streams.Get(ctx, msg.LeaseId)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrStreamNotFound, "stream %d", msg.LeaseId)
	}
	if s.Payee != msg.Payee {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "only the payee %s may withdraw from stream %d", s.Payee, msg.LeaseId)
	}
	acc, err := m.k.Accounts.Get(ctx, s.AccountId)
	if err != nil {
		return nil, err
	}
	if acc.State == types.ACCOUNT_STATE_OPEN {
		if err := m.k.settle(ctx, &acc, height(ctx)); err != nil {
			return nil, err
		}
		if err := m.k.reschedule(ctx, &acc, height(ctx)); err != nil {
			return nil, err
		}
		s, _ = m.k.Streams.Get(ctx, msg.LeaseId)
	}
	if !s.Earned.IsPositive() {
		return nil, errorsmod.Wrapf(types.ErrNothingToWithdraw, "stream %d has earned nothing since the last withdrawal", msg.LeaseId)
	}
	params, err := m.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	// The take is charged on the stream's running total, not on each withdrawal alone: rounding
	// each one down would let a payee withdraw in amounts too small to be taken from at all.
	take := params.Take(s.Withdrawn.Add(s.Earned)).Sub(params.Take(s.Withdrawn))
	paid := s.Earned.Sub(take)
	if paid.IsPositive() {
		if err := m.k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, payee, sdk.NewCoins(sdk.NewCoin(acc.Denom, paid))); err != nil {
			return nil, err
		}
	}
	if take.IsPositive() {
		if err := m.k.distr.FundCommunityPool(ctx, sdk.NewCoins(sdk.NewCoin(acc.Denom, take)), m.k.auth.GetModuleAddress(types.ModuleName)); err != nil {
			return nil, err
		}
	}
	s.Withdrawn = s.Withdrawn.Add(s.Earned)
	s.Earned = sdkmath.ZeroInt()
	if err := m.k.Streams.Set(ctx, s.LeaseId, s); err != nil {
		return nil, err
	}
	paidCoin, takeCoin := sdk.NewCoin(acc.Denom, paid), sdk.NewCoin(acc.Denom, take)
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventWithdrawn{
		LeaseId: s.LeaseId, Payee: s.Payee, Paid: paidCoin.String(), Take: takeCoin.String(),
	}); err != nil {
		return nil, err
	}
	return &types.MsgWithdrawResponse{Paid: paidCoin, Take: takeCoin}, nil
}

// SetRefillPolicy sets or removes (zero amount) the owner's standing top-up authorisation.
func (m msgServer) SetRefillPolicy(ctx context.Context, msg *types.MsgSetRefillPolicy) (*types.MsgSetRefillPolicyResponse, error) {
	if _, err := m.address(msg.Owner, "owner"); err != nil {
		return nil, err
	}
	acc, err := m.k.openAccount(ctx, msg.AccountId)
	if err != nil {
		return nil, err
	}
	if acc.Owner != msg.Owner {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "only the owner %s may set account %d's refill policy", acc.Owner, acc.Id)
	}
	if msg.Amount.Amount.IsNil() || msg.Amount.Amount.IsZero() {
		acc.Refill = nil
	} else {
		if err := validCoin(msg.Amount, "amount"); err != nil {
			return nil, err
		}
		if err := validCoin(msg.Cap, "cap"); err != nil {
			return nil, err
		}
		switch {
		case msg.Amount.Denom != acc.Denom || msg.Cap.Denom != acc.Denom:
			return nil, errorsmod.Wrapf(types.ErrDenomMismatch, "refill in %s/%s, account %s", msg.Amount.Denom, msg.Cap.Denom, acc.Denom)
		case msg.Cap.Amount.LT(msg.Amount.Amount):
			return nil, errorsmod.Wrapf(types.ErrInvalidRefillPolicy, "cap %s is below one refill %s", msg.Cap, msg.Amount)
		case msg.LowWaterBlocks == 0:
			return nil, errorsmod.Wrap(types.ErrInvalidRefillPolicy, "low_water_blocks must be positive")
		case msg.LowWaterBlocks > types.MaxLowWaterBlocks:
			// It is subtracted from a height as an int64.
			return nil, errorsmod.Wrapf(types.ErrInvalidRefillPolicy, "low_water_blocks must be at most %d, got %d", types.MaxLowWaterBlocks, msg.LowWaterBlocks)
		}
		acc.Refill = &types.RefillPolicy{
			Amount: msg.Amount.Amount, Cap: msg.Cap.Amount, Refilled: sdkmath.ZeroInt(), LowWaterBlocks: msg.LowWaterBlocks,
		}
	}
	if err := m.k.reschedule(ctx, &acc, height(ctx)); err != nil {
		return nil, err
	}
	ev := &types.EventRefillPolicySet{AccountId: acc.Id, RefillHeight: acc.RefillHeight}
	if acc.Refill != nil {
		ev.Amount, ev.Cap, ev.LowWaterBlocks = msg.Amount.String(), msg.Cap.String(), msg.LowWaterBlocks
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(ev); err != nil {
		return nil, err
	}
	return &types.MsgSetRefillPolicyResponse{RefillHeight: acc.RefillHeight}, nil
}
