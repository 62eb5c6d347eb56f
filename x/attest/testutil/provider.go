// Package attesttest gives other modules' tests an attested provider in one call, signed by the
// development NRAS issuer that DefaultParams trusts. Test code only: it imports
// testutil/attestation, which production code must not.
package attesttest

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/keeper"
	"github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// DevIssuer is the fake NRAS issuer whose key DefaultParams trusts.
func DevIssuer() *attestation.Issuer {
	return attestation.NewIssuerFromSeed([]byte(types.DevNRASIssuerSeed))
}

// Claims are n GPUs of types.DefaultSKU with distinct UUIDs, as HealthyGPU tokens describe them.
func Claims(n int) []types.ClaimedGPU {
	out := make([]types.ClaimedGPU, n)
	for i := range out {
		out[i] = types.ClaimedGPU{Sku: types.DefaultSKU, VramGib: 80, Uuid: fmt.Sprintf("GPU-%08d-0000-0000-0000-000000000000", i)}
	}
	return out
}

// AttestProvider registers provider in metro unless it already is, then requests a challenge and
// submits a development-issuer NRAS token for n healthy GPUs of types.DefaultSKU, all at ctx (run
// it inside a transaction-like cache context if a failure must leave no trace). The chain's
// params must still trust the development issuer, as DefaultParams does.
func AttestProvider(ctx sdk.Context, k keeper.Keeper, provider sdk.AccAddress, metro string, n int) error {
	srv := keeper.NewMsgServerImpl(k)
	if has, err := k.Providers.Has(ctx, provider); err != nil {
		return err
	} else if !has {
		if _, err := srv.RegisterProvider(ctx, &types.MsgRegisterProvider{
			Operator: provider.String(), Metro: metro, Endpoint: "https://provider.example",
		}); err != nil {
			return err
		}
	}
	c, err := srv.RequestChallenge(ctx, &types.MsgRequestChallenge{Provider: provider.String()})
	if err != nil {
		return err
	}
	evidence, err := DevIssuer().ValidEAT(c.Nonce, ctx.BlockTime(), n)
	if err != nil {
		return err
	}
	_, err = srv.SubmitAttestation(ctx, &types.MsgSubmitAttestation{
		Provider: provider.String(), ChallengeId: c.ChallengeId, EvidenceType: markettypes.EVIDENCE_TYPE_NVIDIA_NRAS,
		Evidence: evidence, Gpus: Claims(n),
	})
	return err
}
