package receipts

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/computed-network/computed/provider/state"
)

const receiptsPrefix = "/receipts/"

// Handler serves GET /receipts/{lease}/{seq} with a ProofResponse. Errors are JSON
// {"error": "..."}: 400 for a malformed path, 404 for an unknown lease or receipt or one not
// yet batched, 405 for other methods, 500 when the store fails.
func Handler(store *state.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, receiptsPrefix) {
			writeError(w, http.StatusNotFound, "no such endpoint; want GET /receipts/{lease}/{seq}")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		lease, seq, err := parseReceiptPath(strings.TrimPrefix(r.URL.Path, receiptsPrefix))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		resp, err := Proof(store, lease, seq)
		switch {
		case errors.Is(err, state.ErrNotFound):
			writeError(w, http.StatusNotFound, err.Error())
		case err != nil:
			writeError(w, http.StatusInternalServerError, err.Error())
		default:
			writeJSON(w, http.StatusOK, resp)
		}
	})
}

func parseReceiptPath(rest string) (lease, seq uint64, err error) {
	parts := strings.Split(rest, "/")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("path must be /receipts/{lease}/{seq}")
	}
	if lease, err = strconv.ParseUint(parts[0], 10, 64); err != nil || lease == 0 {
		return 0, 0, fmt.Errorf("lease %q is not a lease id", parts[0])
	}
	if seq, err = strconv.ParseUint(parts[1], 10, 64); err != nil || seq == 0 {
		return 0, 0, fmt.Errorf("sequence %q is not a receipt sequence (they start at 1)", parts[1])
	}
	return lease, seq, nil
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
