package state

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Top-level buckets. Per-lease data (receipts, batches, windows) lives in a nested bucket keyed
// by the lease id, so a lease's records are contiguous and its cursors need no prefix checks.
var (
	bucketStore    = []byte("store")    // internal: format version
	bucketLeases   = []byte("leases")   // lease id -> JSON LeaseRecord
	bucketReceipts = []byte("receipts") // lease id -> { sequence -> ReceiptLeaf bytes }
	bucketBatches  = []byte("batches")  // lease id -> { first sequence -> JSON Batch }
	bucketCommits  = []byte("commits")  // order id -> JSON Commit
	bucketWindows  = []byte("windows")  // lease id -> { window -> "" }
	bucketChain    = []byte("chain")    // "cursor" -> height
	bucketMeta     = []byte("meta")     // caller's keys -> caller's values
	// lease id -> { window ‖ chunk -> encoded samples }: the requests of windows not yet reported
	bucketWindowSamples = []byte("window-samples")
	// lease id -> { "sealed" -> the last journal segment the store took }
	bucketJournal = []byte("journal")
	// lease id -> "": leases whose batches the chain takes no more
	bucketAnchoringEnded = []byte("anchoring-ended")

	allBuckets = [][]byte{bucketStore, bucketLeases, bucketReceipts, bucketBatches, bucketCommits, bucketWindows, bucketWindowSamples, bucketJournal, bucketAnchoringEnded, bucketChain, bucketMeta}

	keyFormat = []byte("format")
	keyCursor = []byte("cursor")
)

// Integer keys are big-endian so bbolt's byte order is numeric order and cursors walk
// sequences, batches and windows in order.
func encodeU64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func decodeU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// leaseBucket returns the nested bucket of lease under the top-level bucket name, or nil when
// the lease has none yet.
func leaseBucket(tx *bolt.Tx, name []byte, lease uint64) *bolt.Bucket {
	return tx.Bucket(name).Bucket(encodeU64(lease))
}

// leaseBucketForWrite returns the nested bucket of lease, creating it.
func leaseBucketForWrite(tx *bolt.Tx, name []byte, lease uint64) (*bolt.Bucket, error) {
	b, err := tx.Bucket(name).CreateBucketIfNotExists(encodeU64(lease))
	if err != nil {
		return nil, fmt.Errorf("lease %d %s bucket: %w", lease, name, err)
	}
	return b, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// getJSON decodes the value at key into v; found is false when the key is absent.
func getJSON(b *bolt.Bucket, key []byte, v any) (found bool, err error) {
	if b == nil {
		return false, nil
	}
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	return true, decodeJSON(raw, v)
}

func decodeJSON(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("corrupt %T record: %w", v, err)
	}
	return nil
}
