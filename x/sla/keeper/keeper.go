package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/internal/addrs"
	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

// Keeper owns x/sla's state. Everything EndBlock acts on is found through a height-keyed queue
// (windows falling due, unbondings maturing, dispute and replication deadlines), never a scan.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	// authority may update params: the gov module account unless the app config says otherwise.
	authority string

	bank   types.BankKeeper
	auth   types.AccountKeeper
	escrow types.EscrowKeeper
	// attest is x/attest's bid filter (nil: evidence requirements fail closed).
	attest markettypes.ProviderFilter
	// market reaches the keeper after construction (see SetMarketKeeper); shared by all copies.
	market *marketHolder

	Schema collections.Schema
	Params collections.Item[types.Params]

	Bonds                collections.Map[[]byte, types.Bond]
	Unbondings           collections.Map[uint64, types.Unbonding]
	UnbondingSeq         collections.Sequence
	UnbondingQueue       collections.KeySet[collections.Pair[int64, uint64]]
	UnbondingsByProvider collections.KeySet[collections.Pair[[]byte, uint64]]

	Leases collections.Map[uint64, types.LeaseSLA]
	// LeasesByProvider holds the provider's ACTIVE leases, for the attestation-lapse hook.
	LeasesByProvider collections.KeySet[collections.Pair[[]byte, uint64]]
	// WindowQueue: (due height, lease) for the next window of every lease under SLA.
	WindowQueue collections.KeySet[collections.Pair[int64, uint64]]
	Reports     collections.Map[collections.Pair[uint64, uint64], types.SLAReport]
	// Batches: (lease, first sequence) → anchored receipt batch.
	Batches collections.Map[collections.Pair[uint64, uint64], types.ReceiptBatch]

	Disputes        collections.Map[uint64, types.Dispute]
	DisputeSeq      collections.Sequence
	DisputeQueue    collections.KeySet[collections.Pair[int64, uint64]]
	DisputesByLease collections.KeySet[collections.Pair[uint64, uint64]]

	Replications     collections.Map[uint64, types.Replication]
	ReplicationQueue collections.KeySet[collections.Pair[int64, uint64]]

	Reputation collections.Map[[]byte, uint32]
}

type marketHolder struct{ k types.MarketKeeper }

// NewKeeper builds the keeper and its collections schema. It panics on a bad authority, which can
// only come from app wiring, never from a transaction. attest may be nil.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	authority string,
	bank types.BankKeeper,
	auth types.AccountKeeper,
	escrow types.EscrowKeeper,
	attest markettypes.ProviderFilter,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid %s authority address %q: %w", types.ModuleName, authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	heightPair := collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)
	addrPair := collections.PairKeyCodec(collections.BytesKey, collections.Uint64Key)
	u64Pair := collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)
	k := Keeper{
		cdc: cdc, storeService: storeService, addressCodec: addressCodec, authority: authority,
		bank: bank, auth: auth, escrow: escrow, attest: attest, market: &marketHolder{},
		Params:               collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Bonds:                collections.NewMap(sb, types.BondsKey, "bonds", collections.BytesKey, codec.CollValue[types.Bond](cdc)),
		Unbondings:           collections.NewMap(sb, types.UnbondingsKey, "unbondings", collections.Uint64Key, codec.CollValue[types.Unbonding](cdc)),
		UnbondingSeq:         collections.NewSequence(sb, types.UnbondingSeqKey, "unbonding_seq"),
		UnbondingQueue:       collections.NewKeySet(sb, types.UnbondingQueueKey, "unbonding_queue", heightPair),
		UnbondingsByProvider: collections.NewKeySet(sb, types.UnbondingsByProviderKey, "unbondings_by_provider", addrPair),
		Leases:               collections.NewMap(sb, types.LeasesKey, "leases", collections.Uint64Key, codec.CollValue[types.LeaseSLA](cdc)),
		LeasesByProvider:     collections.NewKeySet(sb, types.LeasesByProviderKey, "leases_by_provider", addrPair),
		WindowQueue:          collections.NewKeySet(sb, types.WindowQueueKey, "window_queue", heightPair),
		Reports:              collections.NewMap(sb, types.ReportsKey, "reports", u64Pair, codec.CollValue[types.SLAReport](cdc)),
		Batches:              collections.NewMap(sb, types.BatchesKey, "batches", u64Pair, codec.CollValue[types.ReceiptBatch](cdc)),
		Disputes:             collections.NewMap(sb, types.DisputesKey, "disputes", collections.Uint64Key, codec.CollValue[types.Dispute](cdc)),
		DisputeSeq:           collections.NewSequence(sb, types.DisputeSeqKey, "dispute_seq"),
		DisputeQueue:         collections.NewKeySet(sb, types.DisputeQueueKey, "dispute_queue", heightPair),
		DisputesByLease:      collections.NewKeySet(sb, types.DisputesByLeaseKey, "disputes_by_lease", u64Pair),
		Replications:         collections.NewMap(sb, types.ReplicationsKey, "replications", collections.Uint64Key, codec.CollValue[types.Replication](cdc)),
		ReplicationQueue:     collections.NewKeySet(sb, types.ReplicationQueueKey, "replication_queue", heightPair),
		Reputation:           collections.NewMap(sb, types.ReputationKey, "reputation", collections.BytesKey, collections.Uint32Value),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetMarketKeeper installs x/market; app wiring calls it once.
func (k Keeper) SetMarketKeeper(m types.MarketKeeper) {
	if k.market.k != nil {
		panic("sla market keeper already set")
	}
	k.market.k = m
}

// GetAuthority returns the address allowed to update params.
func (k Keeper) GetAuthority() string { return k.authority }

func (k Keeper) mkt() (types.MarketKeeper, error) {
	if k.market.k == nil {
		return nil, fmt.Errorf("x/sla: market keeper not wired")
	}
	return k.market.k, nil
}

func height(ctx context.Context) int64 { return sdk.UnwrapSDKContext(ctx).BlockHeight() }

func emit(ctx context.Context, ev proto.Message) error {
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(ev)
}

func (k Keeper) addr(s, field string) (sdk.AccAddress, error) {
	b, err := addrs.Decode(k.addressCodec, s)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, s, err)
	}
	return b, nil
}

func (k Keeper) str(a sdk.AccAddress) string {
	s, _ := k.addressCodec.BytesToString(a)
	return s
}

// nextID hands out ids from 1, so 0 can mean "none".
func nextID(ctx context.Context, seq collections.Sequence) (uint64, error) {
	last, err := seq.Peek(ctx)
	if err != nil {
		return 0, err
	}
	if err := seq.Set(ctx, last+1); err != nil {
		return 0, err
	}
	return last + 1, nil
}
