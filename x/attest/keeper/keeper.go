package keeper

import (
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/internal/addrs"
)

// Keeper owns x/attest's state: the provider registry, outstanding challenges and attestation
// records, each expiry found through an ordered queue so EndBlock touches only what is due.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	// authority may update params: the gov module account unless the app config says otherwise.
	authority string
	// deps is shared by every copy of the keeper, so hooks and the lease counter installed after
	// wiring (by depinject invokers) reach the copies x/market and the module already hold.
	deps *lateDeps

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Providers: operator address bytes → registration.
	Providers collections.Map[[]byte, types.Provider]
	// Challenges: id → outstanding challenge.
	Challenges collections.Map[uint64, types.Challenge]
	// ChallengeSeq is the last challenge id issued.
	ChallengeSeq collections.Sequence
	// ProviderSeq: provider → number of challenges ever issued to it (goes into the nonce).
	ProviderSeq collections.Map[[]byte, uint64]
	// ChallengeExpiry: (expiry height, challenge id) for every outstanding challenge.
	ChallengeExpiry collections.KeySet[collections.Pair[int64, uint64]]
	// ProviderChallenges: (provider, challenge id) for every outstanding challenge, so that a
	// provider holds at most types.MaxOpenChallenges. Derived from Challenges (rebuilt by
	// InitGenesis, not exported).
	ProviderChallenges collections.KeySet[collections.Pair[[]byte, uint64]]
	// Records: (provider, evidence type) → the provider's record of that type.
	Records collections.Map[collections.Pair[[]byte, int32], types.AttestationRecord]
	// RecordExpiry: (valid_until unix seconds, provider, evidence type) for every record. Records
	// expire by block time, which cannot be mapped to a height in advance.
	RecordExpiry collections.KeySet[collections.Triple[int64, []byte, int32]]
	// GPUOwners: GPU ueid → the provider whose record attests it, so that one GPU is not sold
	// by several providers. Derived from Records (rebuilt by InitGenesis, not exported).
	GPUOwners collections.Map[string, []byte]
}

type lateDeps struct {
	hooks        types.AttestHooks
	leaseCounter types.LeaseCounter
}

// NewKeeper builds the keeper and its collections schema. It panics on a bad authority, which can
// only come from app wiring, never from a transaction.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec, authority string) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid %s authority address %q: %w", types.ModuleName, authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		authority:    authority,
		deps:         &lateDeps{},
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Providers: collections.NewMap(sb, types.ProvidersKey, "providers", collections.BytesKey,
			codec.CollValue[types.Provider](cdc)),
		Challenges: collections.NewMap(sb, types.ChallengesKey, "challenges", collections.Uint64Key,
			codec.CollValue[types.Challenge](cdc)),
		ChallengeSeq: collections.NewSequence(sb, types.ChallengeSeqKey, "challenge_seq"),
		ProviderSeq: collections.NewMap(sb, types.ProviderSeqKey, "provider_seq", collections.BytesKey,
			collections.Uint64Value),
		ChallengeExpiry: collections.NewKeySet(sb, types.ChallengeExpiryKey, "challenge_expiry",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		ProviderChallenges: collections.NewKeySet(sb, types.ProviderChallengesKey, "provider_challenges",
			collections.PairKeyCodec(collections.BytesKey, collections.Uint64Key)),
		Records: collections.NewMap(sb, types.RecordsKey, "records",
			collections.PairKeyCodec(collections.BytesKey, collections.Int32Key),
			codec.CollValue[types.AttestationRecord](cdc)),
		RecordExpiry: collections.NewKeySet(sb, types.RecordExpiryKey, "record_expiry",
			collections.TripleKeyCodec(collections.Int64Key, collections.BytesKey, collections.Int32Key)),
		GPUOwners: collections.NewMap(sb, types.GPUOwnersKey, "gpu_owners", collections.StringKey, collections.BytesValue),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// GetAuthority returns the address allowed to update params.
func (k Keeper) GetAuthority() string { return k.authority }

// SetHooks installs the hooks; app wiring calls it once.
func (k Keeper) SetHooks(h types.AttestHooks) {
	if k.deps.hooks != nil {
		panic("attest hooks already set")
	}
	k.deps.hooks = h
}

// SetLeaseCounter installs the lease counter consulted on deregistration; app wiring calls it
// once, when some module provides one.
func (k Keeper) SetLeaseCounter(lc types.LeaseCounter) {
	if k.deps.leaseCounter != nil {
		panic("attest lease counter already set")
	}
	k.deps.leaseCounter = lc
}

func (k Keeper) addr(s, field string) ([]byte, error) {
	if s == "" {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s: empty", field)
	}
	a, err := addrs.Decode(k.addressCodec, s)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %v", field, s, err)
	}
	return a, nil
}
