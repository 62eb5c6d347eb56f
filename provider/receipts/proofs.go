package receipts

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cometbft/cometbft/crypto/merkle"

	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// ErrNotBatched is returned (wrapped, with state.ErrNotFound) for a receipt that exists but is
// not in a batch yet, so has no root to be proven against.
var ErrNotBatched = errors.New("receipt is not in a batch yet")

// ProofResponse is what the proof server returns for one receipt.
type ProofResponse struct {
	// Receipt is the receipt.json form (see EncodeReceiptJSON).
	Receipt json.RawMessage `json:"receipt"`
	Proof   *merkle.Proof   `json:"proof"`
	// Root is the batch's Merkle root, hex; the buyer checks it against the root anchored on
	// chain for this batch.
	Root  string   `json:"root"`
	Batch BatchRef `json:"batch"`
}

// BatchRef locates the batch the receipt was anchored in.
type BatchRef struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	Count uint64 `json:"count"`
	// State is the provider's view: pending, sent or acked (anchored).
	State  string `json:"state,omitempty"`
	TxHash string `json:"tx_hash,omitempty"`
}

// Proof builds the inclusion proof of lease's receipt seq. It fails with an error wrapping
// state.ErrNotFound for an unknown receipt or one not yet batched (then also ErrNotBatched).
func Proof(store *state.Store, lease, seq uint64) (ProofResponse, error) {
	batch, err := store.BatchFor(lease, seq)
	if errors.Is(err, state.ErrNotFound) {
		if _, rerr := store.Receipt(lease, seq); rerr != nil {
			return ProofResponse{}, rerr
		}
		return ProofResponse{}, fmt.Errorf("lease %d receipt %d: %w (%w)", lease, seq, ErrNotBatched, state.ErrNotFound)
	}
	if err != nil {
		return ProofResponse{}, err
	}
	receipts, err := store.Receipts(lease, batch.First, batch.Last)
	if err != nil {
		return ProofResponse{}, err
	}
	if uint64(len(receipts)) != batch.Count {
		return ProofResponse{}, fmt.Errorf("lease %d batch %d..%d holds %d receipts, the store has %d", lease, batch.First, batch.Last, batch.Count, len(receipts))
	}
	root, proofs, err := slatypes.ReceiptTree(receipts)
	if err != nil {
		return ProofResponse{}, err
	}
	// The anchored root is the one that counts; a proof against anything else is useless.
	if !bytes.Equal(root, batch.Root) {
		return ProofResponse{}, fmt.Errorf("lease %d batch %d..%d: stored receipts no longer match the batch root", lease, batch.First, batch.Last)
	}
	i := seq - batch.First
	raw, err := EncodeReceiptJSON(receipts[i])
	if err != nil {
		return ProofResponse{}, err
	}
	return ProofResponse{
		Receipt: raw,
		Proof:   proofs[i],
		Root:    hex.EncodeToString(root),
		Batch:   BatchRef{First: batch.First, Last: batch.Last, Count: batch.Count, State: batch.State, TxHash: batch.TxHash},
	}, nil
}

// Verify checks that the response's receipt is included under its own Root. It does not say
// the root is anchored: the buyer compares Root with the chain (verify-receipt does).
func (p ProofResponse) Verify() (slatypes.ReceiptLeaf, error) {
	r, err := DecodeReceiptJSON(p.Receipt)
	if err != nil {
		return slatypes.ReceiptLeaf{}, err
	}
	root, err := hex.DecodeString(p.Root)
	if err != nil {
		return slatypes.ReceiptLeaf{}, fmt.Errorf("root is not hex: %w", err)
	}
	if err := slatypes.VerifyReceipt(root, r, p.Proof); err != nil {
		return slatypes.ReceiptLeaf{}, fmt.Errorf("receipt %d of lease %d: %w", r.Sequence, r.LeaseId, err)
	}
	return r, nil
}

// Names of the files WriteFiles writes.
const (
	ReceiptFile = "receipt.json"
	ProofFile   = "proof.json"
)

// WriteFiles splits a proof response into dir/receipt.json and dir/proof.json, the inputs of
// `computed query sla verify-receipt`.
func WriteFiles(dir string, resp ProofResponse) (receiptPath, proofPath string, err error) {
	if len(resp.Receipt) == 0 {
		return "", "", errors.New("write proof files: response has no receipt")
	}
	proof, err := EncodeProofJSON(resp.Proof)
	if err != nil {
		return "", "", fmt.Errorf("write proof files: %w", err)
	}
	receiptPath, proofPath = filepath.Join(dir, ReceiptFile), filepath.Join(dir, ProofFile)
	if err := os.WriteFile(receiptPath, resp.Receipt, 0o644); err != nil {
		return "", "", fmt.Errorf("write proof files: %w", err)
	}
	if err := os.WriteFile(proofPath, proof, 0o644); err != nil {
		return "", "", fmt.Errorf("write proof files: %w", err)
	}
	return receiptPath, proofPath, nil
}
