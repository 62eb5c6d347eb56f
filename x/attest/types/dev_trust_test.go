package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/types"
)

// TestDevTrustRootMatchesSeededIssuer pins the hard-coded development key to what the seeded
// fake issuer derives, so dev genesis and local provers can never drift apart.
func TestDevTrustRootMatchesSeededIssuer(t *testing.T) {
	iss := attestation.NewIssuerFromSeed([]byte(types.DevNRASIssuerSeed))
	require.Equal(t, types.DevNRASKid, iss.Kid)
	require.Equal(t, `{"keys":[`+types.DevNRASJWK+`]}`, string(iss.JWKS()))

	keys, err := types.DefaultParams().NRASKeySet()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.True(t, keys[iss.Kid].Equal(&iss.Key.PublicKey))
}
