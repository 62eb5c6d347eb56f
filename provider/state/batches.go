package state

import (
	"fmt"
	"math"
	"slices"

	sdkmath "cosmossdk.io/math"
	bolt "go.etcd.io/bbolt"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

// Batch states. A batch moves pending -> sent -> acked and never back; it is cut exactly once
// and its range and root never change, so submitting it again after a restart sends the same
// MsgSubmitReceiptBatch.
const (
	// BatchPending: cut, never handed to the chain.
	BatchPending = "pending"
	// BatchSent: broadcast (TxHash names the last attempt) but not yet seen anchored.
	BatchSent = "sent"
	// BatchAcked: the chain watcher saw it anchored.
	BatchAcked = "acked"
)

// Batch is a contiguous run of a lease's receipts anchored on chain under one Merkle root.
type Batch struct {
	LeaseID uint64 `json:"lease_id"`
	First   uint64 `json:"first"`
	Last    uint64 `json:"last"`
	Count   uint64 `json:"count"`
	// Root is slatypes.ReceiptTree's root over receipts First..Last.
	Root []byte `json:"root"`
	// Usage is the sum of the receipts' price amounts, in Denom (empty when every receipt was
	// free and carried no denom).
	Usage sdkmath.Int `json:"usage"`
	Denom string      `json:"denom"`
	State string      `json:"state"`
	// TxHash is the hash of the latest broadcast of this batch.
	TxHash string `json:"tx_hash,omitempty"`
	// Attempts counts broadcasts, for operators chasing a batch that never lands.
	Attempts uint32 `json:"attempts,omitempty"`
	// AckedHeight is the block the batch was seen anchored in; 0 while unacked, or when the
	// batch was acked because a later batch was (its own height was not observed).
	AckedHeight int64 `json:"acked_height,omitempty"`
}

// CutBatch takes lease's receipts after the last cut batch, at most maxCount of them, into a
// new pending batch and returns it; it returns nil, nil when there is nothing to cut. Reading
// the receipts, computing the root and storing the batch happen in one transaction, so a
// receipt can never end up in two batches or between two batches.
func (s *Store) CutBatch(lease uint64, maxCount int) (*Batch, error) {
	if maxCount <= 0 {
		return nil, fmt.Errorf("cut batch for lease %d: max count %d must be positive", lease, maxCount)
	}
	var out *Batch
	err := s.db.Update(func(tx *bolt.Tx) error {
		cut, err := lastCut(leaseBucket(tx, bucketBatches, lease))
		if err != nil {
			return err
		}
		from := cut + 1
		receipts, err := readReceipts(leaseBucket(tx, bucketReceipts, lease), from, math.MaxUint64, maxCount)
		if err != nil || len(receipts) == 0 {
			return err
		}
		b, err := newBatch(lease, from, receipts)
		if err != nil {
			return err
		}
		bb, err := leaseBucketForWrite(tx, bucketBatches, lease)
		if err != nil {
			return err
		}
		if err := putJSON(bb, encodeU64(b.First), b); err != nil {
			return err
		}
		out = &b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cut batch for lease %d: %w", lease, err)
	}
	return out, nil
}

func newBatch(lease, first uint64, receipts []slatypes.ReceiptLeaf) (Batch, error) {
	usage := sdkmath.ZeroInt()
	denom := ""
	for i, r := range receipts {
		// Sequences are assigned without gaps; a hole here means the file was damaged and
		// anchoring it would commit to a range the buyer cannot reproduce.
		if want := first + uint64(i); r.Sequence != want {
			return Batch{}, fmt.Errorf("receipt sequence %d where %d was expected", r.Sequence, want)
		}
		if r.Price.Amount.IsNil() || r.Price.Amount.IsZero() && r.Price.Denom == "" {
			continue
		}
		if denom == "" {
			denom = r.Price.Denom
		} else if r.Price.Denom != denom {
			return Batch{}, fmt.Errorf("receipt %d is priced in %q, earlier receipts in %q", r.Sequence, r.Price.Denom, denom)
		}
		usage = usage.Add(r.Price.Amount)
	}
	root, _, err := slatypes.ReceiptTree(receipts)
	if err != nil {
		return Batch{}, err
	}
	n := uint64(len(receipts))
	return Batch{
		LeaseID: lease, First: first, Last: first + n - 1, Count: n,
		Root: root, Usage: usage, Denom: denom, State: BatchPending,
	}, nil
}

// MarkBatchSent records a broadcast of the batch starting at first. A batch already acked stays
// acked: the watcher can see the anchor before the broadcast call returns.
func (s *Store) MarkBatchSent(lease, first uint64, txHash string) error {
	return s.updateBatch(lease, first, "mark batch sent", func(b *Batch) {
		b.Attempts++
		b.TxHash = txHash
		if b.State == BatchPending {
			b.State = BatchSent
		}
	})
}

// MarkBatchAcked records that the batch starting at first was anchored at height. Every earlier
// batch of the lease is marked acked too: the chain only anchors a batch whose first sequence
// follows the last anchored one, so an anchored batch proves all before it are anchored, and a
// missed event must not leave an earlier batch to be re-sent forever.
func (s *Store) MarkBatchAcked(lease, first uint64, height int64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		bb := leaseBucket(tx, bucketBatches, lease)
		var target Batch
		found, err := getJSON(bb, encodeU64(first), &target)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		// Collect before writing: bbolt cursors are not stable across puts.
		var changed []Batch
		c := bb.Cursor()
		for k, v := c.Seek(encodeU64(first)); k != nil; k, v = c.Prev() {
			var b Batch
			if err := decodeJSON(v, &b); err != nil {
				return err
			}
			if b.State == BatchAcked && b.First != first {
				break // acks cascade, so everything before it is acked already
			}
			b.State = BatchAcked
			if b.First == first && b.AckedHeight == 0 {
				b.AckedHeight = height
			}
			changed = append(changed, b)
		}
		for _, b := range changed {
			if err := putJSON(bb, encodeU64(b.First), b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark batch %d of lease %d acked: %w", first, lease, err)
	}
	return nil
}

func (s *Store) updateBatch(lease, first uint64, what string, change func(*Batch)) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		bb := leaseBucket(tx, bucketBatches, lease)
		var b Batch
		found, err := getJSON(bb, encodeU64(first), &b)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		change(&b)
		return putJSON(bb, encodeU64(first), b)
	})
	if err != nil {
		return fmt.Errorf("%s %d of lease %d: %w", what, first, lease, err)
	}
	return nil
}

// Batch returns the batch of lease starting at first, or an error wrapping ErrNotFound.
func (s *Store) Batch(lease, first uint64) (Batch, error) {
	var b Batch
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := getJSON(leaseBucket(tx, bucketBatches, lease), encodeU64(first), &b)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return Batch{}, fmt.Errorf("batch %d of lease %d: %w", first, lease, err)
	}
	return b, nil
}

// BatchFor returns the batch of lease that contains receipt seq, or an error wrapping
// ErrNotFound when seq has not been cut into a batch (yet).
func (s *Store) BatchFor(lease, seq uint64) (Batch, error) {
	var b Batch
	err := s.db.View(func(tx *bolt.Tx) error {
		bb := leaseBucket(tx, bucketBatches, lease)
		if bb == nil {
			return ErrNotFound
		}
		c := bb.Cursor()
		k, v := c.Seek(encodeU64(seq))
		if k == nil || decodeU64(k) != seq {
			k, v = c.Prev()
		}
		if k == nil {
			return ErrNotFound
		}
		if err := decodeJSON(v, &b); err != nil {
			return err
		}
		if seq < b.First || seq > b.Last {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return Batch{}, fmt.Errorf("batch holding receipt %d of lease %d: %w", seq, lease, err)
	}
	return b, nil
}

// Batches returns every batch of lease in order.
func (s *Store) Batches(lease uint64) ([]Batch, error) {
	var out []Batch
	err := s.db.View(func(tx *bolt.Tx) error {
		bb := leaseBucket(tx, bucketBatches, lease)
		if bb == nil {
			return nil
		}
		return bb.ForEach(func(_, v []byte) error {
			var b Batch
			if err := decodeJSON(v, &b); err != nil {
				return err
			}
			out = append(out, b)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("batches of lease %d: %w", lease, err)
	}
	return out, nil
}

// PendingBatches returns lease's batches that are not acked yet (pending or sent), in order:
// exactly what still has to reach the chain, first one first.
func (s *Store) PendingBatches(lease uint64) ([]Batch, error) {
	var out []Batch
	err := s.db.View(func(tx *bolt.Tx) error {
		bb := leaseBucket(tx, bucketBatches, lease)
		if bb == nil {
			return nil
		}
		// Acks cascade backwards, so unacked batches are a suffix: walk back to the last ack.
		c := bb.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var b Batch
			if err := decodeJSON(v, &b); err != nil {
				return err
			}
			if b.State == BatchAcked {
				break
			}
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending batches of lease %d: %w", lease, err)
	}
	slices.Reverse(out)
	return out, nil
}

// LastAcked returns lease's latest acked batch, or nil when none is. Its Last is the sequence
// the chain has anchored up to, which the caller compares with the chain when reconciling.
func (s *Store) LastAcked(lease uint64) (*Batch, error) {
	var out *Batch
	err := s.db.View(func(tx *bolt.Tx) error {
		bb := leaseBucket(tx, bucketBatches, lease)
		if bb == nil {
			return nil
		}
		c := bb.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var b Batch
			if err := decodeJSON(v, &b); err != nil {
				return err
			}
			if b.State == BatchAcked {
				out = &b
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("last acked batch of lease %d: %w", lease, err)
	}
	return out, nil
}

// LastCut is the last receipt sequence of lease already in a batch (0 when none is); receipts
// after it wait for the next CutBatch.
func (s *Store) LastCut(lease uint64) (uint64, error) {
	var last uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		last, err = lastCut(leaseBucket(tx, bucketBatches, lease))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("last cut of lease %d: %w", lease, err)
	}
	return last, nil
}

// lastCut must fail rather than guess on a damaged record: reading it as 0 would re-cut
// receipts that are already in a batch.
func lastCut(bb *bolt.Bucket) (uint64, error) {
	if bb == nil {
		return 0, nil
	}
	_, v := bb.Cursor().Last()
	if v == nil {
		return 0, nil
	}
	var b Batch
	if err := decodeJSON(v, &b); err != nil {
		return 0, err
	}
	return b.Last, nil
}

// EndAnchoring records that the chain takes no more of lease's batches (it closed longer ago
// than the chain's grace): its receipts from the first unacked one on stay unanchored.
func (s *Store) EndAnchoring(lease uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAnchoringEnded).Put(encodeU64(lease), []byte{}); err != nil {
			return fmt.Errorf("end anchoring of lease %d: %w", lease, err)
		}
		return nil
	})
}

// AnchoringEnded says whether EndAnchoring was called for lease.
func (s *Store) AnchoringEnded(lease uint64) (bool, error) {
	var ended bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ended = tx.Bucket(bucketAnchoringEnded).Get(encodeU64(lease)) != nil
		return nil
	})
	return ended, err
}
