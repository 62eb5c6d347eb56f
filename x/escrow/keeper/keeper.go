package keeper

import (
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/computed-network/computed/x/escrow/types"
)

// Keeper owns x/escrow's state: accounts (one per order), streams (one per lease) and the
// height-keyed queues that let EndBlock touch only the accounts due now.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	authority    string

	bank  types.BankKeeper
	distr types.DistributionKeeper
	auth  types.AccountKeeper
	// hooks is shared by every copy of the keeper, so hooks set after wiring reach them all.
	hooks *hooksHolder

	Schema   collections.Schema
	Params   collections.Item[types.Params]
	Accounts collections.Map[uint64, types.Account]
	Streams  collections.Map[uint64, types.Stream]
	// StreamsByAccount indexes streams under their account: (account, lease).
	StreamsByAccount collections.KeySet[collections.Pair[uint64, uint64]]
	// AccountsByOwner indexes accounts under their owner: (owner, account).
	AccountsByOwner collections.KeySet[collections.Pair[[]byte, uint64]]
	// DepletionQueue holds (depletion height, account) for every open account that streams.
	DepletionQueue collections.KeySet[collections.Pair[int64, uint64]]
	// RefillQueue holds (refill height, account) for every armed refill policy.
	RefillQueue collections.KeySet[collections.Pair[int64, uint64]]
}

type hooksHolder struct{ hooks types.EscrowHooks }

// NewKeeper builds the keeper and its collections schema. It panics on a bad authority, which can
// only come from app wiring, never from a transaction.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	authority string,
	bank types.BankKeeper,
	distr types.DistributionKeeper,
	auth types.AccountKeeper,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid %s authority address %q: %w", types.ModuleName, authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		authority:    authority,
		bank:         bank,
		distr:        distr,
		auth:         auth,
		hooks:        &hooksHolder{},
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Accounts:     collections.NewMap(sb, types.AccountsKey, "accounts", collections.Uint64Key, codec.CollValue[types.Account](cdc)),
		Streams:      collections.NewMap(sb, types.StreamsKey, "streams", collections.Uint64Key, codec.CollValue[types.Stream](cdc)),
		StreamsByAccount: collections.NewKeySet(sb, types.StreamsByAccountKey, "streams_by_account",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)),
		AccountsByOwner: collections.NewKeySet(sb, types.AccountsByOwnerKey, "accounts_by_owner",
			collections.PairKeyCodec(collections.BytesKey, collections.Uint64Key)),
		DepletionQueue: collections.NewKeySet(sb, types.DepletionQueueKey, "depletion_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		RefillQueue: collections.NewKeySet(sb, types.RefillQueueKey, "refill_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
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
func (k Keeper) SetHooks(h types.EscrowHooks) {
	if k.hooks.hooks != nil {
		panic("escrow hooks already set")
	}
	k.hooks.hooks = h
}
