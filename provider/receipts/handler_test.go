package receipts

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

func get(t *testing.T, h http.Handler, path string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: content type %q", path, ct)
	}
	return rec.Code, rec.Body.Bytes()
}

func TestHandlerProofVerifiesAgainstBatchRoot(t *testing.T) {
	s, _ := openStore(t)
	appendN(t, s, 7, 5, t0)
	batch, err := s.CutBatch(7, 5)
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(s)
	for seq := uint64(1); seq <= 5; seq++ {
		code, body := get(t, h, fmt.Sprintf("/receipts/7/%d", seq))
		if code != http.StatusOK {
			t.Fatalf("seq %d: %d %s", seq, code, body)
		}
		var resp ProofResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Root != hex.EncodeToString(batch.Root) || resp.Batch.First != 1 || resp.Batch.Last != 5 || resp.Batch.Count != 5 {
			t.Fatalf("seq %d: root/batch = %s %+v", seq, resp.Root, resp.Batch)
		}
		r, err := DecodeReceiptJSON(resp.Receipt)
		if err != nil {
			t.Fatal(err)
		}
		if r.LeaseId != 7 || r.Sequence != seq {
			t.Fatalf("served receipt %d/%d for 7/%d", r.LeaseId, r.Sequence, seq)
		}
		// What the buyer does: verify against the anchored root.
		if err := slatypes.VerifyReceipt(batch.Root, r, resp.Proof); err != nil {
			t.Fatalf("seq %d: proof does not verify: %v", seq, err)
		}
		if _, err := resp.Verify(); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		// A receipt altered by the provider (here: a cheaper price claimed) must fail.
		tampered := r
		tampered.Price.Amount = tampered.Price.Amount.AddRaw(1)
		if err := slatypes.VerifyReceipt(batch.Root, tampered, resp.Proof); err == nil {
			t.Fatalf("seq %d: tampered receipt verified", seq)
		}
	}
}

func TestHandlerErrors(t *testing.T) {
	s, _ := openStore(t)
	appendN(t, s, 7, 3, t0)
	if _, err := s.CutBatch(7, 2); err != nil {
		t.Fatal(err)
	}
	h := Handler(s)
	cases := []struct {
		path string
		code int
	}{
		{"/receipts/7/3", http.StatusNotFound},   // exists, not batched yet
		{"/receipts/7/4", http.StatusNotFound},   // never issued
		{"/receipts/8/1", http.StatusNotFound},   // unknown lease
		{"/receipts/x/1", http.StatusBadRequest}, // malformed
		{"/receipts/7/-1", http.StatusBadRequest},
		{"/receipts/7/0", http.StatusBadRequest},
		{"/receipts/7", http.StatusBadRequest},
		{"/receipts/7/1/extra", http.StatusBadRequest},
		{"/elsewhere", http.StatusNotFound},
	}
	for _, c := range cases {
		code, body := get(t, h, c.path)
		var e struct{ Error string }
		if code != c.code || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s: %d %s, want %d with a JSON error", c.path, code, body, c.code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/receipts/7/1", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// TestJSONFormsRoundTrip: what the server serves, split into the CLI's two files, decodes back
// to the same leaf bytes and proof, and still verifies.
func TestJSONFormsRoundTrip(t *testing.T) {
	s, _ := openStore(t)
	receipts := appendN(t, s, 7, 3, t0)
	// A zero-priced receipt and empty byte fields must survive too.
	free, err := NewBuilder(s).Append(testLease(7), Work{Start: t0, End: t0})
	if err != nil {
		t.Fatal(err)
	}
	receipts = append(receipts, free)
	batch, err := s.CutBatch(7, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range receipts {
		resp, err := Proof(s, 7, want.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		rp, pp, err := WriteFiles(dir, resp)
		if err != nil {
			t.Fatal(err)
		}
		rawR, _ := os.ReadFile(rp)
		rawP, _ := os.ReadFile(pp)
		r, err := DecodeReceiptJSON(rawR)
		if err != nil {
			t.Fatal(err)
		}
		p, err := DecodeProofJSON(rawP)
		if err != nil {
			t.Fatal(err)
		}
		gotBytes, _ := r.LeafBytes()
		wantBytes, _ := want.LeafBytes()
		if !bytes.Equal(gotBytes, wantBytes) {
			t.Fatalf("receipt %d changed through JSON:\n%s", want.Sequence, rawR)
		}
		if p.Total != resp.Proof.Total || p.Index != resp.Proof.Index || !bytes.Equal(p.LeafHash, resp.Proof.LeafHash) || len(p.Aunts) != len(resp.Proof.Aunts) {
			t.Fatalf("proof %d changed through JSON: %s", want.Sequence, rawP)
		}
		if err := slatypes.VerifyReceipt(batch.Root, r, p); err != nil {
			t.Fatalf("receipt %d from files does not verify: %v", want.Sequence, err)
		}
		var fields map[string]any
		if err := json.Unmarshal(rawR, &fields); err != nil {
			t.Fatal(err)
		}
		if _, ok := fields["lease_id"]; !ok {
			t.Fatalf("receipt.json lacks proto field names: %s", rawR)
		}
		var pf map[string]any
		_ = json.Unmarshal(rawP, &pf)
		for _, k := range []string{"total", "index", "leaf_hash"} {
			if _, ok := pf[k]; !ok {
				t.Fatalf("proof.json lacks %q: %s", k, rawP)
			}
		}
	}
	if _, err := DecodeReceiptJSON([]byte(`{"lease_id":"7","surprise":1}`)); err == nil {
		t.Fatal("unknown receipt field accepted")
	}
	if _, err := DecodeProofJSON([]byte(`{"total":1,"index":0,"leaf_hash":"AAE="}`)); err == nil {
		t.Fatal("proof with a short leaf hash accepted")
	}
}

func TestProofOfUnbatchedReceipt(t *testing.T) {
	s, _ := openStore(t)
	appendN(t, s, 7, 1, t0)
	_, err := Proof(s, 7, 1)
	if err == nil || !errors.Is(err, ErrNotBatched) || !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("unbatched receipt: %v", err)
	}
}
