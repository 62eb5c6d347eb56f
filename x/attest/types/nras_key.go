package types

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/computed-network/computed/x/attest/verify"
)

// ParseNRASKey parses one trusted key: a JWK object, a PEM public key or a PEM certificate whose
// key is taken as is (as with a JWK's x5c, the certificate path is not checked: the key is
// trusted because governance listed it). The key must be P-384 ECDSA.
func ParseNRASKey(k NRASKey) (*ecdsa.PublicKey, error) {
	if k.Kid == "" || len(k.Kid) > 256 {
		return nil, fmt.Errorf("kid must be 1..256 bytes")
	}
	if len(k.Key) == 0 || len(k.Key) > MaxKeyMaterialBytes {
		return nil, fmt.Errorf("kid %q: key must be 1..%d bytes", k.Kid, MaxKeyMaterialBytes)
	}
	raw := bytes.TrimSpace([]byte(k.Key))
	if len(raw) > 0 && raw[0] == '{' {
		set, err := verify.ParseJWKS(append(append([]byte(`{"keys":[`), raw...), ']', '}'))
		if err != nil {
			return nil, fmt.Errorf("kid %q: %w", k.Kid, err)
		}
		pub, ok := set[k.Kid]
		if !ok || len(set) != 1 {
			return nil, fmt.Errorf("kid %q: JWK names another kid", k.Kid)
		}
		return pub, nil
	}
	block, rest := pem.Decode(raw)
	if block == nil || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("kid %q: key is neither a JWK object nor exactly one PEM block", k.Kid)
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		var err error
		if pub, err = x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("kid %q: %v", k.Kid, err)
		}
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("kid %q: %v", k.Kid, err)
		}
		pub = cert.PublicKey
	default:
		return nil, fmt.Errorf("kid %q: PEM block %q, want PUBLIC KEY or CERTIFICATE", k.Kid, block.Type)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P384() {
		return nil, fmt.Errorf("kid %q: not a P-384 ECDSA key", k.Kid)
	}
	if err := (verify.NRASKeySet{k.Kid: ec}).Validate(); err != nil {
		return nil, fmt.Errorf("kid %q: %w", k.Kid, err)
	}
	return ec, nil
}
