package types

import (
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/crypto/merkle"
)

// ReceiptSchemaVersion is the ReceiptLeaf schema this code writes and reads.
const ReceiptSchemaVersion = 1

// Validate rejects receipts that could not have come from a running lease.
func (r ReceiptLeaf) Validate() error {
	switch {
	case r.SchemaVersion != ReceiptSchemaVersion:
		return fmt.Errorf("receipt schema version %d, want %d", r.SchemaVersion, ReceiptSchemaVersion)
	case r.LeaseId == 0:
		return errors.New("receipt has no lease id")
	case r.Sequence == 0:
		return errors.New("receipt sequences start at 1")
	case r.EndUnixMs < r.StartUnixMs:
		return fmt.Errorf("receipt ends (%d) before it starts (%d)", r.EndUnixMs, r.StartUnixMs)
	}
	if !r.Price.Amount.IsNil() {
		if err := r.Price.Validate(); err != nil {
			return fmt.Errorf("receipt price: %w", err)
		}
	}
	return nil
}

// LeafBytes is the receipt's canonical encoding, the bytes the Merkle tree hashes. gogoproto's
// Marshal is deterministic for messages without maps, which ReceiptLeaf has none of.
func (r ReceiptLeaf) LeafBytes() ([]byte, error) { return r.Marshal() }

// ReceiptTree builds the RFC 6962 tree (CometBFT's crypto/merkle: SHA-256, 0x00 leaf and 0x01
// inner prefixes) over receipts in order, returning the root and one inclusion proof per receipt.
func ReceiptTree(receipts []ReceiptLeaf) (root []byte, proofs []*merkle.Proof, err error) {
	if len(receipts) == 0 {
		return nil, nil, errors.New("no receipts")
	}
	leaves := make([][]byte, len(receipts))
	for i, r := range receipts {
		if leaves[i], err = r.LeafBytes(); err != nil {
			return nil, nil, err
		}
	}
	root, proofs = merkle.ProofsFromByteSlices(leaves)
	return root, proofs, nil
}

// VerifyReceipt checks that receipt is included under root at the proof's position.
func VerifyReceipt(root []byte, receipt ReceiptLeaf, proof *merkle.Proof) error {
	if proof == nil {
		return errors.New("no proof")
	}
	leaf, err := receipt.LeafBytes()
	if err != nil {
		return err
	}
	return proof.Verify(root, leaf)
}
