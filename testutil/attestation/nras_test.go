package attestation_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/verify"
)

func TestNewIssuerFromSeedIsPinned(t *testing.T) {
	a := attestation.NewIssuerFromSeed([]byte("dev genesis"))
	b := attestation.NewIssuerFromSeed([]byte("dev genesis"))
	require.True(t, a.Key.Equal(b.Key))
	require.Equal(t, a.JWKS(), b.JWKS())
	// A dev genesis may list this key: the derivation must never change silently.
	require.Equal(t, "computed-test-nras-69f3c80524469df3", a.Kid)
	require.Equal(t, `{"keys":[{"kty":"EC","crv":"P-384","kid":"computed-test-nras-69f3c80524469df3","alg":"ES384","use":"sig",`+
		`"x":"EsHfRTo0C_lmeEwy8F53UWvp-OLMvj_xhE3EIyBs45sK2qlqefi4PUu9QV9_RgYQ",`+
		`"y":"nfZyZiMzDoVwBxdGlhQPQK7wnOVtW_EJn39CuGEiXyZaV4Al4qwXOqz4wH2CueFA"}]}`, string(a.JWKS()))

	c := attestation.NewIssuerFromSeed([]byte("another seed"))
	require.NotEqual(t, a.Kid, c.Kid)
	require.False(t, a.Key.Equal(c.Key))
}

func TestIssuerJWKSRoundTrip(t *testing.T) {
	iss, err := attestation.NewIssuer()
	require.NoError(t, err)
	keys, err := verify.ParseJWKS(iss.JWKS())
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.True(t, keys[iss.Kid].Equal(&iss.Key.PublicKey))

	nonce := make([]byte, verify.NonceSize)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev, err := iss.ValidEAT(nonce, now, 3)
	require.NoError(t, err)
	res, err := verify.VerifyNRAS(ev, 1<<16, verify.NRASOptions{
		Keys: keys, Issuer: verify.NRASIssuer, Nonce: nonce, Now: now, Policy: verify.DefaultGPUPolicy(),
	})
	require.NoError(t, err)
	require.Len(t, res.GPUs, 3)
}

func TestSNPSignerRoots(t *testing.T) {
	s, err := attestation.NewSNPSigner(attestation.SNPSignerOptions{Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, "Milan", s.ProductLine())
	roots, err := s.Roots()
	require.NoError(t, err)
	require.NoError(t, roots.Validate())
	require.Len(t, roots["Milan"], 2) // VCEK (ASK) and VLEK (ASVK) bundles

	_, err = attestation.NewSNPSigner(attestation.SNPSignerOptions{})
	require.Error(t, err, "a chain without a creation time has no defined validity")
}
