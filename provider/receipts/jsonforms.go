package receipts

import (
	"github.com/cometbft/cometbft/crypto/merkle"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

// The JSON forms live with the receipt type in x/sla/types, so the chain's verify-receipt CLI
// and the sidecar's proof server cannot drift apart; these names keep the sidecar's call sites.

// EncodeReceiptJSON is the receipt.json form of r.
func EncodeReceiptJSON(r slatypes.ReceiptLeaf) ([]byte, error) { return slatypes.EncodeReceiptJSON(r) }

// DecodeReceiptJSON reads a receipt.json.
func DecodeReceiptJSON(data []byte) (slatypes.ReceiptLeaf, error) {
	return slatypes.DecodeReceiptJSON(data)
}

// EncodeProofJSON is the proof.json form of p.
func EncodeProofJSON(p *merkle.Proof) ([]byte, error) { return slatypes.EncodeProofJSON(p) }

// DecodeProofJSON reads a proof.json.
func DecodeProofJSON(data []byte) (*merkle.Proof, error) { return slatypes.DecodeProofJSON(data) }
