package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/computed-network/computed/x/attest/types"
)

// InitGenesis writes a validated genesis state (Validate refuses a provider, sequence or record
// listed twice, and k.addr any spelling of an address but the canonical one, so no entry
// overwrites another) and rebuilds both expiry queues from it.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, p := range gs.Providers {
		operator, err := k.addr(p.Operator, "provider operator")
		if err != nil {
			return err
		}
		if p.HotKey != "" {
			if _, err := k.addr(p.HotKey, "provider hot_key"); err != nil {
				return err
			}
		}
		if err := k.Providers.Set(ctx, operator, p); err != nil {
			return err
		}
	}
	if err := k.ChallengeSeq.Set(ctx, gs.LastChallengeId); err != nil {
		return err
	}
	for _, c := range gs.Challenges {
		provider, err := k.addr(c.Provider, "challenge provider")
		if err != nil {
			return err
		}
		if err := k.putChallenge(ctx, provider, c); err != nil {
			return err
		}
	}
	for _, s := range gs.Sequences {
		provider, err := k.addr(s.Provider, "sequence provider")
		if err != nil {
			return err
		}
		if err := k.ProviderSeq.Set(ctx, provider, s.Sequence); err != nil {
			return err
		}
	}
	for _, r := range gs.Records {
		provider, err := k.addr(r.Provider, "record provider")
		if err != nil {
			return err
		}
		if err := k.Records.Set(ctx, collections.Join(provider, int32(r.EvidenceType)), r); err != nil {
			return err
		}
		if err := k.RecordExpiry.Set(ctx, collections.Join3(r.ValidUntil, provider, int32(r.EvidenceType))); err != nil {
			return err
		}
		for _, g := range r.Gpus {
			if g.Ueid != "" {
				if err := k.GPUOwners.Set(ctx, g.Ueid, provider); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ExportGenesis reads the module's whole state back out, in store order.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if gs.LastChallengeId, err = k.ChallengeSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if err := k.Providers.Walk(ctx, nil, func(_ []byte, p types.Provider) (bool, error) {
		gs.Providers = append(gs.Providers, p)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Challenges.Walk(ctx, nil, func(_ uint64, c types.Challenge) (bool, error) {
		gs.Challenges = append(gs.Challenges, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Records.Walk(ctx, nil, func(_ collections.Pair[[]byte, int32], r types.AttestationRecord) (bool, error) {
		gs.Records = append(gs.Records, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.ProviderSeq.Walk(ctx, nil, func(provider []byte, seq uint64) (bool, error) {
		s, err := k.addressCodec.BytesToString(provider)
		if err != nil {
			return true, err
		}
		gs.Sequences = append(gs.Sequences, types.ProviderSequence{Provider: s, Sequence: seq})
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
