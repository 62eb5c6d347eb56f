package state

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Commit is a replicated order's commit-reveal state. The salt must outlive a crash between
// commit and reveal: without it the provider cannot reveal and forfeits the job.
type Commit struct {
	LeaseID      uint64 `json:"lease_id"`
	ResultDigest []byte `json:"result_digest"`
	Salt         []byte `json:"salt"`
	CommitHash   []byte `json:"commit_hash"`
	Committed    bool   `json:"committed"`
	Revealed     bool   `json:"revealed"`
}

// PutCommit creates or replaces the commit of order.
func (s *Store) PutCommit(order uint64, c Commit) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketCommits), encodeU64(order), c); err != nil {
			return fmt.Errorf("put commit of order %d: %w", order, err)
		}
		return nil
	})
}

// GetCommit returns the commit of order, or an error wrapping ErrNotFound.
func (s *Store) GetCommit(order uint64) (Commit, error) {
	var c Commit
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketCommits), encodeU64(order), &c)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return Commit{}, fmt.Errorf("commit of order %d: %w", order, err)
	}
	return c, nil
}
