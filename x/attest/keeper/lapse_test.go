package keeper_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/keepertest"
	"github.com/computed-network/computed/x/attest/keeper"
	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/internal/heightqueue"
	markettypes "github.com/computed-network/computed/x/market/types"
)

type failingHooks struct{}

func (failingHooks) AfterAttestationLapsed(context.Context, sdk.AccAddress) error {
	return errors.New("hook refused")
}

// panickingHooks panic as an sdkmath overflow would: FinalizeBlock recovers nothing, so one
// escaping the lapse would stop every validator at this height.
type panickingHooks struct{}

func (panickingHooks) AfterAttestationLapsed(context.Context, sdk.AccAddress) error {
	panic("Int overflow")
}

// TestLapseSurvivesFailingHook: an expired record goes whole even when a hook fails or panics
// (its writes dropped): its GPUs are freed for other providers, its event is emitted with a
// failure event, and a newer record of another evidence type stays.
func TestLapseSurvivesFailingHook(t *testing.T) {
	t.Run("error", func(t *testing.T) { lapseWithHooks(t, failingHooks{}) })
	t.Run("panic", func(t *testing.T) { lapseWithHooks(t, panickingHooks{}) })
}

func lapseWithHooks(t *testing.T, hooks types.AttestHooks) {
	env := keepertest.New(t, types.StoreKey)
	k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority)
	k.SetHooks(hooks)
	p := sdk.AccAddress(make([]byte, 20))
	put := func(typ markettypes.EvidenceType, until int64, ueid string) {
		r := types.AttestationRecord{Provider: p.String(), EvidenceType: typ, ValidUntil: until,
			Gpus: []types.AttestedGPU{{Sku: types.DefaultSKU, VramGib: 80, Ueid: ueid}}}
		require.NoError(t, k.Records.Set(env.Ctx, collections.Join([]byte(p), int32(typ)), r))
		require.NoError(t, k.RecordExpiry.Set(env.Ctx, collections.Join3(until, []byte(p), int32(typ))))
		require.NoError(t, k.GPUOwners.Set(env.Ctx, ueid, p))
	}
	require.NoError(t, k.Providers.Set(env.Ctx, p, types.Provider{Operator: p.String(), Metro: "FRA"}))
	put(markettypes.EVIDENCE_TYPE_NVIDIA_NRAS, 1000, "111")
	put(markettypes.EVIDENCE_TYPE_AMD_SEV_SNP, 5000, "222")
	ctx := env.Ctx.WithBlockTime(time.Unix(1000, 0)).WithEventManager(sdk.NewEventManager())
	require.NoError(t, k.EndBlocker(ctx))

	_, err := k.Records.Get(ctx, collections.Join([]byte(p), int32(markettypes.EVIDENCE_TYPE_NVIDIA_NRAS)))
	require.ErrorIs(t, err, collections.ErrNotFound)
	has, err := k.GPUOwners.Has(ctx, "111")
	require.NoError(t, err)
	require.False(t, has, "the lapsed record's GPU is free for another provider")
	has, err = k.GPUOwners.Has(ctx, "222")
	require.NoError(t, err)
	require.True(t, has, "the record still valid keeps its GPU")
	_, err = k.Records.Get(ctx, collections.Join([]byte(p), int32(markettypes.EVIDENCE_TYPE_AMD_SEV_SNP)))
	require.NoError(t, err)
	var seen []string
	for _, ev := range ctx.EventManager().Events() {
		seen = append(seen, ev.Type)
	}
	require.Contains(t, seen, "computed.attest.v1.EventAttestationLapsed")
	require.Contains(t, seen, heightqueue.EventTypeItemFailed)
	msg, broken := keeper.AllInvariants(k)(ctx)
	require.False(t, broken, msg)
}
