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
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tinfoilSigner is the JWKS entry (kid, x/y, x5c [leaf, Intermediate 004]) of the key NRAS
// signed the tinfoil token with, as NRAS served it, and the intermediate as a PEM CA.
func tinfoilSigner(t testing.TB) (entry map[string]any, intermediate string) {
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

func signerJWKS(t testing.TB, keys ...map[string]any) []byte {
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
	at := func(now time.Time) SignerOptions { return SignerOptions{CAs: cas, Now: now} }

	checks := 0
	opts := at(iat.Add(time.Minute))
	opts.Consume = func(gas uint64) {
		require.Equal(t, GasPerSignature, gas)
		checks++
	}
	keys, err := CertifiedKeys(signerJWKS(t, entry), opts)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, 1, checks, "one signature check: the leaf by Intermediate 004")
	nras := tinfoilOptions(t, iat.Add(time.Minute))
	nras.Keys = keys
	res, err := VerifyNRAS(evidence, 64*1024, nras)
	require.NoError(t, err)
	require.Equal(t, tinfoilKid, res.Kid)

	t.Run("leaf expired at block time", func(t *testing.T) {
		// The leaf is valid 2026-06-28T16:59:27Z to 2026-06-30T16:59:57Z.
		_, err := CertifiedKeys(signerJWKS(t, entry), at(time.Date(2026, 6, 30, 17, 0, 0, 0, time.UTC)))
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("another CA", func(t *testing.T) {
		other, _ := testCA(t)
		_, err := CertifiedKeys(signerJWKS(t, entry), SignerOptions{CAs: SigningCAs{other}, Now: iat})
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("no CA trusted", func(t *testing.T) {
		_, err := CertifiedKeys(signerJWKS(t, entry), SignerOptions{Now: iat})
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("a listed kid needs no chain, but must be the listed key", func(t *testing.T) {
		keys, err := ParseJWKS(readFixture(t, "nvidia", "nras", "tinfoil-h100-20260629", "jwks.json"))
		require.NoError(t, err)
		// No CA at all (a new intermediate governance has not added): the listed kid still works.
		got, err := CertifiedKeys(signerJWKS(t, entry), SignerOptions{Now: iat, Listed: NRASKeySet{tinfoilKid: keys[tinfoilKid]}})
		require.NoError(t, err)
		require.Empty(t, got, "nothing to add: governance lists it")
		priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		_, err = CertifiedKeys(signerJWKS(t, entry), SignerOptions{CAs: cas, Now: iat, Listed: NRASKeySet{tinfoilKid: &priv.PublicKey}})
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("x/y of another key than the certified leaf", func(t *testing.T) {
		forged := cloneEntry(entry)
		priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		forged["x"] = b64url.EncodeToString(priv.X.FillBytes(make([]byte, 48)))
		forged["y"] = b64url.EncodeToString(priv.Y.FillBytes(make([]byte, 48)))
		_, err = CertifiedKeys(signerJWKS(t, forged), at(iat))
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("no x5c", func(t *testing.T) {
		bare := cloneEntry(entry)
		delete(bare, "x5c")
		_, err := CertifiedKeys(signerJWKS(t, bare), at(iat))
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("leaf signed by the CA's name but another key", func(t *testing.T) {
		// A self-made CA with Intermediate 004's subject certifies an attacker's key.
		fakeCA, fakeKey := testCAWithSubject(t, ca.Subject)
		leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		leaf := testLeaf(t, fakeCA, fakeKey, &leafKey.PublicKey, iat, nil)
		forged := x5cEntry(tinfoilKid, leaf, fakeCA)
		_, err = CertifiedKeys(signerJWKS(t, forged), at(iat))
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
	t.Run("one uncertified key fails the document", func(t *testing.T) {
		other, otherKey := testCA(t)
		leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		stray := x5cEntry("stray", testLeaf(t, other, otherKey, &leafKey.PublicKey, iat, nil))
		_, err = CertifiedKeys(signerJWKS(t, entry, stray), at(iat))
		require.ErrorIs(t, err, ErrSignerNotCertified)
	})
}

// TestCertifiedKeysLimits: the leaf's kind, the number of keys and bytes, and the signature
// checks a crafted x5c can cause, with a CA of the test's own.
func TestCertifiedKeysLimits(t *testing.T) {
	ca, caKey := testCA(t)
	now := time.Now()
	opts := SignerOptions{CAs: SigningCAs{ca}, Now: now}
	signer := func(kid string, edit func(*x509.Certificate)) map[string]any {
		key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		return x5cEntry(kid, testLeaf(t, ca, caKey, &key.PublicKey, now, edit))
	}
	_, err := CertifiedKeys(signerJWKS(t, signer("ok", nil)), opts)
	require.NoError(t, err)

	for name, edit := range map[string]func(*x509.Certificate){
		"a CA as leaf": func(c *x509.Certificate) {
			c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign
		},
		"an OCSP responder":    func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning} },
		"no digital signature": func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment },
	} {
		_, err := CertifiedKeys(signerJWKS(t, signer("k", edit)), opts)
		require.ErrorIs(t, err, ErrSignerNotCertified, name)
	}

	// An extension marked critical that nothing here understands.
	_, err = CertifiedKeys(signerJWKS(t, signer("crit", func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: []int{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}
	})), opts)
	require.ErrorIs(t, err, ErrSignerNotCertified, "unhandled critical extension")

	// A CA that may issue no intermediates (path length 0) does not certify through one.
	for _, tc := range []struct {
		maxPathLen int
		zero, ok   bool
	}{{0, true, false}, {1, false, true}} {
		rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "constrained CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign, MaxPathLen: tc.maxPathLen, MaxPathLenZero: tc.zero,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rootKey.PublicKey, rootKey)
		require.NoError(t, err)
		root, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		interKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		itmpl := &x509.Certificate{
			SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "intermediate"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign,
		}
		der, err = x509.CreateCertificate(rand.Reader, itmpl, root, &interKey.PublicKey, rootKey)
		require.NoError(t, err)
		inter, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		leaf := testLeaf(t, inter, interKey, &leafKey.PublicKey, now, nil)
		_, err = CertifiedKeys(signerJWKS(t, x5cEntry("deep", leaf, inter)), SignerOptions{CAs: SigningCAs{root}, Now: now})
		if tc.ok {
			require.NoError(t, err, "path length %d allows one intermediate", tc.maxPathLen)
		} else {
			require.ErrorIs(t, err, ErrSignerNotCertified, "path length 0")
		}
	}

	many := make([]map[string]any, MaxSignerKeys+1)
	for i := range many {
		many[i] = signer(string(rune('a'+i)), nil)
	}
	_, err = CertifiedKeys(signerJWKS(t, many[:MaxSignerKeys]...), opts)
	require.NoError(t, err, "the limit itself")
	_, err = CertifiedKeys(signerJWKS(t, many...), opts)
	require.ErrorIs(t, err, ErrSignerNotCertified)
	padded := signer("padded", nil)
	padded["pad"] = strings.Repeat("x", MaxSignerKeysBytes)
	_, err = CertifiedKeys(signerJWKS(t, padded), opts)
	require.ErrorIs(t, err, ErrSignerNotCertified)

	// Three look-alike intermediates (one subject, one key) between the leaf and nothing the CA
	// issued: x509.Verify would try every path through them; the ordered path costs at most a
	// check a certificate, plus one for the CA.
	inter, interKey := testCAWithSubject(t, pkix.Name{CommonName: "look-alike"})
	copies := []*x509.Certificate{inter}
	for range 2 {
		tmpl := *inter
		tmpl.SerialNumber = big.NewInt(int64(len(copies) + 10))
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &interKey.PublicKey, interKey)
		require.NoError(t, err)
		c, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		copies = append(copies, c)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	leaf := testLeaf(t, inter, interKey, &leafKey.PublicKey, now, nil)
	checks := 0
	counted := opts
	counted.Consume = func(uint64) { checks++ }
	_, err = CertifiedKeys(signerJWKS(t, x5cEntry("crafted", append([]*x509.Certificate{leaf}, copies...)...)), counted)
	require.ErrorIs(t, err, ErrSignerNotCertified)
	require.LessOrEqual(t, checks, 4)
}

func x5cEntry(kid string, chain ...*x509.Certificate) map[string]any {
	enc := make([]string, len(chain))
	for i, c := range chain {
		enc[i] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	return map[string]any{"kty": "EC", "crv": "P-384", "kid": kid, "x5c": enc}
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
	leaf := testLeaf(t, ca, key, &leafKey.PublicKey, time.Now(), nil)
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

func testLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, pub *ecdsa.PublicKey, at time.Time, edit func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: at.Add(-time.Hour), NotAfter: at.Add(48 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

// BenchmarkCertifiedKeysTinfoil measures certifying NRAS's real signing key through its x5c to
// Intermediate 004 (one RSA signature check, plus parsing), against GasPerSignature's basis.
func BenchmarkCertifiedKeysTinfoil(b *testing.B) {
	entry, interPEM := tinfoilSigner(b)
	ca, err := ParseSigningCA(interPEM)
	if err != nil {
		b.Fatal(err)
	}
	doc := signerJWKS(b, entry)
	opts := SignerOptions{CAs: SigningCAs{ca}, Now: time.Unix(1782698883, 0)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CertifiedKeys(doc, opts); err != nil {
			b.Fatal(err)
		}
	}
}
