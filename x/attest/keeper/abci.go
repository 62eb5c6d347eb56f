package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/internal/heightqueue"
)

// EndBlocker removes what is due, found through ordered queues: challenges whose last usable
// height is this one or earlier, then records whose validity ended at or before this block's
// time. Cost is O(items due), never O(state).
func (k Keeper) EndBlocker(ctx context.Context) error {
	if err := k.expireChallenges(ctx); err != nil {
		return err
	}
	return k.expireRecords(ctx)
}

func (k Keeper) expireChallenges(ctx context.Context) error {
	return heightqueue.Process(ctx, k.ChallengeExpiry, height(ctx), types.ModuleName, "challenge expiry",
		func(c context.Context, id uint64) error {
			ch, err := k.Challenges.Get(c, id)
			if err != nil {
				return err // an entry without its challenge: Process drops the entry
			}
			if err := k.consumeChallenge(c, ch); err != nil {
				return err
			}
			return emit(c, &types.EventChallengeExpired{ChallengeId: ch.Id, Provider: ch.Provider})
		})
}

func (k Keeper) expireRecords(ctx context.Context) error {
	type key = collections.Triple[int64, []byte, int32]
	rng := new(collections.Range[key]).EndExclusive(collections.TriplePrefix[int64, []byte, int32](blockTime(ctx) + 1))
	iter, err := k.RecordExpiry.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	due, err := iter.Keys()
	if err != nil {
		return err
	}
	for _, e := range due {
		k.lapseRecord(ctx, e)
	}
	return nil
}

// lapseRecord deletes one expired record, emits its event and calls the hooks, in a branch of
// state: if a hook fails or panics, its writes are dropped and the record is still deleted (an expired
// record must never stay), so a faulty hook cannot halt the chain or keep a provider attested.
func (k Keeper) lapseRecord(ctx context.Context, e collections.Triple[int64, []byte, int32]) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	provider, typ := e.K2(), e.K3()
	cacheCtx, write := sdkCtx.CacheContext()
	err := heightqueue.Recovered(func() error {
		r, err := k.Records.Get(cacheCtx, collections.Join(provider, typ))
		if err != nil || r.ValidUntil != e.K1() {
			// Stale entry (the record was replaced or removed): only the entry goes.
			return k.RecordExpiry.Remove(cacheCtx, e)
		}
		if err := k.removeRecord(cacheCtx, provider, r); err != nil {
			return err
		}
		if err := emit(cacheCtx, &types.EventAttestationLapsed{
			Provider: r.Provider, EvidenceType: r.EvidenceType.String(), ValidUntil: r.ValidUntil,
		}); err != nil {
			return err
		}
		if h := k.deps.hooks; h != nil {
			return h.AfterAttestationLapsed(cacheCtx, provider)
		}
		return nil
	})
	if err == nil {
		write()
		return
	}
	sdkCtx.Logger().Error("attest: lapsing record failed; record removed without hooks", "provider", sdk.AccAddress(provider).String(), "err", err)
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent(heightqueue.EventTypeItemFailed,
		sdk.NewAttribute("module", types.ModuleName), sdk.NewAttribute("what", "record lapse"),
		sdk.NewAttribute("provider", sdk.AccAddress(provider).String()), sdk.NewAttribute("error", err.Error())))
	// Without the hooks' writes, the record still goes whole: its GPUs are freed for other
	// providers and its event is emitted. A newer record behind a stale entry stays.
	if r, err := k.Records.Get(ctx, collections.Join(provider, typ)); err == nil && r.ValidUntil == e.K1() {
		if err := k.removeRecord(ctx, provider, r); err == nil {
			_ = emit(ctx, &types.EventAttestationLapsed{Provider: r.Provider, EvidenceType: r.EvidenceType.String(), ValidUntil: r.ValidUntil})
		}
	}
	_ = k.RecordExpiry.Remove(ctx, e)
}
