package verify

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	errorsmod "cosmossdk.io/errors"
)

const (
	// MaxSignerKeysBytes bounds a submission's signer JWKS. One NRAS key with its two-certificate
	// x5c is about 2.5 KB; a submission needs the one or two that signed its tokens.
	MaxSignerKeysBytes = 16 << 10
	// MaxSignerKeys bounds the keys in it.
	MaxSignerKeys = 4
	// maxSignerChain bounds one key's x5c (NRAS sends leaf and intermediate).
	maxSignerChain = 4
	// MaxSigningCAs bounds params.nras_signing_cas.
	MaxSigningCAs = 8
	// MaxSigningCABytes bounds one of them.
	MaxSigningCABytes = 8 << 10
)

// SigningCAs are the CA certificates whose certified keys may sign NRAS tokens.
type SigningCAs []*x509.Certificate

// ParseSigningCA parses one PEM CA certificate (exactly one CERTIFICATE block) that may sign
// other certificates.
func ParseSigningCA(pemText string) (*x509.Certificate, error) {
	if len(pemText) == 0 || len(pemText) > MaxSigningCABytes {
		return nil, errorsmod.Wrapf(ErrKeySetInvalid, "signing CA must be 1..%d bytes", MaxSigningCABytes)
	}
	block, rest := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE" || len(trimSpace(rest)) != 0 {
		return nil, errorsmod.Wrap(ErrKeySetInvalid, "signing CA must be exactly one PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrKeySetInvalid, "signing CA: %v", err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, errorsmod.Wrapf(ErrKeySetInvalid, "signing CA %q is not a CA certificate", truncate(cert.Subject.String()))
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errorsmod.Wrapf(ErrKeySetInvalid, "signing CA %q may not sign certificates", truncate(cert.Subject.String()))
	}
	return cert, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// CertifiedKeys returns the keys of a signer JWKS (see MsgSubmitAttestation.nras_signer_keys)
// whose x5c chain leads to one of cas at now: the leaf's key, which must equal the JWK's x/y when
// given, verifies tokens naming its kid. Every key must be certified; one that is not fails the
// whole document, so a submission never half-works. The chain is checked at block time, so a
// retired key stops verifying when its certificate expires (NRAS's live about two days).
func CertifiedKeys(jwks []byte, cas SigningCAs, now time.Time) (NRASKeySet, error) {
	if len(jwks) > MaxSignerKeysBytes {
		return nil, errorsmod.Wrapf(ErrSignerNotCertified, "signer keys are %d bytes, limit %d", len(jwks), MaxSignerKeysBytes)
	}
	if len(cas) == 0 {
		return nil, errorsmod.Wrap(ErrSignerNotCertified, "params.nras_signing_cas is empty: no signer can be certified")
	}
	doc, err := decodeObject(jwks)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSignerNotCertified, "signer keys: %v", err)
	}
	var rawKeys []json.RawMessage
	if raw, ok := doc["keys"]; !ok || json.Unmarshal(raw, &rawKeys) != nil || len(rawKeys) == 0 {
		return nil, errorsmod.Wrap(ErrSignerNotCertified, "signer keys: no keys array")
	}
	if len(rawKeys) > MaxSignerKeys {
		return nil, errorsmod.Wrapf(ErrSignerNotCertified, "signer keys: %d keys, limit %d", len(rawKeys), MaxSignerKeys)
	}
	roots := x509.NewCertPool()
	for _, ca := range cas {
		roots.AddCert(ca)
	}
	set := make(NRASKeySet, len(rawKeys))
	for i, raw := range rawKeys {
		kid, key, err := parseJWK(raw)
		if err != nil {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "key %d: %v", i, err)
		}
		if _, dup := set[kid]; dup {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "duplicate kid %q", truncate(kid))
		}
		chain, err := x5c(raw)
		if err != nil {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "kid %q: %v", truncate(kid), err)
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		// parseJWK took the key from x/y and the leaf and required them to agree; the leaf is
		// what the chain certifies.
		if _, err := chain[0].Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: inter, CurrentTime: now,
			// NVIDIA's leaves carry no extended key usage meant for token signing; the CA is
			// what limits which keys count.
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		}); err != nil {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "kid %q: %v", truncate(kid), err)
		}
		set[kid] = key
	}
	if err := set.Validate(); err != nil {
		return nil, errorsmod.Wrap(ErrSignerNotCertified, err.Error())
	}
	return set, nil
}

// x5c parses a JWK's certificate chain, leaf first; it must be present.
func x5c(raw json.RawMessage) ([]*x509.Certificate, error) {
	jwk, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	var encoded []string
	if rawChain, ok := jwk["x5c"]; !ok || json.Unmarshal(rawChain, &encoded) != nil || len(encoded) == 0 {
		return nil, fmt.Errorf("no x5c chain")
	}
	if len(encoded) > maxSignerChain {
		return nil, fmt.Errorf("x5c has %d certificates, limit %d", len(encoded), maxSignerChain)
	}
	chain := make([]*x509.Certificate, len(encoded))
	for i, e := range encoded {
		der, err := base64.StdEncoding.Strict().DecodeString(e)
		if err != nil {
			return nil, fmt.Errorf("x5c[%d]: %v", i, err)
		}
		if chain[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("x5c[%d]: %v", i, err)
		}
	}
	return chain, nil
}

// SignerKeysGas is the gas for checking a signer JWKS of n bytes: per byte, and up to three
// signature checks per key (the chain's links), charged on the bytes' worth of keys before
// anything is parsed.
func SignerKeysGas(n int) uint64 {
	if n <= 0 {
		return 0
	}
	const perKeyBytes = 2048 // about one NRAS key with its x5c
	keys := uint64(n+perKeyBytes-1) / perKeyBytes
	return uint64(n)*GasPerEvidenceByte + keys*3*GasPerSignature
}
