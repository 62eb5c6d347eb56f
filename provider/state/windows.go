package state

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MarkWindowReported records that lease's SLA window (numbered from 1) was reported, so a
// restarted sidecar does not report it twice.
func (s *Store) MarkWindowReported(lease, window uint64) error {
	if window == 0 {
		return fmt.Errorf("mark window reported for lease %d: windows are numbered from 1", lease)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := leaseBucketForWrite(tx, bucketWindows, lease)
		if err != nil {
			return err
		}
		if err := b.Put(encodeU64(window), []byte{}); err != nil {
			return fmt.Errorf("mark window %d of lease %d reported: %w", window, lease, err)
		}
		// The chain has the window's figures now; its samples are no longer needed.
		if sb := leaseBucket(tx, bucketWindowSamples, lease); sb != nil {
			prefix := encodeU64(window)
			c := sb.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
				if err := sb.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// addWindowSamples appends a chunk of lease's requests (ingress.EncodeSample each, in the order
// the ingress recorded them) to its SLA window, so a restarted sidecar reports the window with
// the requests served before the restart. MarkWindowReported drops them.
func addWindowSamples(tx *bolt.Tx, lease, window uint64, encoded []byte) error {
	if len(encoded) == 0 {
		return nil
	}
	b, err := leaseBucketForWrite(tx, bucketWindowSamples, lease)
	if err != nil {
		return err
	}
	chunk, err := b.NextSequence()
	if err != nil {
		return err
	}
	key := append(encodeU64(window), encodeU64(chunk)...)
	if err := b.Put(key, encoded); err != nil {
		return fmt.Errorf("samples of window %d of lease %d: %w", window, lease, err)
	}
	return nil
}

// WindowSamples are one window's samples, encoded (see AppendReceiptWithSamples).
type WindowSamples struct {
	Window  uint64
	Encoded []byte
}

// PendingWindowSamples returns lease's stored samples by window, in window order.
func (s *Store) PendingWindowSamples(lease uint64) ([]WindowSamples, error) {
	var out []WindowSamples
	err := s.db.View(func(tx *bolt.Tx) error {
		b := leaseBucket(tx, bucketWindowSamples, lease)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 16 {
				return fmt.Errorf("window samples of lease %d: bad key %x", lease, k)
			}
			w := decodeU64(k[:8])
			if len(out) == 0 || out[len(out)-1].Window != w {
				out = append(out, WindowSamples{Window: w})
			}
			last := &out[len(out)-1]
			last.Encoded = append(last.Encoded, v...)
			return nil
		})
	})
	return out, err
}

// DropWindowSamples forgets all of lease's stored samples (the lease has ended).
func (s *Store) DropWindowSamples(lease uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketWindowSamples).DeleteBucket(encodeU64(lease))
		if errors.Is(err, bolt.ErrBucketNotFound) {
			return nil
		}
		return err
	})
}

// WindowReported says whether MarkWindowReported was called for lease's window.
func (s *Store) WindowReported(lease, window uint64) (bool, error) {
	var reported bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := leaseBucket(tx, bucketWindows, lease); b != nil {
			reported = b.Get(encodeU64(window)) != nil
		}
		return nil
	})
	return reported, err
}
