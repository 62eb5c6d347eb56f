package verify

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	errorsmod "cosmossdk.io/errors"
)

// MaxJWKSBytes bounds ParseJWKS input. NVIDIA's production JWKS (32 keys with x5c) is about 80 KB.
const MaxJWKSBytes = 1 << 20

// p384CoordSize is the byte length of a P-384 coordinate.
const p384CoordSize = 48

// NRASKeySet maps a JWS kid to the P-384 public key that verifies tokens carrying it. It is the
// complete trust anchor for NRAS tokens: there is no chain walk to an NVIDIA root, so whoever
// writes this set (genesis or governance) decides which signers are trusted.
type NRASKeySet map[string]*ecdsa.PublicKey

// Validate rejects sets that could not verify anything or that hold keys of the wrong curve or off
// the curve. Run it when a set is installed (genesis, governance); VerifyNRAS itself only checks
// the one key a token selects, so that a 32-key set is not re-validated for every transaction.
func (ks NRASKeySet) Validate() error {
	if len(ks) == 0 {
		return errorsmod.Wrap(ErrKeySetInvalid, "empty key set")
	}
	for _, kid := range sortedKeys(ks) { // sorted: the first failure named is the same on every node
		k := ks[kid]
		if kid == "" {
			return errorsmod.Wrap(ErrKeySetInvalid, "empty kid")
		}
		if k == nil || k.Curve != elliptic.P384() || k.X == nil || k.Y == nil ||
			k.X.Sign() < 0 || k.Y.Sign() < 0 || k.X.BitLen() > 8*p384CoordSize || k.Y.BitLen() > 8*p384CoordSize {
			return errorsmod.Wrapf(ErrKeySetInvalid, "kid %q: not a P-384 public key", truncate(kid))
		}
		if _, err := ecdhFromCoords(k.X.FillBytes(make([]byte, p384CoordSize)), k.Y.FillBytes(make([]byte, p384CoordSize))); err != nil {
			return errorsmod.Wrapf(ErrKeySetInvalid, "kid %q: %v", truncate(kid), err)
		}
	}
	return nil
}

// ParseJWKS builds a key set from a JWKS document such as
// https://nras.attestation.nvidia.com/.well-known/jwks.json. Each key must be an EC P-384 key; its
// public key comes from x/y, from the x5c leaf certificate, or from both, in which case they must
// agree. The x5c chain is not verified: the key set is trusted because governance put it there, not
// because of a certificate path (NVIDIA's CA 001 root is not published with it).
//
// Every key must be usable; a JWKS with an RSA or P-256 key is rejected rather than silently
// trimmed, so a configuration mistake shows up when the set is installed, not when tokens fail.
func ParseJWKS(data []byte) (NRASKeySet, error) {
	if len(data) > MaxJWKSBytes {
		return nil, errorsmod.Wrapf(ErrKeySetInvalid, "JWKS is %d bytes, limit %d", len(data), MaxJWKSBytes)
	}
	rawKeys, err := jwksKeys(data)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrKeySetInvalid, "JWKS: %v", err)
	}
	set := make(NRASKeySet, len(rawKeys))
	for i, raw := range rawKeys {
		jwk, err := parseJWK(raw)
		if err != nil {
			return nil, errorsmod.Wrapf(ErrKeySetInvalid, "key %d: %v", i, err)
		}
		kid, key := jwk.kid, jwk.key
		if _, dup := set[kid]; dup {
			return nil, errorsmod.Wrapf(ErrKeySetInvalid, "duplicate kid %q", truncate(kid))
		}
		set[kid] = key
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	return set, nil
}

// jwksKeys is the keys array of a JWKS document, each key unparsed.
func jwksKeys(data []byte) ([]json.RawMessage, error) {
	doc, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	var rawKeys []json.RawMessage
	if raw, ok := doc["keys"]; !ok || json.Unmarshal(raw, &rawKeys) != nil {
		return nil, fmt.Errorf("no keys array")
	}
	return rawKeys, nil
}

// parsedJWK is one key of a JWKS: its kid, its P-384 key, and its x5c as given (leaf first,
// standard base64 DER) with the leaf parsed.
type parsedJWK struct {
	kid  string
	key  *ecdsa.PublicKey
	x5c  []string
	leaf *x509.Certificate
}

func parseJWK(raw json.RawMessage) (parsedJWK, error) {
	jwk, err := decodeObject(raw)
	if err != nil {
		return parsedJWK{}, err
	}
	str := func(name string) (string, error) {
		s, _, err := getString(jwk, name)
		return s, err
	}
	kid, err := str("kid")
	if err != nil || kid == "" {
		return parsedJWK{}, fmt.Errorf("missing kid")
	}
	if kty, err := str("kty"); err != nil || kty != "EC" {
		return parsedJWK{}, fmt.Errorf("kid %q: kty %q, want EC", truncate(kid), truncate(kty))
	}
	if crv, err := str("crv"); err != nil || crv != "P-384" {
		return parsedJWK{}, fmt.Errorf("kid %q: crv %q, want P-384", truncate(kid), truncate(crv))
	}
	// alg and use are optional (NVIDIA omits them) but must not contradict how the key is used.
	if alg, err := str("alg"); err != nil || (alg != "" && alg != AllowedAlg) {
		return parsedJWK{}, fmt.Errorf("kid %q: alg %q, want %s", truncate(kid), truncate(alg), AllowedAlg)
	}
	if use, err := str("use"); err != nil || (use != "" && use != "sig") {
		return parsedJWK{}, fmt.Errorf("kid %q: use %q, want sig", truncate(kid), truncate(use))
	}

	var fromXY, fromX5C *ecdsa.PublicKey
	xs, errX := str("x")
	ys, errY := str("y")
	if errX != nil || errY != nil {
		return parsedJWK{}, fmt.Errorf("kid %q: x/y not strings", truncate(kid))
	}
	if xs != "" || ys != "" {
		x, errX := b64url.DecodeString(xs)
		y, errY := b64url.DecodeString(ys)
		if errX != nil || errY != nil || len(x) != p384CoordSize || len(y) != p384CoordSize {
			return parsedJWK{}, fmt.Errorf("kid %q: x/y must be %d-byte base64url", truncate(kid), p384CoordSize)
		}
		if fromXY, err = ecdhFromCoords(x, y); err != nil {
			return parsedJWK{}, fmt.Errorf("kid %q: %v", truncate(kid), err)
		}
	}
	var chain []string
	var leaf *x509.Certificate
	if rawChain, ok := jwk["x5c"]; ok && !isNull(rawChain) {
		if err := json.Unmarshal(rawChain, &chain); err != nil || len(chain) == 0 {
			return parsedJWK{}, fmt.Errorf("kid %q: x5c must be a non-empty array of strings", truncate(kid))
		}
		if leaf, err = parseX5C(chain, 0); err != nil {
			return parsedJWK{}, fmt.Errorf("kid %q: %v", truncate(kid), err)
		}
		pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P384() {
			return parsedJWK{}, fmt.Errorf("kid %q: x5c[0] key is not P-384 ECDSA", truncate(kid))
		}
		fromX5C = pub
	}
	switch {
	case fromXY != nil && fromX5C != nil:
		if !fromXY.Equal(fromX5C) {
			return parsedJWK{}, fmt.Errorf("kid %q: x/y differ from the x5c leaf key", truncate(kid))
		}
		return parsedJWK{kid, fromXY, chain, leaf}, nil
	case fromXY != nil:
		return parsedJWK{kid, fromXY, chain, leaf}, nil
	case fromX5C != nil:
		return parsedJWK{kid, fromX5C, chain, leaf}, nil
	}
	return parsedJWK{}, fmt.Errorf("kid %q: neither x/y nor x5c", truncate(kid))
}

// parseX5C parses x5c[i]: RFC 7517 4.7 entries are standard (not URL-safe) base64 DER.
func parseX5C(x5c []string, i int) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.Strict().DecodeString(x5c[i])
	if err != nil {
		return nil, fmt.Errorf("x5c[%d]: %v", i, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("x5c[%d]: %v", i, err)
	}
	return cert, nil
}

// ecdhFromCoords builds a P-384 key from affine coordinates, using crypto/ecdh to reject points
// that are not on the curve (crypto/ecdsa verification would otherwise just fail, or worse).
func ecdhFromCoords(x, y []byte) (*ecdsa.PublicKey, error) {
	point := make([]byte, 0, 1+2*p384CoordSize)
	point = append(point, 4)
	point = append(point, x...)
	point = append(point, y...)
	if _, err := ecdh.P384().NewPublicKey(point); err != nil {
		return nil, fmt.Errorf("point not on P-384: %v", err)
	}
	return &ecdsa.PublicKey{Curve: elliptic.P384(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
}

// MarshalJWKS renders a key set as a JWKS document (x/y only, alg ES384, use sig), keys sorted by
// kid so the output is byte-for-byte reproducible.
func (ks NRASKeySet) MarshalJWKS() ([]byte, error) {
	if err := ks.Validate(); err != nil {
		return nil, err
	}
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}
	kids := sortedKeys(ks)
	keys := make([]jwk, 0, len(kids))
	for _, kid := range kids {
		k := ks[kid]
		keys = append(keys, jwk{
			Kty: "EC", Crv: "P-384", Kid: kid, Alg: AllowedAlg, Use: "sig",
			X: b64url.EncodeToString(k.X.FillBytes(make([]byte, p384CoordSize))),
			Y: b64url.EncodeToString(k.Y.FillBytes(make([]byte, p384CoordSize))),
		})
	}
	return json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{keys})
}
