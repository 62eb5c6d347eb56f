package verify

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
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tinfoilSigner is the JWKS entry (kid, x/y, x5c [leaf, Intermediate 004]) of the key NRAS
// signed the tinfoil token with, as NRAS served it, and the intermediate as a PEM CA.
func tinfoilSigner(t *testing.T) (entry map[string]any, intermediate string) {
	t.Helper()
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(readFixture(t, "nvidia", "nras", "tinfoil-h100-20260629", "jwks.json"), &doc))
	for _, k := range doc.Keys {
		if k["kid"] == tinfoilKid {
			chain := k["x5c"].([]any)
			der, err := base64.StdEncoding.DecodeString(chain[1].(string))
			require.NoError(t, err)
			return k, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		}
	}
	t.Fatal("the tinfoil kid is not in the fixture JWKS")
	return nil, ""
}

func signerJWKS(t *testing.T, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	return b
}

// TestCertifiedKeysTinfoil: NRAS's real signing key, certified by NVIDIA's Intermediate 004,
// verifies the real token with no kid listed anywhere; the leaf is checked at block time.
func TestCertifiedKeysTinfoil(t *testing.T) {
	entry, interPEM := tinfoilSigner(t)
	ca, err := ParseSigningCA(interPEM)
	require.NoError(t, err)
	cas := SigningCAs{ca}
	evidence := readFixture(t, "nvidia", "nras", "tinfoil-h100-20260629", "nras-response.json")
	iat := time.Unix(1782698883, 0) // 2026-06-29T02:08:03Z

	keys, err := CertifiedKeys(signerJWKS(t, entry), cas, iat.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, keys, 1)
	opts := tinfoilOptions(t, iat.Add(time.Minute))
	opts.Keys = keys
	res, err := VerifyNRAS(evidence, 64*1024, opts)
	require.NoError(t, err)
	require.Equal(t, tinfoilKid, res.Kid)

	t.Run("leaf expired at block time", func(t *testing.T) {
		// The leaf is valid 2026-06-28T16:59:27Z to 2026-06-30T16:59:57Z.
		_, err := CertifiedKeys(signerJWKS(t, entry), cas, time.Date(2026, 6, 30, 17, 0, 0, 0, time.UTC))
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("another CA", func(t *testing.T) {
		other, _ := testCA(t)
		_, err := CertifiedKeys(signerJWKS(t, entry), SigningCAs{other}, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("no CA trusted", func(t *testing.T) {
		_, err := CertifiedKeys(signerJWKS(t, entry), nil, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("x/y of another key than the certified leaf", func(t *testing.T) {
		forged := cloneEntry(entry)
		priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		forged["x"] = b64url.EncodeToString(priv.X.FillBytes(make([]byte, 48)))
		forged["y"] = b64url.EncodeToString(priv.Y.FillBytes(make([]byte, 48)))
		_, err = CertifiedKeys(signerJWKS(t, forged), cas, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("no x5c", func(t *testing.T) {
		bare := cloneEntry(entry)
		delete(bare, "x5c")
		_, err := CertifiedKeys(signerJWKS(t, bare), cas, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("leaf signed by the CA's name but another key", func(t *testing.T) {
		// A self-made CA with Intermediate 004's subject certifies an attacker's key.
		fakeCA, fakeKey := testCAWithSubject(t, ca.Subject)
		leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		leaf := testLeaf(t, fakeCA, fakeKey, &leafKey.PublicKey, iat)
		forged := map[string]any{"kty": "EC", "crv": "P-384", "kid": tinfoilKid, "x5c": []string{
			base64.StdEncoding.EncodeToString(leaf.Raw), base64.StdEncoding.EncodeToString(fakeCA.Raw),
		}}
		_, err = CertifiedKeys(signerJWKS(t, forged), cas, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("one uncertified key fails the document", func(t *testing.T) {
		other, otherKey := testCA(t)
		leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		leaf := testLeaf(t, other, otherKey, &leafKey.PublicKey, iat)
		stray := map[string]any{"kty": "EC", "crv": "P-384", "kid": "stray", "x5c": []string{base64.StdEncoding.EncodeToString(leaf.Raw)}}
		_, err = CertifiedKeys(signerJWKS(t, entry, stray), cas, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("too many keys or bytes", func(t *testing.T) {
		many := make([]map[string]any, MaxSignerKeys+1)
		for i := range many {
			many[i] = entry
		}
		_, err := CertifiedKeys(signerJWKS(t, many...), cas, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
		_, err = CertifiedKeys(make([]byte, MaxSignerKeysBytes+1), cas, iat)
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
}

func TestParseSigningCA(t *testing.T) {
	_, interPEM := tinfoilSigner(t)
	_, err := ParseSigningCA(interPEM)
	require.NoError(t, err)
	_, err = ParseSigningCA(interPEM + interPEM)
	require.ErrorIs(t, err, ErrKeySetInvalid, "two certificates")
	ca, key := testCA(t)
	leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	leaf := testLeaf(t, ca, key, &leafKey.PublicKey, time.Now())
	_, err = ParseSigningCA(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})))
	require.ErrorIs(t, err, ErrKeySetInvalid, "not a CA")
	_, err = ParseSigningCA("not pem")
	require.ErrorIs(t, err, ErrKeySetInvalid)
}

func cloneEntry(e map[string]any) map[string]any {
	c := make(map[string]any, len(e))
	for k, v := range e {
		c[k] = v
	}
	return c
}

func testCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	return testCAWithSubject(t, pkix.Name{CommonName: "test CA"})
}

func testCAWithSubject(t *testing.T, subject pkix.Name) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: subject,
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func testLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, pub *ecdsa.PublicKey, at time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: at.Add(-time.Hour), NotAfter: at.Add(48 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}
