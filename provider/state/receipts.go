package state

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

// AppendReceipt assigns lease's next receipt sequence (1 for the first, then without gaps),
// asks build for the receipt with that sequence and stores it, all in one transaction: a crash
// either keeps the receipt under its sequence or leaves the sequence unused. build runs while the
// store's write lock is held, so it must be quick and must not call back into the store.
func (s *Store) AppendReceipt(lease uint64, build func(seq uint64) (slatypes.ReceiptLeaf, error)) (slatypes.ReceiptLeaf, error) {
	return s.AppendReceiptWithSamples(lease, build, Measured{})
}

// AppendReceiptWithSamples is AppendReceipt that also keeps, in the same transaction, what the
// receipt's requests and the latest probes add to their SLA windows and the journal segment
// holding them (see KeepWindows).
func (s *Store) AppendReceiptWithSamples(lease uint64, build func(seq uint64) (slatypes.ReceiptLeaf, error), m Measured) (slatypes.ReceiptLeaf, error) {
	if lease == 0 {
		return slatypes.ReceiptLeaf{}, errors.New("append receipt: lease id 0")
	}
	var out slatypes.ReceiptLeaf
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := leaseBucketForWrite(tx, bucketReceipts, lease)
		if err != nil {
			return err
		}
		seq := nextSequence(b)
		r, err := build(seq)
		if err != nil {
			return err
		}
		if r.LeaseId != lease || r.Sequence != seq {
			return fmt.Errorf("built receipt is lease %d sequence %d, want lease %d sequence %d", r.LeaseId, r.Sequence, lease, seq)
		}
		if err := r.Validate(); err != nil {
			return err
		}
		leaf, err := r.LeafBytes()
		if err != nil {
			return err
		}
		if err := b.Put(encodeU64(seq), leaf); err != nil {
			return err
		}
		if err := keepWindows(tx, lease, m); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return slatypes.ReceiptLeaf{}, fmt.Errorf("append receipt to lease %d: %w", lease, err)
	}
	return out, nil
}

// NextSequence is the sequence lease's next receipt will get (1 when it has none).
func (s *Store) NextSequence(lease uint64) (uint64, error) {
	var next uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		next = nextSequence(leaseBucket(tx, bucketReceipts, lease))
		return nil
	})
	return next, err
}

// Receipts returns lease's receipts with sequences in [from, to], in order. Sequences never
// issued are simply absent.
func (s *Store) Receipts(lease, from, to uint64) ([]slatypes.ReceiptLeaf, error) {
	var out []slatypes.ReceiptLeaf
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = readReceipts(leaseBucket(tx, bucketReceipts, lease), from, to, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lease %d receipts %d..%d: %w", lease, from, to, err)
	}
	return out, nil
}

// Receipt returns one receipt, or an error wrapping ErrNotFound.
func (s *Store) Receipt(lease, seq uint64) (slatypes.ReceiptLeaf, error) {
	rs, err := s.Receipts(lease, seq, seq)
	if err != nil {
		return slatypes.ReceiptLeaf{}, err
	}
	if len(rs) == 0 {
		return slatypes.ReceiptLeaf{}, fmt.Errorf("lease %d receipt %d: %w", lease, seq, ErrNotFound)
	}
	return rs[0], nil
}

// ReceiptLeases lists, in order, every lease that has at least one receipt, so a restarted
// batcher can find work left over from before the restart.
func (s *Store) ReceiptLeases() ([]uint64, error) {
	var out []uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReceipts).ForEachBucket(func(k []byte) error {
			out = append(out, decodeU64(k))
			return nil
		})
	})
	return out, err
}

func nextSequence(b *bolt.Bucket) uint64 {
	if b == nil {
		return 1
	}
	k, _ := b.Cursor().Last()
	if k == nil {
		return 1
	}
	return decodeU64(k) + 1
}

// readReceipts decodes the receipts with sequences in [from, to], at most limit of them
// (0: no limit).
func readReceipts(b *bolt.Bucket, from, to uint64, limit int) ([]slatypes.ReceiptLeaf, error) {
	if b == nil || from > to {
		return nil, nil
	}
	var out []slatypes.ReceiptLeaf
	c := b.Cursor()
	for k, v := c.Seek(encodeU64(from)); k != nil && decodeU64(k) <= to; k, v = c.Next() {
		if limit > 0 && len(out) == limit {
			break
		}
		var r slatypes.ReceiptLeaf
		if err := r.Unmarshal(v); err != nil {
			return nil, fmt.Errorf("corrupt receipt %d: %w", decodeU64(k), err)
		}
		out = append(out, r)
	}
	return out, nil
}
