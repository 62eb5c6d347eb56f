package keeper_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/attest/verify"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// TestSEVSNPAttestation trusts go-sev-guest's test AMD chain through params, accepts a report
// whose REPORT_DATA is nonce || digest of the claimed GPUs, and then satisfies an order that
// requires both evidence types.
func TestSEVSNPAttestation(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	signer, err := attestation.NewSNPSigner(attestation.SNPSignerOptions{Created: e.Ctx().BlockTime().Add(-24 * time.Hour)})
	require.NoError(t, err)
	e.setParams(func(params *types.Params) {
		params.AmdRoots = []types.AMDRootBundle{
			{ProductLine: signer.ProductLine(), Pem: string(signer.ASKBundlePEM())},
			{ProductLine: signer.ProductLine(), Pem: string(signer.ASVKBundlePEM())},
		}
	})
	e.attest(p, 8)
	var pinned, other [48]byte // guest measurements
	pinned[0], other[0] = 0xaa, 0xbb

	snpEvidence := func(nonce []byte, gpus []types.ClaimedGPU) []byte {
		var rd [64]byte
		copy(rd[:32], nonce)
		d := types.GPUClaimsDigest(gpus)
		copy(rd[32:], d[:])
		ev, err := signer.Evidence(attestation.SNPReport{ReportData: rd, Measurement: pinned})
		require.NoError(t, err)
		return ev
	}
	msg := func(id uint64, ev []byte, gpus []types.ClaimedGPU) *types.MsgSubmitAttestation {
		return &types.MsgSubmitAttestation{Provider: p.String(), ChallengeId: id, EvidenceType: markettypes.EVIDENCE_TYPE_AMD_SEV_SNP, Evidence: ev, Gpus: gpus}
	}

	// A guest image governance pinned; others are refused, and with no pin at all, every SEV-SNP
	// guest is: REPORT_DATA, which names the GPUs, is whatever the guest writes.
	c := e.challenge(p)
	_, err = e.submit(msg(c.ChallengeId, snpEvidence(c.Nonce, claims(8)), claims(8)))
	require.ErrorIs(t, err, types.ErrSNPUnpinned)
	e.setParams(func(params *types.Params) {
		params.SnpPolicy.AllowedMeasurements = []string{hex.EncodeToString(pinned[:])}
	})
	var rd [64]byte
	copy(rd[:32], c.Nonce)
	d := types.GPUClaimsDigest(claims(8))
	copy(rd[32:], d[:])
	unpinned, err := signer.Evidence(attestation.SNPReport{ReportData: rd, Measurement: other})
	require.NoError(t, err)
	_, err = e.submit(msg(c.ChallengeId, unpinned, claims(8)))
	require.ErrorIs(t, err, verify.ErrSNPMeasurementNotAllowed)

	// The guest vouched for other GPUs than those claimed.
	_, err = e.submit(msg(c.ChallengeId, snpEvidence(c.Nonce, claims(4)), claims(8)))
	require.ErrorIs(t, err, types.ErrGPUClaimMismatch)
	// Debug-enabled guests are refused by the default policy.
	rd = [64]byte{}
	copy(rd[:], c.Nonce)
	debug, err := signer.Evidence(attestation.SNPReport{ReportData: rd, Policy: attestation.DebugSNPPolicy, Measurement: pinned})
	require.NoError(t, err)
	_, err = e.submit(msg(c.ChallengeId, debug, claims(8)))
	require.ErrorIs(t, err, verify.ErrSNPDebugAllowed)

	_, err = e.submit(msg(c.ChallengeId, snpEvidence(c.Nonce, claims(8)), claims(8)))
	require.NoError(t, err)
	res, err := e.q.Attestation(e.Ctx(), &types.QueryAttestationRequest{Provider: p.String()})
	require.NoError(t, err)
	require.Len(t, res.Records, 2, "one record per evidence type")
	require.Equal(t, markettypes.EVIDENCE_TYPE_AMD_SEV_SNP, res.Records[1].EvidenceType)
	require.Len(t, res.Records[1].SnpMeasurement, verify.SNPMeasurementSize)

	both := e.order(e.Accounts[3], markettypes.EVIDENCE_TYPE_NVIDIA_NRAS, markettypes.EVIDENCE_TYPE_AMD_SEV_SNP)
	require.NoError(t, e.bid(p, both))
}
