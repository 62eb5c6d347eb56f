// Package receipts turns a provider's work into compute receipts, anchors them on chain in
// Merkle-rooted batches, and serves buyers the inclusion proofs that tie each receipt to an
// anchored root.
package receipts

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// LeaseInfo is what a receipt says about the lease it was earned on; it is fixed for the life
// of the lease.
type LeaseInfo struct {
	LeaseID        uint64
	GpuSku         string
	VramGib        uint32
	Metro          string
	WorkloadDigest string
	// AttestationTokenHash is the SHA-256 of the attestation evidence in force.
	AttestationTokenHash []byte
	// PricePerBlock is the lease's rate; receipts are priced in its denom.
	PricePerBlock sdk.Coin
}

// Work is one unit of work done on a lease.
type Work struct {
	Start, End time.Time
	// Input and Output are hashed, never stored: the receipt commits to them without
	// revealing the buyer's data.
	Input, Output []byte
	// Price is what the work cost; zero value means free, in the lease's denom.
	Price         sdk.Coin
	SettlementRef string
}

// NewLeaf builds the receipt for work on lease with sequence seq.
func NewLeaf(lease LeaseInfo, seq uint64, w Work) (slatypes.ReceiptLeaf, error) {
	if w.Start.IsZero() || w.End.IsZero() {
		return slatypes.ReceiptLeaf{}, errors.New("work needs a start and an end time")
	}
	price := w.Price
	denom := lease.PricePerBlock.Denom
	if price.Amount.IsNil() && denom != "" {
		price = sdk.NewCoin(denom, sdkmath.ZeroInt())
	}
	// A receipt in another denom would make the batch's aggregate usage meaningless.
	if denom != "" && price.Denom != denom {
		return slatypes.ReceiptLeaf{}, fmt.Errorf("work priced in %q, lease %d is priced in %q", price.Denom, lease.LeaseID, denom)
	}
	in, out := sha256.Sum256(w.Input), sha256.Sum256(w.Output)
	r := slatypes.ReceiptLeaf{
		SchemaVersion:        slatypes.ReceiptSchemaVersion,
		LeaseId:              lease.LeaseID,
		Sequence:             seq,
		GpuSku:               lease.GpuSku,
		VramGib:              lease.VramGib,
		Metro:                lease.Metro,
		WorkloadDigest:       lease.WorkloadDigest,
		AttestationTokenHash: append([]byte(nil), lease.AttestationTokenHash...),
		StartUnixMs:          w.Start.UnixMilli(),
		EndUnixMs:            w.End.UnixMilli(),
		InputCommitment:      in[:],
		OutputCommitment:     out[:],
		Price:                price,
		SettlementRef:        w.SettlementRef,
	}
	if err := r.Validate(); err != nil {
		return slatypes.ReceiptLeaf{}, fmt.Errorf("receipt for lease %d: %w", lease.LeaseID, err)
	}
	return r, nil
}

// Builder issues receipts into the store, which assigns their sequences.
type Builder struct {
	store *state.Store
}

// NewBuilder returns a Builder appending to store.
func NewBuilder(store *state.Store) *Builder { return &Builder{store: store} }

// Append builds the receipt for w and stores it under lease's next sequence. Call the Batcher's
// Add afterwards so it can cut a batch without waiting for its next tick.
func (b *Builder) Append(lease LeaseInfo, w Work) (slatypes.ReceiptLeaf, error) {
	return b.AppendWithSamples(lease, w, state.Measured{})
}

// AppendWithSamples is Append that also keeps what the work's requests and the latest probes
// add to their SLA windows, in the same transaction (state.Store.KeepWindows).
func (b *Builder) AppendWithSamples(lease LeaseInfo, w Work, m state.Measured) (slatypes.ReceiptLeaf, error) {
	return b.store.AppendReceiptWithSamples(lease.LeaseID, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		return NewLeaf(lease, seq, w)
	}, m)
}
