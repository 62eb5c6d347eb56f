package state

import (
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
		return nil
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
