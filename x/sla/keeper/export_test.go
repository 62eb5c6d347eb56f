package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Slash exposes slash to the external tests.
func (k Keeper) Slash(ctx context.Context, provider, recipient sdk.AccAddress, amount sdk.Coin, since int64) (sdk.Coin, error) {
	return k.slash(ctx, provider, recipient, amount, since)
}
