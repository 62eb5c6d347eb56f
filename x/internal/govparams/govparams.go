// Package govparams holds the one rule every computed module applies to MsgUpdateParams: only the
// module's authority (the gov module account unless configured otherwise) may replace params, the
// new params must validate, and the change is announced with a typed event. Keeping it in one place
// means the four modules cannot drift apart on who may change consensus-critical settings.
package govparams

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
)

// Validator is implemented by every module's Params.
type Validator interface {
	Validate() error
}

// Apply stores p in item if signer is authority and p validates, then emits event. errInvalid is
// the module's own registered error for bad params, so clients see the module's codespace.
func Apply[P Validator](
	ctx context.Context,
	item collections.Item[P],
	authority, signer string,
	p P,
	errInvalid *errorsmod.Error,
	event proto.Message,
) error {
	if signer != authority {
		return errorsmod.Wrapf(govtypes.ErrInvalidSigner, "invalid authority; expected %s, got %s", authority, signer)
	}
	if err := p.Validate(); err != nil {
		return errorsmod.Wrap(errInvalid, err.Error())
	}
	if err := item.Set(ctx, p); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(event)
}
