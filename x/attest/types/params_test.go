package types_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/types"
)

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.NoError(t, types.DefaultGenesis().Validate())
	roots, err := types.DefaultParams().SNPRoots()
	require.NoError(t, err)
	require.Len(t, roots["Milan"], 2)
	require.Len(t, roots["Genoa"], 2)

	cases := map[string]func(p *types.Params){
		"zero challenge ttl":      func(p *types.Params) { p.ChallengeTtlBlocks = 0 },
		"zero evidence size":      func(p *types.Params) { p.MaxEvidenceBytes = 0 },
		"evidence size above cap": func(p *types.Params) { p.MaxEvidenceBytes = types.MaxEvidenceBytesLimit + 1 },
		"zero evidence age":       func(p *types.Params) { p.MaxEvidenceAgeSeconds = 0 },
		"zero record validity":    func(p *types.Params) { p.RecordValiditySeconds = 0 },
		"huge record validity":    func(p *types.Params) { p.RecordValiditySeconds = 1 << 62 },
		"leeway above max":        func(p *types.Params) { p.ClockLeewaySeconds = 601 },
		"empty issuer":            func(p *types.Params) { p.NrasIssuer = "" },
		"no NRAS key or CA":       func(p *types.Params) { p.NrasKeys, p.NrasSigningCas = nil, nil },
		"challenge ttl above cap": func(p *types.Params) { p.ChallengeTtlBlocks = types.MaxChallengeTTLBlocks + 1 },
		"signing CA not a CA":     func(p *types.Params) { p.NrasSigningCas = []string{certKey(t)} },
		"garbage signing CA":      func(p *types.Params) { p.NrasSigningCas = []string{"x"} },
		"duplicate kid":           func(p *types.Params) { p.NrasKeys = append(p.NrasKeys, p.NrasKeys[0]) },
		"kid differs from JWK":    func(p *types.Params) { p.NrasKeys[0].Kid = "other" },
		"garbage key":             func(p *types.Params) { p.NrasKeys[0].Key = "not a key" },
		"P-256 key":               func(p *types.Params) { p.NrasKeys[0].Key = pemKey(t, elliptic.P256()) },
		"no AMD roots":            func(p *types.Params) { p.AmdRoots = nil },
		"AMD roots of wrong line": func(p *types.Params) { p.AmdRoots[0].ProductLine = "Genoa" },
		"Turin AMD roots":         func(p *types.Params) { p.AmdRoots[0].ProductLine = "Turin" },
		"duplicate AMD bundle":    func(p *types.Params) { p.AmdRoots = append(p.AmdRoots, p.AmdRoots[0]) },
		"garbage AMD bundle":      func(p *types.Params) { p.AmdRoots[0].Pem = "x" },
		"duplicate sku":           func(p *types.Params) { p.SkuPolicies = append(p.SkuPolicies, p.SkuPolicies[0]) },
		"empty sku":               func(p *types.Params) { p.SkuPolicies[0].Sku = "" },
		"sku with space":          func(p *types.Params) { p.SkuPolicies[0].Sku = "H100 SXM" },
		"zero sku vram":           func(p *types.Params) { p.SkuPolicies[0].VramGib = 0 },
		"sku without hwmodels":    func(p *types.Params) { p.SkuPolicies[0].AllowedHwmodels = nil },
		"empty hwmodel":           func(p *types.Params) { p.SkuPolicies[0].AllowedHwmodels = []string{""} },
		"bad min driver":          func(p *types.Params) { p.SkuPolicies[0].MinDriverVersion = "550.x" },
		"duplicate vbios":         func(p *types.Params) { p.SkuPolicies[0].AllowedVbiosVersions = []string{"96.00", "96.00"} },
		"TCB part above a byte":   func(p *types.Params) { p.SnpPolicy.MinTcbSnp = 256 },
		"short measurement":       func(p *types.Params) { p.SnpPolicy.AllowedMeasurements = []string{"abcd"} },
		"upper-case measurement":  func(p *types.Params) { p.SnpPolicy.AllowedMeasurements = []string{strings.Repeat("AB", 48)} },
		"duplicate measurement": func(p *types.Params) {
			p.SnpPolicy.AllowedMeasurements = []string{strings.Repeat("ab", 48), strings.Repeat("ab", 48)}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := types.DefaultParams()
			mutate(&p)
			require.Error(t, p.Validate())
			require.ErrorIs(t, types.GenesisState{Params: p}.Validate(), types.ErrInvalidGenesis)
		})
	}

	t.Run("valid variations", func(t *testing.T) {
		p := types.DefaultParams()
		p.SnpPolicy.AllowedMeasurements = []string{strings.Repeat("ab", 48)}
		p.SnpPolicy.MinTcbSnp = 8
		p.SkuPolicies = append(p.SkuPolicies, types.SKUPolicy{Sku: "A100-SXM-80GB", VramGib: 80, AllowedHwmodels: []string{"GA100"}, AllowedVbiosVersions: []string{"92.00.45.00.06"}})
		p.NrasKeys = append(p.NrasKeys, types.NRASKey{Kid: "pem", Key: pemKey(t, elliptic.P384())}, types.NRASKey{Kid: "cert", Key: certKey(t)})
		require.NoError(t, p.Validate())
		p.NrasKeys = nil // production: NVIDIA's keys through the CA alone
		require.NoError(t, p.Validate())
	})
}

// TestDefaultSigningCA: the default params trust NVIDIA's "NVIDIA Attestation Service GPU
// Intermediate 004", pinned by the SPKI hash the fixtures README gives.
func TestDefaultSigningCA(t *testing.T) {
	cas, err := types.DefaultParams().SigningCAs()
	require.NoError(t, err)
	require.Len(t, cas, 1)
	require.Equal(t, "NVIDIA Attestation Service GPU Intermediate 004", cas[0].Subject.CommonName)
	spki := sha256.Sum256(cas[0].RawSubjectPublicKeyInfo)
	require.Equal(t, "fd32837f954e2c45db073105166dfe6985ae0480bb113fba63b091a75affe896", hex.EncodeToString(spki[:]))
}

func TestParseNRASKeyForms(t *testing.T) {
	iss := attestation.NewIssuerFromSeed([]byte("forms"))
	fromPEM, err := types.ParseNRASKey(types.NRASKey{Kid: "k", Key: string(iss.PublicKeyPEM())})
	require.NoError(t, err)
	require.True(t, fromPEM.Equal(&iss.Key.PublicKey))
	jwks := string(iss.JWKS())
	jwk := strings.TrimSuffix(strings.TrimPrefix(jwks, `{"keys":[`), `]}`)
	fromJWK, err := types.ParseNRASKey(types.NRASKey{Kid: iss.Kid, Key: jwk})
	require.NoError(t, err)
	require.True(t, fromJWK.Equal(&iss.Key.PublicKey))
	_, err = types.ParseNRASKey(types.NRASKey{Kid: "k", Key: string(iss.PublicKeyPEM()) + string(iss.PublicKeyPEM())})
	require.Error(t, err, "exactly one PEM block")
}

func pemKey(t *testing.T, curve elliptic.Curve) string {
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func certKey(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nras"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestProviderDetails(t *testing.T) {
	require.NoError(t, types.ValidateMetro("FRA"))
	require.ErrorIs(t, types.ValidateMetro("Fra"), types.ErrInvalidMetro)
	for _, ok := range []string{"https://a.example", "http://10.0.0.1:8080/x?y=1", "https://[::1]:443/"} {
		require.NoError(t, types.ValidateEndpoint(ok), ok)
	}
	for _, bad := range []string{"", "https:a.example", "//a.example", "https://a.example#frag", "HTTPS://a.example", "https://a.example/\u00e9"} {
		require.ErrorIs(t, types.ValidateEndpoint(bad), types.ErrInvalidEndpoint, bad)
	}
}

func TestChallengeNonceIsDeterministicAndDistinct(t *testing.T) {
	p := []byte("provider-address-bytes")
	hash := []byte("block-hash")
	a := types.ChallengeNonce("computed-1", p, 1, 10, hash)
	require.Len(t, a, 32)
	require.Equal(t, a, types.ChallengeNonce("computed-1", p, 1, 10, []byte("block-hash")))
	for _, other := range [][]byte{
		types.ChallengeNonce("computed-2", p, 1, 10, hash),
		types.ChallengeNonce("computed-1", []byte("another"), 1, 10, hash),
		types.ChallengeNonce("computed-1", p, 2, 10, hash),
		types.ChallengeNonce("computed-1", p, 1, 11, hash),
		// Everything a provider can know in advance is the same; only the block differs.
		types.ChallengeNonce("computed-1", p, 1, 10, []byte("another-block")),
		// Moving bytes between fields changes the nonce (lengths are part of the input).
		types.ChallengeNonce("computed-1p", []byte("rovider-address-bytes"), 1, 10, hash),
	} {
		require.NotEqual(t, a, other)
	}
}
