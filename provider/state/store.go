// Package state is the sidecar's crash-safe local store. Everything the sidecar must not forget
// across a kill -9 lives here: the leases it runs, every compute receipt it issued, the batches
// it cut from them and how far each got towards the chain, replication commit-reveal secrets,
// reported SLA windows and the chain watcher's cursor.
//
// The store is one bbolt file. Every mutation is a single bbolt Update transaction, so after a
// crash the file holds either the state before or the state after a call, never a mix; bbolt
// fsyncs on commit, so a call that returned nil survives the crash.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// formatVersion is the on-disk layout this code reads and writes; Open refuses other versions
// rather than misreading them.
const formatVersion = 1

// lockTimeout bounds how long Open waits for bbolt's file lock. A second sidecar on the same
// file must fail fast instead of hanging, because two writers would each assign the same
// receipt sequences.
const lockTimeout = time.Second

var (
	// ErrNotFound is returned (wrapped) by lookups of things the store does not hold.
	ErrNotFound = errors.New("not found")
	// ErrLocked is returned (wrapped) by Open when another process holds the file.
	ErrLocked = errors.New("state file is locked")
)

// Store is the sidecar's state file. Its methods are safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

// Open opens (creating if needed) the state file at path. It fails within about a second if
// another process has the file open.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create state directory: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("another sidecar holds %s (%w)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	return s, nil
}

// init creates the top-level buckets and checks the format version in one transaction, so a
// crash during the first Open leaves either an empty file or a complete layout.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		internal := tx.Bucket(bucketStore)
		if v := internal.Get(keyFormat); v != nil {
			if got := decodeU64(v); got != formatVersion {
				return fmt.Errorf("state format version %d, this sidecar reads %d", got, formatVersion)
			}
			return nil
		}
		return internal.Put(keyFormat, encodeU64(formatVersion))
	})
}

// Path is the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close releases the file (and its lock).
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state file %s: %w", s.path, err)
	}
	return nil
}
