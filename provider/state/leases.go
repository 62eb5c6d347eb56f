package state

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Lease states the sidecar records.
const (
	LeaseRunning = "running"
	LeaseClosed  = "closed"
	// LeaseClosing is a lease closed on chain whose last SLA reports the chain has yet to take:
	// a restart does not run it again, and reports its windows from the data kept.
	LeaseClosing = "closing"
)

// LeaseRecord is what the sidecar needs to resume serving a lease after a restart.
type LeaseRecord struct {
	LeaseID     uint64   `json:"lease_id"`
	OrderID     uint64   `json:"order_id"`
	TaskID      string   `json:"task_id"`
	Executor    string   `json:"executor"`
	Endpoint    string   `json:"endpoint"`
	Workload    string   `json:"workload"`
	GPUs        []string `json:"gpus"`
	StartHeight int64    `json:"start_height"`
	// State is LeaseRunning, LeaseClosing or LeaseClosed.
	State string `json:"state"`
	// ClosedHeight is the close's height once the lease is closing.
	ClosedHeight int64 `json:"closed_height,omitempty"`
	// WindowBlocks is the SLA window length. Windows are numbered from 1, so
	// LastReportedWindow 0 means no window has been reported yet.
	WindowBlocks       uint64 `json:"window_blocks"`
	LastReportedWindow uint64 `json:"last_reported_window"`
	Replicated         bool   `json:"replicated"`
	// Order and Lease are the chain's order and lease as the lease started (protobuf). A
	// restart serves the lease from them before the node answers; the node then says whether
	// the lease closed meanwhile. Records written before they existed lack them.
	Order []byte `json:"order,omitempty"`
	Lease []byte `json:"lease,omitempty"`
}

// PutLease creates or replaces the record of r.LeaseID.
func (s *Store) PutLease(r LeaseRecord) error {
	if r.LeaseID == 0 {
		return errors.New("put lease: lease id 0")
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketLeases), encodeU64(r.LeaseID), r); err != nil {
			return fmt.Errorf("put lease %d: %w", r.LeaseID, err)
		}
		return nil
	})
}

// GetLease returns the record of lease id, or an error wrapping ErrNotFound.
func (s *Store) GetLease(id uint64) (LeaseRecord, error) {
	var r LeaseRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketLeases), encodeU64(id), &r)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return LeaseRecord{}, fmt.Errorf("lease %d: %w", id, err)
	}
	return r, nil
}

// Leases returns every lease record in lease id order.
func (s *Store) Leases() ([]LeaseRecord, error) {
	var out []LeaseRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLeases).ForEach(func(k, v []byte) error {
			var r LeaseRecord
			if err := decodeJSON(v, &r); err != nil {
				return fmt.Errorf("lease %d: %w", decodeU64(k), err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list leases: %w", err)
	}
	return out, nil
}

// DeleteLease forgets the lease record. Its receipts, batches and reported windows stay: buyers
// may still ask for proofs, and receipt sequences must never be reused.
func (s *Store) DeleteLease(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketLeases).Delete(encodeU64(id)); err != nil {
			return fmt.Errorf("delete lease %d: %w", id, err)
		}
		return nil
	})
}
