package attestation

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/computed-network/computed/x/attest/verify"
)

// Issuer is a fake NRAS: it signs detached EATs with its own P-384 key under its own kid.
type Issuer struct {
	Kid       string
	Key       *ecdsa.PrivateKey
	IssuerURL string
}

// NewIssuer returns an issuer with a fresh random key, claiming to be production NRAS.
func NewIssuer() (*Issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return newIssuer(key), nil
}

// NewIssuerFromSeed derives the issuer key deterministically from seed, so that a dev genesis can
// list its public key and a local prover can sign with the same key. Equal seeds give equal keys
// and kids on every machine and Go version.
func NewIssuerFromSeed(seed []byte) *Issuer {
	for counter := uint32(0); ; counter++ {
		h := sha512.New384()
		h.Write([]byte("computed/testutil/attestation/nras-issuer/v1"))
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], counter)
		h.Write(c[:])
		h.Write(seed)
		// A 48-byte digest is a valid P-384 scalar unless it is zero or >= n, which ecdh
		// rejects; the next counter value then gives another candidate.
		priv, err := ecdh.P384().NewPrivateKey(h.Sum(nil))
		if err != nil {
			continue
		}
		pub := priv.PublicKey().Bytes() // 0x04 || X || Y
		key := &ecdsa.PrivateKey{
			PublicKey: ecdsa.PublicKey{
				Curve: elliptic.P384(),
				X:     new(big.Int).SetBytes(pub[1:49]),
				Y:     new(big.Int).SetBytes(pub[49:97]),
			},
			D: new(big.Int).SetBytes(priv.Bytes()),
		}
		return newIssuer(key)
	}
}

func newIssuer(key *ecdsa.PrivateKey) *Issuer {
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	return &Issuer{
		Kid:       "computed-test-nras-" + hex.EncodeToString(sum[:8]),
		Key:       key,
		IssuerURL: verify.NRASIssuer,
	}
}

// KeySet is the trusted key set a verifier needs to accept this issuer's tokens.
func (i *Issuer) KeySet() verify.NRASKeySet {
	return verify.NRASKeySet{i.Kid: &i.Key.PublicKey}
}

// JWKS renders the issuer's public key as a JWKS document.
func (i *Issuer) JWKS() []byte {
	out, err := i.KeySet().MarshalJWKS()
	if err != nil {
		panic(err) // the issuer's own key is always a valid P-384 key
	}
	return out
}

// PublicKeyPEM is the PKIX PEM of the public key: the "secret" an HS256 key-confusion attack uses.
func (i *Issuer) PublicKeyPEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(&i.Key.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// GPUClaims are the claims of one GPU token that policies look at.
type GPUClaims struct {
	HWModel       string
	UEID          string
	DriverVersion string
	VBIOSVersion  string
	MeasRes       string
	DbgStat       string
	SecBoot       bool
}

// HealthyGPU returns the claims NRAS gave the real H100 in the tinfoil fixture, with a UEID made
// unique per index.
func HealthyGPU(index int) GPUClaims {
	return GPUClaims{
		HWModel:       "GH100",
		UEID:          strconv.Itoa(645491728318197586 + index),
		DriverVersion: "595.71.05",
		VBIOSVersion:  "96.00.D9.00.02",
		MeasRes:       "success",
		DbgStat:       "disabled",
		SecBoot:       true,
	}
}

// HostGPU is HealthyGPU(index) on the host seed names: its UEID is unique per seed and index, as
// real GPUs' are, so that hosts attesting with the development issuer do not claim each other's
// GPUs (the chain refuses a GPU another provider's record holds).
func HostGPU(seed []byte, index int) GPUClaims {
	g := HealthyGPU(index)
	h := sha256.Sum256(seed)
	base := binary.BigEndian.Uint64(h[:8]) >> 8 // 56 bits: room for the index below
	g.UEID = strconv.FormatUint(base*1000+uint64(index), 10)
	return g
}

// EATSpec describes a well-formed detached EAT.
type EATSpec struct {
	// Nonce becomes eat_nonce (lower-case hex) in every token.
	Nonce []byte
	// IssuedAt sets iat and nbf; exp is IssuedAt+TTL (TTL defaults to one hour, like NRAS).
	IssuedAt time.Time
	TTL      time.Duration
	// GPUs become GPU-0, GPU-1, ... in this order.
	GPUs []GPUClaims
}

// Token is one JWT before signing. Options edit it.
type Token struct {
	Header map[string]any
	Claims map[string]any
	// sign produces the signature segment for signingInput; nil means ES384 with the issuer key.
	sign func(signingInput string) ([]byte, error)
}

// SubmodEntry is one GPU of the EAT before assembly.
type SubmodEntry struct {
	ID    string
	Token *Token
	// Digest overrides the submods digest (hex) when non-empty.
	Digest string
	// OmitToken leaves the GPU out of the token map; OmitSubmod leaves it out of submods.
	OmitToken  bool
	OmitSubmod bool
}

// Draft is the whole EAT before signing.
type Draft struct {
	Overall *Token
	GPUs    []*SubmodEntry
	// Raw, when set, transforms the final bytes (for structural damage).
	Raw func([]byte) []byte

	issuerSign func(string) ([]byte, error)
}

// Option edits a draft.
type Option func(*Draft)

// TokenEdit edits one token.
type TokenEdit func(*Token)

// Overall applies edits to the overall token.
func Overall(edits ...TokenEdit) Option {
	return func(d *Draft) {
		for _, e := range edits {
			e(d.Overall)
		}
	}
}

// GPU applies edits to the token of GPU i.
func GPU(i int, edits ...TokenEdit) Option {
	return func(d *Draft) {
		for _, e := range edits {
			e(d.GPUs[i].Token)
		}
	}
}

// AllTokens applies edits to the overall token and every GPU token.
func AllTokens(edits ...TokenEdit) Option {
	return func(d *Draft) {
		for _, e := range edits {
			e(d.Overall)
			for _, g := range d.GPUs {
				e(g.Token)
			}
		}
	}
}

// SetClaim sets a payload claim (any JSON-marshalable value).
func SetClaim(name string, value any) TokenEdit {
	return func(t *Token) { t.Claims[name] = value }
}

// DeleteClaim removes a payload claim.
func DeleteClaim(name string) TokenEdit {
	return func(t *Token) { delete(t.Claims, name) }
}

// SetHeader sets a header parameter.
func SetHeader(name string, value any) TokenEdit {
	return func(t *Token) { t.Header[name] = value }
}

// DeleteHeader removes a header parameter.
func DeleteHeader(name string) TokenEdit {
	return func(t *Token) { delete(t.Header, name) }
}

// SignWith signs ES384 with another key while keeping the issuer's kid: a forged token.
func SignWith(key *ecdsa.PrivateKey) TokenEdit {
	return func(t *Token) {
		t.Header["alg"] = "ES384"
		t.sign = func(in string) ([]byte, error) { return jwt.SigningMethodES384.Sign(in, key) }
	}
}

// AlgNone makes the token unsigned (alg "none", empty signature).
func AlgNone() TokenEdit {
	return func(t *Token) {
		t.Header["alg"] = "none"
		t.sign = func(string) ([]byte, error) { return nil, nil }
	}
}

// HS256 signs with HMAC-SHA256 keyed by secret (use Issuer.PublicKeyPEM for key confusion).
func HS256(secret []byte) TokenEdit {
	return func(t *Token) {
		t.Header["alg"] = "HS256"
		t.sign = func(in string) ([]byte, error) { return jwt.SigningMethodHS256.Sign(in, secret) }
	}
}

// ES256 signs with a P-256 key.
func ES256(key *ecdsa.PrivateKey) TokenEdit {
	return func(t *Token) {
		t.Header["alg"] = "ES256"
		t.sign = func(in string) ([]byte, error) { return jwt.SigningMethodES256.Sign(in, key) }
	}
}

// CorruptSignature flips one bit of the otherwise valid signature.
func CorruptSignature() TokenEdit {
	return func(t *Token) {
		inner := t.sign
		t.sign = func(in string) ([]byte, error) {
			if inner == nil {
				return nil, fmt.Errorf("CorruptSignature needs a signer")
			}
			sig, err := inner(in)
			if err == nil && len(sig) > 0 {
				sig[len(sig)-1] ^= 1
			}
			return sig, err
		}
	}
}

// BadDigest puts a wrong digest for GPU i into submods.
func BadDigest(i int) Option {
	return func(d *Draft) { d.GPUs[i].Digest = hex.EncodeToString(make([]byte, sha256.Size)) }
}

// DropGPUToken removes GPU i's token but keeps its submods entry.
func DropGPUToken(i int) Option {
	return func(d *Draft) { d.GPUs[i].OmitToken = true }
}

// DropSubmod removes GPU i's submods entry but keeps its token.
func DropSubmod(i int) Option {
	return func(d *Draft) { d.GPUs[i].OmitSubmod = true }
}

// RawEdit transforms the final evidence bytes.
func RawEdit(f func([]byte) []byte) Option {
	return func(d *Draft) { d.Raw = f }
}

// EAT builds a detached EAT [["JWT", overall], {"GPU-0": jwt, ...}] following spec, then applies
// options before signing (so edits to claims are signed, unless an option changes the signer).
func (i *Issuer) EAT(spec EATSpec, opts ...Option) ([]byte, error) {
	ttl := spec.TTL
	if ttl == 0 {
		ttl = time.Hour
	}
	iat := spec.IssuedAt.Unix()
	exp := spec.IssuedAt.Add(ttl).Unix()
	nonce := hex.EncodeToString(spec.Nonce)
	base := func(jti string) *Token {
		return &Token{
			sign:   i.es384,
			Header: map[string]any{"alg": "ES384", "kid": i.Kid},
			Claims: map[string]any{
				"iss": i.IssuerURL, "iat": iat, "nbf": iat, "exp": exp, "jti": jti, "eat_nonce": nonce,
			},
		}
	}
	d := &Draft{Overall: base("overall"), issuerSign: i.es384}
	d.Overall.Claims["sub"] = "NVIDIA-PLATFORM-ATTESTATION"
	d.Overall.Claims["x-nvidia-ver"] = "2.0"
	d.Overall.Claims["x-nvidia-overall-att-result"] = true
	for idx, g := range spec.GPUs {
		t := base(fmt.Sprintf("gpu-%d", idx))
		t.Claims["hwmodel"] = g.HWModel
		t.Claims["ueid"] = g.UEID
		t.Claims["x-nvidia-gpu-driver-version"] = g.DriverVersion
		t.Claims["x-nvidia-gpu-vbios-version"] = g.VBIOSVersion
		t.Claims["measres"] = g.MeasRes
		t.Claims["dbgstat"] = g.DbgStat
		t.Claims["secboot"] = g.SecBoot
		t.Claims["oemid"] = "5703"
		t.Claims["x-nvidia-gpu-attestation-report-signature-verified"] = true
		d.GPUs = append(d.GPUs, &SubmodEntry{ID: fmt.Sprintf("GPU-%d", idx), Token: t})
	}
	for _, o := range opts {
		o(d)
	}

	tokens := map[string]string{}
	submods := map[string]any{}
	for _, g := range d.GPUs {
		compact, err := i.sign(g.Token)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.ID, err)
		}
		if !g.OmitToken {
			tokens[g.ID] = compact
		}
		if !g.OmitSubmod {
			digest := g.Digest
			if digest == "" {
				sum := sha256.Sum256([]byte(compact))
				digest = hex.EncodeToString(sum[:])
			}
			submods[g.ID] = []any{"DIGEST", []any{"SHA-256", digest}}
		}
	}
	if _, set := d.Overall.Claims["submods"]; !set {
		d.Overall.Claims["submods"] = submods
	}
	overall, err := i.sign(d.Overall)
	if err != nil {
		return nil, fmt.Errorf("overall: %w", err)
	}
	out, err := json.Marshal([]any{[]any{"JWT", overall}, tokens})
	if err != nil {
		return nil, err
	}
	if d.Raw != nil {
		out = d.Raw(out)
	}
	return out, nil
}

// AddGPUToken returns an option that adds a token for id, signed by the issuer, that submods does
// not list (an extra GPU).
func AddGPUToken(id string, claims GPUClaims) Option {
	return func(d *Draft) {
		t := &Token{
			Header: map[string]any{"alg": "ES384", "kid": d.Overall.Header["kid"]},
			Claims: map[string]any{},
			sign:   d.issuerSign,
		}
		for k, v := range d.Overall.Claims {
			switch k {
			case "iss", "iat", "nbf", "exp", "eat_nonce":
				t.Claims[k] = v
			}
		}
		t.Claims["hwmodel"] = claims.HWModel
		t.Claims["measres"] = claims.MeasRes
		t.Claims["dbgstat"] = claims.DbgStat
		t.Claims["secboot"] = claims.SecBoot
		d.GPUs = append(d.GPUs, &SubmodEntry{ID: id, Token: t, OmitSubmod: true})
	}
}

func (i *Issuer) sign(t *Token) (string, error) {
	h, err := json.Marshal(t.Header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(t.Claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sign := t.sign
	if sign == nil {
		sign = i.es384
	}
	sig, err := sign(input)
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

func (i *Issuer) es384(in string) ([]byte, error) {
	return jwt.SigningMethodES384.Sign(in, i.Key)
}

// ValidEAT is the common case: n healthy GPUs, issued at iat, nonce bound.
func (i *Issuer) ValidEAT(nonce []byte, iat time.Time, n int, opts ...Option) ([]byte, error) {
	spec := EATSpec{Nonce: nonce, IssuedAt: iat}
	for idx := 0; idx < n; idx++ {
		// The nonce is per provider and challenge: each attestation names GPUs of its own.
		spec.GPUs = append(spec.GPUs, HostGPU(nonce, idx))
	}
	return i.EAT(spec, opts...)
}
