package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/testutil/apptest"
	"github.com/computed-network/computed/x/attest/keeper"
	"github.com/computed-network/computed/x/attest/types"
)

// TestGenesisRoundTrip exports providers, a record, an outstanding challenge and the sequences,
// imports them into a fresh chain and requires the same export back, with both queues rebuilt.
func TestGenesisRoundTrip(t *testing.T) {
	e := setup(t)
	p := e.Accounts[0]
	e.attest(p, 8)
	e.register(e.Accounts[1])
	e.challenge(e.Accounts[1])
	e.NextBlock()

	gs, err := e.App.AttestKeeper.ExportGenesis(e.Ctx())
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	require.Len(t, gs.Providers, 2)
	require.Len(t, gs.Records, 1)
	require.Len(t, gs.Challenges, 1)
	require.Len(t, gs.Sequences, 2)
	require.Equal(t, uint64(2), gs.LastChallengeId)

	bz := e.App.AppCodec().MustMarshalJSON(gs)
	var imported types.GenesisState
	e.App.AppCodec().MustUnmarshalJSON(bz, &imported)

	f := apptest.New(t)
	k := f.App.AttestKeeper
	require.NoError(t, k.InitGenesis(f.Ctx(), &imported))
	again, err := k.ExportGenesis(f.Ctx())
	require.NoError(t, err)
	require.Equal(t, gs, again)
	n := 0
	require.NoError(t, k.RecordExpiry.Walk(f.Ctx(), nil, func(tripleKey) (bool, error) { n++; return false, nil }))
	require.NoError(t, k.ChallengeExpiry.Walk(f.Ctx(), nil, func(pairKey) (bool, error) { n++; return false, nil }))
	require.Equal(t, 2, n)
	msg, broken := keeper.AllInvariants(k)(f.Ctx())
	require.False(t, broken, msg)

	bad := *gs
	bad.Records = append(bad.Records, gs.Records[0])
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis)
	bad = *gs
	bad.LastChallengeId = 0
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis)
	bad = *gs
	bad.Providers = nil
	for _, pr := range gs.Providers {
		if pr.Operator != gs.Records[0].Provider {
			bad.Providers = append(bad.Providers, pr)
		}
	}
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis, "record of an unregistered provider")

	// One GPU attested by two providers.
	bad = *gs
	other := gs.Records[0]
	other.Provider = e.Accounts[1].String()
	other.Gpus = []types.AttestedGPU{gs.Records[0].Gpus[0]}
	bad.Records = append(append([]types.AttestationRecord{}, gs.Records...), other)
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis, "a GPU attested twice")
	// A challenge beyond its provider's sequence, or with none.
	bad = *gs
	bad.Sequences = nil
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis, "a challenge with no sequence")
	bad = *gs
	bad.Challenges = append([]types.Challenge{}, gs.Challenges...)
	bad.Challenges[0].Sequence = 99
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis, "a challenge beyond its sequence")
	// One address spelled twice (upper-case bech32 decodes to the same bytes).
	bad = *gs
	twin := gs.Providers[0]
	twin.Operator = strings.ToUpper(twin.Operator)
	bad.Providers = append(append([]types.Provider{}, gs.Providers...), twin)
	require.NoError(t, bad.Validate(), "strings differ")
	f2 := apptest.New(t)
	require.ErrorIs(t, f2.App.AttestKeeper.InitGenesis(f2.Ctx(), &bad), types.ErrInvalidAddress, "only the canonical spelling is taken")
}
