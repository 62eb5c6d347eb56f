package keeper

import (
	"fmt"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/attest/types"
)

// RegisterInvariants registers x/attest's invariants with x/crisis.
func RegisterInvariants(ir sdk.InvariantRegistry, k Keeper) {
	ir.RegisterRoute(types.ModuleName, "expiry-queues", QueuesInvariant(k))
}

// AllInvariants runs every invariant; tests call it after each block.
func AllInvariants(k Keeper) sdk.Invariant { return QueuesInvariant(k) }

// QueuesInvariant: every record and challenge has exactly its expiry entry and every entry its
// item, so nothing outlives its validity and EndBlock never meets a dangling entry; and every
// record belongs to a registered provider.
func QueuesInvariant(k Keeper) sdk.Invariant {
	return func(ctx sdk.Context) (string, bool) {
		var problems []string
		records := 0
		err := k.Records.Walk(ctx, nil, func(key collections.Pair[[]byte, int32], r types.AttestationRecord) (bool, error) {
			records++
			if has, err := k.RecordExpiry.Has(ctx, collections.Join3(r.ValidUntil, key.K1(), key.K2())); err != nil || !has {
				problems = append(problems, fmt.Sprintf("record of %s (%s) has no expiry entry", r.Provider, r.EvidenceType))
			}
			if has, err := k.Providers.Has(ctx, key.K1()); err != nil || !has {
				problems = append(problems, fmt.Sprintf("record of unregistered provider %s", r.Provider))
			}
			return false, nil
		})
		entries := 0
		if err == nil {
			err = k.RecordExpiry.Walk(ctx, nil, func(collections.Triple[int64, []byte, int32]) (bool, error) {
				entries++
				return false, nil
			})
		}
		if entries != records {
			problems = append(problems, fmt.Sprintf("%d record expiry entries for %d records", entries, records))
		}
		challenges, challengeEntries, providerEntries := 0, 0, 0
		if err == nil {
			err = k.Challenges.Walk(ctx, nil, func(id uint64, c types.Challenge) (bool, error) {
				challenges++
				if has, err := k.ChallengeExpiry.Has(ctx, collections.Join(c.ExpiryHeight, id)); err != nil || !has {
					problems = append(problems, fmt.Sprintf("challenge %d has no expiry entry", id))
				}
				provider, _ := k.addressCodec.StringToBytes(c.Provider)
				if has, err := k.ProviderChallenges.Has(ctx, collections.Join(provider, id)); err != nil || !has {
					problems = append(problems, fmt.Sprintf("challenge %d is not indexed under its provider", id))
				}
				return false, nil
			})
		}
		if err == nil {
			err = k.ChallengeExpiry.Walk(ctx, nil, func(collections.Pair[int64, uint64]) (bool, error) {
				challengeEntries++
				return false, nil
			})
		}
		if err == nil {
			err = k.ProviderChallenges.Walk(ctx, nil, func(collections.Pair[[]byte, uint64]) (bool, error) {
				providerEntries++
				return false, nil
			})
		}
		if challenges != challengeEntries || challenges != providerEntries {
			problems = append(problems, fmt.Sprintf("%d challenge expiry entries and %d provider entries for %d challenges", challengeEntries, providerEntries, challenges))
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
		broken := len(problems) > 0
		return sdk.FormatInvariant(types.ModuleName, "expiry-queues", fmt.Sprintf("%d problems: %v", len(problems), problems)), broken
	}
}
