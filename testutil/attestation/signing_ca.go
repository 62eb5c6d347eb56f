package attestation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"time"
)

// SigningCA stands in for NVIDIA's "NVIDIA Attestation Service GPU Intermediate": it certifies
// issuers' signing keys, as NRAS's JWKS x5c chains do.
type SigningCA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewSigningCA makes a CA valid for years either side of now.
func NewSigningCA() (*SigningCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "computed test NRAS signing CA"},
		NotBefore: now.AddDate(-10, 0, 0), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &SigningCA{Cert: cert, Key: key}, nil
}

// PEM is the CA certificate as params.nras_signing_cas holds it.
func (ca *SigningCA) PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
}

// SignerKeys is a JWKS holding the issuer's key with an x5c chain (leaf valid from notBefore to
// notAfter, then the CA), as MsgSubmitAttestation.nras_signer_keys carries it.
func (ca *SigningCA) SignerKeys(i *Issuer, notBefore, notAfter time.Time) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "computed test NRAS signer " + i.Kid},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &i.Key.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	coord := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.FillBytes(make([]byte, 48))) }
	return json.Marshal(map[string]any{"keys": []map[string]any{{
		"kty": "EC", "crv": "P-384", "kid": i.Kid, "x": coord(i.Key.X), "y": coord(i.Key.Y),
		"x5c": []string{base64.StdEncoding.EncodeToString(der), base64.StdEncoding.EncodeToString(ca.Cert.Raw)},
	}}})
}
