package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompareDottedVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"550.90.07", "595.71.05", -1},
		{"595.71.05", "550.90.07", 1},
		{"595.71.05", "595.71.5", 0},
		{"550.90", "550.90.0", 0},
		{"550.100", "550.99.99", 1}, // numeric, not lexical
		{"9", "10", -1},
	} {
		got, err := compareDottedVersions(tc.a, tc.b)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%s vs %s", tc.a, tc.b)
	}
	for _, bad := range []string{"", ".", "1..2", "1.2.", "v550", "550.90.07-beta", "1.2.3.4.5.6.7.8.9", "1234567890", "-1", "+1", "1e3"} {
		_, err := parseDottedVersion(bad)
		require.Error(t, err, "%q", bad)
	}
}

func TestParseGPUID(t *testing.T) {
	for id, want := range map[string]uint32{"GPU-0": 0, "GPU-7": 7, "GPU-10": 10, "GPU-9999": 9999} {
		got, err := parseGPUID(id)
		require.NoError(t, err, id)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"GPU-", "GPU-01", "GPU--1", "GPU-+1", "gpu-0", "SWITCH-0", "GPU-10000", "GPU-1a", "GPU-0 "} {
		_, err := parseGPUID(bad)
		require.ErrorIs(t, err, ErrUnexpectedSubmod, "%q", bad)
	}
	keys := sortedGPUIDs(map[string]int{"GPU-10": 0, "GPU-2": 0, "GPU-1": 0})
	require.Equal(t, []string{"GPU-1", "GPU-2", "GPU-10"}, keys)
}

func TestDecodeObjectIsStrict(t *testing.T) {
	_, err := decodeObject([]byte(`{"iss":"a","iss":"b"}`))
	require.ErrorContains(t, err, "duplicate")
	obj, err := decodeObject([]byte(`{"ISS":"a"}`))
	require.NoError(t, err)
	_, ok := obj["iss"]
	require.False(t, ok, "keys must match exactly, not case-folded")
	_, err = decodeObject([]byte(`{"a":1} {"b":2}`))
	require.Error(t, err)
	_, err = decodeObject([]byte(`[1]`))
	require.Error(t, err)
}

func TestIntegerClaimsOnly(t *testing.T) {
	for _, raw := range []string{`1.5`, `1e9`, `"1"`, `true`} {
		_, present, err := getInt(map[string]json.RawMessage{"exp": json.RawMessage(raw)}, "exp")
		require.True(t, present)
		require.Error(t, err, raw)
	}
}

func TestParseJWKSRejects(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	x := b64url.EncodeToString(p256.X.FillBytes(make([]byte, 32)))
	y := b64url.EncodeToString(p256.Y.FillBytes(make([]byte, 32)))
	zero := b64url.EncodeToString(make([]byte, p384CoordSize))
	for name, doc := range map[string]string{
		"not json":       `{`,
		"no keys":        `{}`,
		"P-256":          `{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"` + x + `","y":"` + y + `"}]}`,
		"short coords":   `{"keys":[{"kty":"EC","crv":"P-384","kid":"a","x":"` + x + `","y":"` + y + `"}]}`,
		"not on curve":   `{"keys":[{"kty":"EC","crv":"P-384","kid":"a","x":"` + zero + `","y":"` + zero + `"}]}`,
		"RSA":            `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		"missing kid":    `{"keys":[{"kty":"EC","crv":"P-384"}]}`,
		"wrong alg":      `{"keys":[{"kty":"EC","crv":"P-384","kid":"a","alg":"HS256","x":"` + zero + `","y":"` + zero + `"}]}`,
		"empty key list": `{"keys":[]}`,
	} {
		_, err := ParseJWKS([]byte(doc))
		require.ErrorIs(t, err, ErrKeySetInvalid, name)
	}
}

func TestParseJWKSCrossChecksX5C(t *testing.T) {
	keys := nvidiaKeys(t)
	require.NotEmpty(t, keys)
	// The fixture carries both x/y and x5c for every key; swapping one key's x/y for another's
	// must be caught.
	doc := string(readFixture(t, "nvidia", "nras", "tinfoil-h100-20260629", "jwks.json"))
	var other *ecdsa.PublicKey
	for _, kid := range sortedKeys(keys) {
		if kid != tinfoilKid {
			other = keys[kid]
			break
		}
	}
	want := keys[tinfoilKid]
	oldX := b64url.EncodeToString(want.X.FillBytes(make([]byte, p384CoordSize)))
	oldY := b64url.EncodeToString(want.Y.FillBytes(make([]byte, p384CoordSize)))
	newX := b64url.EncodeToString(other.X.FillBytes(make([]byte, p384CoordSize)))
	newY := b64url.EncodeToString(other.Y.FillBytes(make([]byte, p384CoordSize)))
	require.Contains(t, doc, oldX)
	doc = strings.Replace(doc, oldX, newX, 1)
	doc = strings.Replace(doc, oldY, newY, 1)
	_, err := ParseJWKS([]byte(doc))
	require.ErrorIs(t, err, ErrKeySetInvalid)
	require.ErrorContains(t, err, "x5c")
}

func TestGas(t *testing.T) {
	require.Equal(t, uint64(1000+9*5000), NRASGas(1000, 8))
	require.Equal(t, uint64(5000), NRASGas(-1, -1))
	require.Equal(t, uint64(3500+12000), SNPGas(3500))
}
