package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/attest/verify"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// TestCertifiedSignerKeys: NRAS signs with a new key every few days, which no governance vote
// could list in time. A submission carries the signing key with its certificate chain, and a
// key a governance CA certifies at block time verifies the tokens.
func TestCertifiedSignerKeys(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	e.register(p)
	ca, err := attestation.NewSigningCA()
	require.NoError(t, err)
	e.setParams(func(params *types.Params) { params.NrasSigningCas = append(params.NrasSigningCas, ca.PEM()) })
	rotated, err := attestation.NewIssuer() // a kid no param lists
	require.NoError(t, err)
	now := e.Ctx().BlockTime()
	signer, err := ca.SignerKeys(rotated, now.Add(-time.Hour), now.Add(48*time.Hour))
	require.NoError(t, err)
	c := e.challenge(p)
	ev, err := rotated.ValidEAT(c.Nonce, now, 2)
	require.NoError(t, err)

	t.Run("without its chain, the kid is unknown", func(t *testing.T) {
		e.requireRefused(nrasMsg(p, c.ChallengeId, ev, claims(2)), verify.ErrUnknownKid)
	})
	t.Run("a leaf expired at block time", func(t *testing.T) {
		old, err := ca.SignerKeys(rotated, now.Add(-72*time.Hour), now.Add(-time.Second))
		require.NoError(t, err)
		msg := nrasMsg(p, c.ChallengeId, ev, claims(2))
		msg.NrasSignerKeys = old
		e.requireRefused(msg, verify.ErrSignerNotCertified)
	})
	t.Run("a CA governance did not list", func(t *testing.T) {
		other, err := attestation.NewSigningCA()
		require.NoError(t, err)
		keys, err := other.SignerKeys(rotated, now.Add(-time.Hour), now.Add(time.Hour))
		require.NoError(t, err)
		msg := nrasMsg(p, c.ChallengeId, ev, claims(2))
		msg.NrasSignerKeys = keys
		e.requireRefused(msg, verify.ErrSignerNotCertified)
	})
	t.Run("signer keys with SEV-SNP evidence", func(t *testing.T) {
		msg := nrasMsg(p, c.ChallengeId, ev, claims(2))
		msg.EvidenceType = markettypes.EVIDENCE_TYPE_AMD_SEV_SNP
		msg.NrasSignerKeys = signer
		e.requireRefused(msg, types.ErrInvalidEvidenceType)
	})
	t.Run("a kid governance lists with another key", func(t *testing.T) {
		e.setParams(func(params *types.Params) {
			params.NrasKeys = append(params.NrasKeys, types.NRASKey{Kid: rotated.Kid, Key: string(e.issuer.PublicKeyPEM())})
		})
		defer e.setParams(func(params *types.Params) { params.NrasKeys = params.NrasKeys[:len(params.NrasKeys)-1] })
		msg := nrasMsg(p, c.ChallengeId, ev, claims(2))
		msg.NrasSignerKeys = signer
		e.requireRefused(msg, verify.ErrSignerNotCertified)
	})

	t.Run("a listed kid works whatever chain comes with it", func(t *testing.T) {
		// The sidecar sends the chain NRAS publishes; a kid governance listed (while a new
		// intermediate is not yet trusted) must not fail for it.
		other, err := attestation.NewSigningCA()
		require.NoError(t, err)
		keys, err := other.SignerKeys(e.issuer, now.Add(-time.Hour), now.Add(time.Hour))
		require.NoError(t, err)
		q := e.Accounts[1]
		e.register(q)
		qc := e.challenge(q)
		msg := nrasMsg(q, qc.ChallengeId, e.eat(qc.Nonce, 1), []types.ClaimedGPU{{Sku: sku, VramGib: 80, Uuid: "GPU-00000009-0000-0000-0000-000000000000"}})
		msg.NrasSignerKeys = keys
		_, err = e.submit(msg)
		require.NoError(t, err)
	})

	msg := nrasMsg(p, c.ChallengeId, ev, claims(2))
	msg.NrasSignerKeys = signer
	_, err = e.submit(msg)
	require.NoError(t, err)
	res, err := e.q.Attestation(e.Ctx(), &types.QueryAttestationRequest{Provider: p.String()})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	require.Len(t, res.Records[0].Gpus, 2)
	e.checkInvariants()
}
