package state

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SetCursor records the last block whose events the chain watcher has fully processed. The
// watcher applies a block's effects (acks, windows) before moving the cursor, so after a crash
// it replays at most one block, and every effect is idempotent.
func (s *Store) SetCursor(height int64) error {
	if height < 0 {
		return fmt.Errorf("set cursor: negative height %d", height)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChain).Put(keyCursor, encodeU64(uint64(height)))
	})
}

// Cursor is the height last given to SetCursor, 0 when never set.
func (s *Store) Cursor() (int64, error) {
	var h int64
	err := s.db.View(func(tx *bolt.Tx) error {
		h = int64(decodeU64(tx.Bucket(bucketChain).Get(keyCursor)))
		return nil
	})
	return h, err
}

// PutMeta stores a small value under key, for settings the sidecar wants to keep across
// restarts without a bucket of their own.
func (s *Store) PutMeta(key string, val []byte) error {
	if key == "" {
		return errors.New("put meta: empty key")
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put([]byte(key), val); err != nil {
			return fmt.Errorf("put meta %q: %w", key, err)
		}
		return nil
	})
}

// GetMeta returns a copy of the value under key, or an error wrapping ErrNotFound.
func (s *Store) GetMeta(key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte{}, v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("meta %q: %w", key, err)
	}
	return out, nil
}
