package keeper

import (
	"context"
	"encoding/hex"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/attest/types"
)

// requestChallenge issues a nonce derived only from chain state (see types.ChallengeNonce), valid
// from now through height + challenge_ttl_blocks.
func (k Keeper) requestChallenge(ctx context.Context, msg *types.MsgRequestChallenge) (types.Challenge, error) {
	provider, err := k.addr(msg.Provider, "provider")
	if err != nil {
		return types.Challenge{}, err
	}
	if _, err := k.getProvider(ctx, provider, msg.Provider); err != nil {
		return types.Challenge{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Challenge{}, err
	}
	seq, err := k.ProviderSeq.Get(ctx, provider)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return types.Challenge{}, err
	}
	seq++
	if err := k.ProviderSeq.Set(ctx, provider, seq); err != nil {
		return types.Challenge{}, err
	}
	last, err := k.ChallengeSeq.Peek(ctx)
	if err != nil {
		return types.Challenge{}, err
	}
	id := last + 1
	if err := k.ChallengeSeq.Set(ctx, id); err != nil {
		return types.Challenge{}, err
	}
	h := height(ctx)
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c := types.Challenge{
		Id:            id,
		Provider:      msg.Provider,
		Nonce:         types.ChallengeNonce(sdkCtx.ChainID(), provider, seq, h, sdkCtx.HeaderHash()),
		Sequence:      seq,
		CreatedHeight: h,
		// A TTL near the int64 range (a governance mistake) clamps instead of wrapping negative.
		ExpiryHeight: addClamped(h, params.ChallengeTtlBlocks),
	}
	if err := k.dropOldChallenges(ctx, provider, types.MaxOpenChallenges-1); err != nil {
		return types.Challenge{}, err
	}
	if err := k.putChallenge(ctx, provider, c); err != nil {
		return types.Challenge{}, err
	}
	return c, emit(ctx, &types.EventChallengeIssued{
		ChallengeId: id, Provider: msg.Provider, Nonce: hex.EncodeToString(c.Nonce), ExpiryHeight: c.ExpiryHeight,
	})
}

func addClamped(h int64, d uint64) int64 {
	const maxInt64 = int64(^uint64(0) >> 1)
	if d > uint64(maxInt64-h) {
		return maxInt64
	}
	return h + int64(d)
}

// usableChallenge returns the challenge if provider may bind evidence to it at this height.
func (k Keeper) usableChallenge(ctx context.Context, id uint64, provider string) (types.Challenge, error) {
	c, err := k.Challenges.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return c, errorsmod.Wrapf(types.ErrChallengeNotFound, "challenge %d", id)
	} else if err != nil {
		return c, err
	}
	if c.Provider != provider {
		return c, errorsmod.Wrapf(types.ErrChallengeNotYours, "challenge %d", id)
	}
	// EndBlock deletes challenges once their expiry height has passed; this check covers the
	// same condition should an entry outlive its queue slot.
	if h := height(ctx); h > c.ExpiryHeight {
		return c, errorsmod.Wrapf(types.ErrChallengeExpired, "challenge %d expired at height %d, now %d", id, c.ExpiryHeight, h)
	}
	return c, nil
}

// consumeChallenge deletes a used challenge: each nonce backs at most one record.
func (k Keeper) consumeChallenge(ctx context.Context, c types.Challenge) error {
	if err := k.Challenges.Remove(ctx, c.Id); err != nil {
		return err
	}
	if provider, err := k.addressCodec.StringToBytes(c.Provider); err == nil {
		if err := k.ProviderChallenges.Remove(ctx, collections.Join(provider, c.Id)); err != nil {
			return err
		}
	}
	return k.ChallengeExpiry.Remove(ctx, collections.Join(c.ExpiryHeight, c.Id))
}

// putChallenge stores an outstanding challenge with its index entries.
func (k Keeper) putChallenge(ctx context.Context, provider []byte, c types.Challenge) error {
	if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
		return err
	}
	if err := k.ProviderChallenges.Set(ctx, collections.Join(provider, c.Id)); err != nil {
		return err
	}
	return k.ChallengeExpiry.Set(ctx, collections.Join(c.ExpiryHeight, c.Id))
}

// dropOldChallenges removes provider's oldest outstanding challenges (ids grow) until it holds
// at most keep, each with EventChallengeExpired.
func (k Keeper) dropOldChallenges(ctx context.Context, provider []byte, keep int) error {
	iter, err := k.ProviderChallenges.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, uint64](provider))
	if err != nil {
		return err
	}
	keys, err := iter.Keys()
	if err != nil {
		return err
	}
	for i := 0; i < len(keys)-keep; i++ {
		c, err := k.Challenges.Get(ctx, keys[i].K2())
		if err != nil {
			return err
		}
		if err := k.consumeChallenge(ctx, c); err != nil {
			return err
		}
		if err := emit(ctx, &types.EventChallengeExpired{ChallengeId: c.Id, Provider: c.Provider}); err != nil {
			return err
		}
	}
	return nil
}
