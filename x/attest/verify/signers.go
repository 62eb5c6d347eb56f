package verify

import (
	"bytes"
	"crypto/x509"
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

// SignerOptions say what CertifiedKeys trusts, and how it charges for its work.
type SignerOptions struct {
	// CAs certify signing keys (params.nras_signing_cas).
	CAs SigningCAs
	// Now is the block time every certificate on a path must be valid at.
	Now time.Time
	// Listed are the keys trusted as they are (params.nras_keys): a document's key under a
	// listed kid needs no chain, so a listed kid works while its chain does not (a new NVIDIA
	// intermediate governance has not added yet), but it must be the listed key.
	Listed NRASKeySet
	// Consume, when set, is called with GasPerSignature before every signature check.
	Consume func(gas uint64)
}

// CertifiedKeys returns the keys of a signer JWKS (see MsgSubmitAttestation.nras_signer_keys)
// that opts.Listed does not hold, each certified at opts.Now: the leaf of its x5c, whose key
// must equal the JWK's x/y when given, is issued by a CA of opts.CAs, or by the next
// certificate of the x5c, which is issued by one, and so on; the path is the x5c in order, so
// the signature checks are at most its length. The leaf may not be a CA or an OCSP responder,
// and must allow digital signatures. Every key must pass; one that does not fails the whole
// document, so a submission never half-works. A retired key stops verifying when its
// certificate expires (NRAS's live about two days).
func CertifiedKeys(jwks []byte, opts SignerOptions) (NRASKeySet, error) {
	if len(jwks) > MaxSignerKeysBytes {
		return nil, errorsmod.Wrapf(ErrSignerNotCertified, "signer keys are %d bytes, limit %d", len(jwks), MaxSignerKeysBytes)
	}
	rawKeys, err := jwksKeys(jwks)
	if err != nil || len(rawKeys) == 0 {
		return nil, errorsmod.Wrapf(ErrSignerNotCertified, "signer keys: %v (or none)", err)
	}
	if len(rawKeys) > MaxSignerKeys {
		return nil, errorsmod.Wrapf(ErrSignerNotCertified, "signer keys: %d keys, limit %d", len(rawKeys), MaxSignerKeys)
	}
	consume := opts.Consume
	if consume == nil {
		consume = func(uint64) {}
	}
	set := make(NRASKeySet, len(rawKeys))
	seen := make(map[string]bool, len(rawKeys))
	for i, raw := range rawKeys {
		jwk, err := parseJWK(raw)
		if err != nil {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "key %d: %v", i, err)
		}
		kid, key := jwk.kid, jwk.key
		if seen[kid] {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "duplicate kid %q", truncate(kid))
		}
		seen[kid] = true
		if listed, ok := opts.Listed[kid]; ok {
			if !listed.Equal(key) {
				return nil, errorsmod.Wrapf(ErrSignerNotCertified, "kid %q is listed in params with another key", truncate(kid))
			}
			continue
		}
		if len(opts.CAs) == 0 {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "kid %q: params.nras_signing_cas is empty: no signer can be certified", truncate(kid))
		}
		chain, err := signerChain(jwk)
		if err == nil {
			err = certify(chain, opts.CAs, opts.Now, consume)
		}
		if err != nil {
			return nil, errorsmod.Wrapf(ErrSignerNotCertified, "kid %q: %v", truncate(kid), err)
		}
		set[kid] = key
	}
	if len(set) > 0 {
		if err := set.Validate(); err != nil {
			return nil, errorsmod.Wrap(ErrSignerNotCertified, err.Error())
		}
	}
	return set, nil
}

// certify checks chain (leaf first) as one path to a CA of cas, valid at now. It does not use
// x509.Verify, which tries every path through the certificates it is given: a crafted x5c of
// look-alike intermediates would cost many more signature checks than its size pays for.
func certify(chain []*x509.Certificate, cas SigningCAs, now time.Time, consume func(uint64)) error {
	leaf := chain[0]
	if leaf.IsCA {
		return fmt.Errorf("x5c[0] is a CA certificate")
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("x5c[0] may not sign (key usage)")
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageOCSPSigning {
			return fmt.Errorf("x5c[0] is an OCSP responder")
		}
	}
	for i, cur := range chain {
		// What x509.Verify would refuse too: an extension marked critical that no one here
		// understands, or a CA used deeper than its path length allows (cur is i CAs below the
		// leaf; the certificates between the leaf and cur are i-1 intermediates).
		if len(cur.UnhandledCriticalExtensions) > 0 {
			return fmt.Errorf("x5c[%d] has an unhandled critical extension", i)
		}
		if i > 0 && pathTooLong(cur, i-1) {
			return fmt.Errorf("x5c[%d] may not issue that deep a path", i)
		}
		if now.Before(cur.NotBefore) || now.After(cur.NotAfter) {
			return fmt.Errorf("x5c[%d] is valid %s to %s, not at %s", i, cur.NotBefore.UTC().Format(time.RFC3339),
				cur.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		for _, ca := range cas {
			if !bytes.Equal(cur.RawIssuer, ca.RawSubject) || now.Before(ca.NotBefore) || now.After(ca.NotAfter) || pathTooLong(ca, i) {
				continue
			}
			consume(GasPerSignature)
			if cur.CheckSignatureFrom(ca) == nil {
				return nil
			}
		}
		if i+1 == len(chain) {
			return fmt.Errorf("x5c[%d] (issuer %q) is not issued by a trusted CA", i, truncate(cur.Issuer.String()))
		}
		next := chain[i+1]
		if !bytes.Equal(cur.RawIssuer, next.RawSubject) {
			return fmt.Errorf("x5c[%d] is not the issuer of x5c[%d]", i+1, i)
		}
		consume(GasPerSignature)
		// CheckSignatureFrom also requires next to be a CA allowed to sign certificates.
		if err := cur.CheckSignatureFrom(next); err != nil {
			return fmt.Errorf("x5c[%d] does not certify x5c[%d]: %v", i+1, i, err)
		}
	}
	return fmt.Errorf("empty x5c")
}

// signerChain is jwk's x5c parsed, leaf first; it must be present and short.
func signerChain(jwk parsedJWK) ([]*x509.Certificate, error) {
	if jwk.leaf == nil {
		return nil, fmt.Errorf("no x5c chain")
	}
	if len(jwk.x5c) > maxSignerChain {
		return nil, fmt.Errorf("x5c has %d certificates, limit %d", len(jwk.x5c), maxSignerChain)
	}
	chain := []*x509.Certificate{jwk.leaf}
	for i := 1; i < len(jwk.x5c); i++ {
		cert, err := parseX5C(jwk.x5c, i)
		if err != nil {
			return nil, err
		}
		chain = append(chain, cert)
	}
	return chain, nil
}

// pathTooLong reports whether ca's path-length constraint forbids below intermediates between it
// and the leaf.
func pathTooLong(ca *x509.Certificate, below int) bool {
	if !ca.BasicConstraintsValid || (ca.MaxPathLen < 0 || (ca.MaxPathLen == 0 && !ca.MaxPathLenZero)) {
		return false // no constraint
	}
	return below > ca.MaxPathLen
}

// SignerKeysGas is the gas charged for a signer JWKS of n bytes before it is parsed; each
// signature check is charged as it comes (SignerOptions.Consume).
func SignerKeysGas(n int) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64(n) * GasPerEvidenceByte
}
