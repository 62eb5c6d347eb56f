package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/crypto/merkle"
	"github.com/cosmos/gogoproto/jsonpb"
)

// The two files a buyer hands to `computed query sla verify-receipt <lease> <receipt.json>
// <proof.json>`:
//   - receipt.json: the ReceiptLeaf in gogoproto jsonpb with proto field names (schema_version,
//     lease_id, ...), 64-bit integers as strings and bytes as base64, every field present;
//   - proof.json: encoding/json of CometBFT's *merkle.Proof ({"total","index","leaf_hash",
//     "aunts"}, hashes base64).
// The proof server's response carries both, under "receipt" and "proof".

var receiptMarshaler = jsonpb.Marshaler{OrigName: true, EmitDefaults: true}

// EncodeReceiptJSON is the receipt.json form of r.
func EncodeReceiptJSON(r ReceiptLeaf) ([]byte, error) {
	var buf bytes.Buffer
	if err := receiptMarshaler.Marshal(&buf, &r); err != nil {
		return nil, fmt.Errorf("encode receipt %d of lease %d: %w", r.Sequence, r.LeaseId, err)
	}
	return buf.Bytes(), nil
}

// DecodeReceiptJSON reads a receipt.json. Unknown fields are rejected rather than dropped: a
// dropped field would change the leaf bytes and fail verification with a misleading error.
func DecodeReceiptJSON(data []byte) (ReceiptLeaf, error) {
	var r ReceiptLeaf
	if err := (&jsonpb.Unmarshaler{}).Unmarshal(bytes.NewReader(data), &r); err != nil {
		return ReceiptLeaf{}, fmt.Errorf("decode receipt JSON: %w", err)
	}
	return r, nil
}

// EncodeProofJSON is the proof.json form of p.
func EncodeProofJSON(p *merkle.Proof) ([]byte, error) {
	if p == nil {
		return nil, errors.New("encode proof: no proof")
	}
	return json.Marshal(p)
}

// DecodeProofJSON reads a proof.json and checks its shape (hash sizes, aunt count), so a
// malformed file fails here and not as a confusing root mismatch.
func DecodeProofJSON(data []byte) (*merkle.Proof, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p merkle.Proof
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode proof JSON: %w", err)
	}
	if err := p.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("decode proof JSON: %w", err)
	}
	return &p, nil
}
