// Package attest collects hardware attestation evidence for a chain-issued nonce: from NVIDIA's
// remote attestation service (NRAS) with the GPUs' confidential-computing reports in production,
// or from a configured command (the development issuer, build/devattest) in development, so the
// node binary never carries test keys.
package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/computed-network/computed/provider/gpu"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/attest/verify"
)

// Evidence is what MsgSubmitAttestation carries.
type Evidence struct {
	Token []byte
	GPUs  []attesttypes.ClaimedGPU
	// SignerKeys are the JWKS entries, with their x5c chains, of the keys that signed Token
	// (nras_signer_keys): NRAS rotates its keys faster than governance could list them.
	SignerKeys []byte
	// SignerKeysErr says why SignerKeys is empty when NRAS's JWKS could not be read.
	SignerKeysErr error
}

// Collector turns a nonce into evidence.
type Collector interface {
	Collect(ctx context.Context, nonce []byte) (Evidence, error)
}

// Command runs a development issuer: Token is the stdout of TokenCmd with "{nonce}" replaced by
// the hex nonce; the GPU claims are the JSON lines ({"sku","vram_gib","uuid"}) ClaimsCmd prints.
type Command struct {
	TokenCmd  []string
	ClaimsCmd []string
}

// Collect implements Collector.
func (c Command) Collect(ctx context.Context, nonce []byte) (Evidence, error) {
	if len(c.TokenCmd) == 0 || len(c.ClaimsCmd) == 0 {
		return Evidence{}, errors.New("attestation command not configured")
	}
	args := make([]string, len(c.TokenCmd))
	for i, a := range c.TokenCmd {
		args[i] = strings.ReplaceAll(a, "{nonce}", hex.EncodeToString(nonce))
	}
	token, err := run(ctx, args)
	if err != nil {
		return Evidence{}, err
	}
	claims, err := run(ctx, c.ClaimsCmd)
	if err != nil {
		return Evidence{}, err
	}
	var gpus []attesttypes.ClaimedGPU
	dec := json.NewDecoder(bytes.NewReader(claims))
	for dec.More() {
		var g struct {
			Sku     string `json:"sku"`
			VramGib uint32 `json:"vram_gib"`
			UUID    string `json:"uuid"`
		}
		if err := dec.Decode(&g); err != nil {
			return Evidence{}, fmt.Errorf("claims: %w", err)
		}
		gpus = append(gpus, attesttypes.ClaimedGPU{Sku: g.Sku, VramGib: g.VramGib, Uuid: g.UUID})
	}
	if len(gpus) == 0 {
		return Evidence{}, errors.New("claims command printed no GPU")
	}
	return Evidence{Token: token, GPUs: gpus}, nil
}

func run(ctx context.Context, argv []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", argv[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// NRAS asks an NRAS-compatible endpoint for a detached EAT over the GPUs' attestation reports.
type NRAS struct {
	URL string
	// JWKSURL is where NRAS publishes its signing keys; empty: /.well-known/jwks.json on URL's host.
	JWKSURL string
	Backend gpu.Backend
	Client  *http.Client
}

// nrasRequest is NRAS v3's GPU attestation request body.
type nrasRequest struct {
	Nonce        string         `json:"nonce"`
	Arch         string         `json:"arch"`
	EvidenceList []nrasEvidence `json:"evidence_list"`
}

type nrasEvidence struct {
	Evidence    string `json:"evidence"`
	Certificate string `json:"certificate"`
}

// Collect implements Collector: one report per confidential-computing GPU, bound to the nonce.
func (n NRAS) Collect(ctx context.Context, nonce []byte) (Evidence, error) {
	if len(nonce) != 32 {
		return Evidence{}, fmt.Errorf("nonce must be 32 bytes, got %d", len(nonce))
	}
	// The GPUs that can be read are attested; one lost from the bus is not claimed.
	devices, err := gpu.Readable(n.Backend.Devices(ctx))
	if err != nil {
		return Evidence{}, err
	}
	var n32 [32]byte
	copy(n32[:], nonce)
	req := nrasRequest{Nonce: hex.EncodeToString(nonce), Arch: "HOPPER"}
	var gpus []attesttypes.ClaimedGPU
	for _, d := range devices {
		if !d.CCEnabled {
			continue
		}
		report, certs, err := n.Backend.AttestationReport(ctx, d.Index, n32)
		if err != nil {
			return Evidence{}, fmt.Errorf("GPU %d: %w", d.Index, err)
		}
		req.EvidenceList = append(req.EvidenceList, nrasEvidence{
			Evidence: base64.StdEncoding.EncodeToString(report), Certificate: base64.StdEncoding.EncodeToString(certs),
		})
		gpus = append(gpus, attesttypes.ClaimedGPU{Sku: d.SKU, VramGib: d.VRAMGiB, Uuid: d.UUID})
	}
	if len(gpus) == 0 {
		return Evidence{}, errors.New("no GPU has confidential computing on")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Evidence{}, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return Evidence{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(hreq)
	if err != nil {
		return Evidence{}, fmt.Errorf("NRAS: %w", err)
	}
	defer res.Body.Close()
	token, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return Evidence{}, err
	}
	if res.StatusCode != http.StatusOK {
		return Evidence{}, fmt.Errorf("NRAS answered %s: %s", res.Status, bytes.TrimSpace(token))
	}
	// Without the JWKS the evidence still verifies under a kid governance lists; the chain
	// says which kid it lacks otherwise (ErrUnknownKid), so that error is the one worth reading.
	signers, err := n.signerKeys(ctx, client, token)
	return Evidence{Token: token, GPUs: gpus, SignerKeys: signers, SignerKeysErr: err}, nil
}

// jwksURL is where NRAS publishes its signing keys: /.well-known/jwks.json on its host.
func (n NRAS) jwksURL() (string, error) {
	if n.JWKSURL != "" {
		return n.JWKSURL, nil
	}
	u, err := url.Parse(n.URL)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/.well-known/jwks.json"}).String(), nil
}

// signerKeys fetches NRAS's JWKS and keeps the entries of the kids token's JWTs name. A token
// whose headers do not parse gets none (the chain refuses it anyway).
func (n NRAS) signerKeys(ctx context.Context, client *http.Client, token []byte) ([]byte, error) {
	kids := tokenKids(token)
	if len(kids) == 0 {
		return nil, nil
	}
	where, err := n.jwksURL()
	if err != nil {
		return nil, fmt.Errorf("NRAS JWKS URL: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("NRAS JWKS: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, verify.MaxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("NRAS JWKS: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("NRAS JWKS at %s answered %s", where, res.Status)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("NRAS JWKS: %w", err)
	}
	var keep []json.RawMessage
	for _, k := range doc.Keys {
		var id struct {
			Kid string `json:"kid"`
		}
		if json.Unmarshal(k, &id) == nil && kids[id.Kid] {
			keep = append(keep, k)
		}
	}
	if len(keep) == 0 {
		return nil, nil // governance may list the key itself
	}
	return json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{keep})
}

// TokenKids are the kids the JWS headers of a detached EAT name, sorted (unverified: only to
// pick keys).
func TokenKids(token []byte) []string {
	kids := tokenKids(token)
	out := make([]string, 0, len(kids))
	for kid := range kids {
		out = append(out, kid)
	}
	sort.Strings(out)
	return out
}

func tokenKids(token []byte) map[string]bool {
	eat, err := verify.ParseDetachedEAT(token)
	if err != nil {
		return nil
	}
	kids := map[string]bool{}
	for _, jwt := range append([]string{eat.Overall}, gpuJWTs(eat)...) {
		header, _, _ := strings.Cut(jwt, ".")
		raw, err := base64.RawURLEncoding.DecodeString(header)
		if err != nil {
			continue
		}
		var h struct {
			Kid string `json:"kid"`
		}
		if json.Unmarshal(raw, &h) == nil && h.Kid != "" {
			kids[h.Kid] = true
		}
	}
	return kids
}

func gpuJWTs(eat *verify.DetachedEAT) []string {
	out := make([]string, len(eat.GPUs))
	for i, g := range eat.GPUs {
		out[i] = g.JWT
	}
	return out
}
