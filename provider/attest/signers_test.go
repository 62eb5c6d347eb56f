package attest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/computed-network/computed/provider/gpu"
	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/verify"
)

// nrasWithKeys answers like NRAS: the token on POST to /v3/attest/gpu, and jwks (or 404 when
// empty) at /.well-known/jwks.json.
func nrasWithKeys(t *testing.T, token, jwks []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v3/attest/gpu":
			_, _ = w.Write(token)
		case r.Method == http.MethodGet && r.URL.Path == "/.well-known/jwks.json" && len(jwks) > 0:
			_, _ = w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNRASSignerKeys: the evidence carries the JWKS entries, x5c included, of the keys that
// signed its tokens, and nothing else of NRAS's JWKS; the chain certifies them.
func TestNRASSignerKeys(t *testing.T) {
	issuer, err := attestation.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	other, err := attestation.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := attestation.NewSigningCA()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	token, err := issuer.ValidEAT(testNonce(), now, 8)
	if err != nil {
		t.Fatal(err)
	}
	var published struct {
		Keys []json.RawMessage `json:"keys"`
	}
	for _, i := range []*attestation.Issuer{other, issuer} {
		one, err := ca.SignerKeys(i, now.Add(-time.Hour), now.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(one, &doc); err != nil {
			t.Fatal(err)
		}
		published.Keys = append(published.Keys, doc.Keys...)
	}
	jwks, err := json.Marshal(published)
	if err != nil {
		t.Fatal(err)
	}

	srv := nrasWithKeys(t, token, jwks)
	ev, err := NRAS{URL: srv.URL + "/v3/attest/gpu", Backend: mockBackend(t, gpu.H100Node()), Client: srv.Client()}.
		Collect(context.Background(), testNonce())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := verify.CertifiedKeys(ev.SignerKeys, verify.SignerOptions{CAs: verify.SigningCAs{ca.Cert}, Now: now})
	if err != nil {
		t.Fatalf("signer keys %s: %v", ev.SignerKeys, err)
	}
	if len(keys) != 1 || keys[issuer.Kid] == nil {
		t.Fatalf("signer keys hold %v, want only %s", keys, issuer.Kid)
	}

	t.Run("no JWKS", func(t *testing.T) {
		// The evidence still goes: a kid governance lists verifies without it.
		srv := nrasWithKeys(t, token, nil)
		ev, err := NRAS{URL: srv.URL + "/v3/attest/gpu", Backend: mockBackend(t, gpu.H100Node()), Client: srv.Client()}.
			Collect(context.Background(), testNonce())
		if err != nil || len(ev.Token) == 0 || len(ev.SignerKeys) != 0 {
			t.Fatalf("Collect: %v, token %d bytes, signer keys %d bytes", err, len(ev.Token), len(ev.SignerKeys))
		}
		if ev.SignerKeysErr == nil || !strings.Contains(ev.SignerKeysErr.Error(), "NRAS JWKS") {
			t.Fatalf("SignerKeysErr = %v, want the JWKS error", ev.SignerKeysErr)
		}
	})
	t.Run("configured JWKS URL", func(t *testing.T) {
		keysOnly := nrasWithKeys(t, nil, jwks)
		noKeys := nrasWithKeys(t, token, nil)
		ev, err := NRAS{URL: noKeys.URL + "/v3/attest/gpu", JWKSURL: keysOnly.URL + "/.well-known/jwks.json",
			Backend: mockBackend(t, gpu.H100Node())}.Collect(context.Background(), testNonce())
		if err != nil || len(ev.SignerKeys) == 0 {
			t.Fatalf("Collect: %v, %d bytes of signer keys", err, len(ev.SignerKeys))
		}
	})
}
