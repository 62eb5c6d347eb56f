package app_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	attesttest "github.com/computed-network/computed/x/attest/testutil"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/attest/verify"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// TestAttestationThroughRealTransactions runs registration, challenge and submission as signed
// transactions through the ante handler and DeliverTx, so signer extraction, message routing and
// the verification gas charged under a real gas meter are exercised end to end.
func TestAttestationThroughRealTransactions(t *testing.T) {
	coord := newCoordinator(t, 1)
	chain := coord.GetChain(ibctesting.GetChainID(1))
	a := appOf(chain)
	provider := chain.SenderAccount.GetAddress()

	_, err := chain.SendMsgs(&attesttypes.MsgRegisterProvider{Operator: provider.String(), Metro: "FRA", Endpoint: "https://gpu.example"})
	require.NoError(t, err)
	_, err = chain.SendMsgs(&attesttypes.MsgRequestChallenge{Provider: provider.String()})
	require.NoError(t, err)
	challenge, err := a.AttestKeeper.Challenges.Get(chain.GetContext(), 1)
	require.NoError(t, err)
	require.Equal(t, provider.String(), challenge.Provider)

	// The next block's time is the coordinator's current time; the token is issued then.
	evidence, err := attesttest.DevIssuer().ValidEAT(challenge.Nonce, coord.CurrentTime, 8)
	require.NoError(t, err)
	msg := &attesttypes.MsgSubmitAttestation{
		Provider: provider.String(), ChallengeId: challenge.Id, EvidenceType: markettypes.EVIDENCE_TYPE_NVIDIA_NRAS,
		Evidence: evidence, Gpus: attesttest.Claims(8),
	}
	res, err := chain.SendMsgs(msg)
	require.NoError(t, err)
	require.GreaterOrEqual(t, uint64(res.GasUsed), verify.NRASGas(len(evidence), 8))

	rec, err := a.AttestKeeper.Records.Get(chain.GetContext(), collections.Join([]byte(provider), int32(markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)))
	require.NoError(t, err)
	require.Len(t, rec.Gpus, 8)

	res, err = chain.SendMsgs(msg)
	require.Error(t, err, "the challenge was used")
	require.Equal(t, attesttypes.ModuleName, res.Codespace)
	require.Equal(t, attesttypes.ErrChallengeNotFound.ABCICode(), res.Code)
}
