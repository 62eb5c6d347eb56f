package app_test

import (
	"context"
	"testing"

	errorsmod "cosmossdk.io/errors"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	paramsproposal "github.com/cosmos/cosmos-sdk/x/params/types/proposal"

	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	"github.com/computed-network/computed/app"
	attestkeeper "github.com/computed-network/computed/x/attest/keeper"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowkeeper "github.com/computed-network/computed/x/escrow/keeper"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	marketkeeper "github.com/computed-network/computed/x/market/keeper"
	markettypes "github.com/computed-network/computed/x/market/types"
	slakeeper "github.com/computed-network/computed/x/sla/keeper"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

type paramsCase[P any] struct {
	update     func(ctx context.Context, authority string, p P) error
	get        func(ctx context.Context) (P, error)
	good, bad  P
	errInvalid *errorsmod.Error
	event      string
}

// checkUpdateParams: a stranger is refused, bad params from gov are refused, good params from gov
// apply and emit the typed event; refusals leave state untouched.
func checkUpdateParams[P any](t *testing.T, chain *ibctesting.TestChain, c paramsCase[P]) {
	t.Helper()
	gov := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	stranger := chain.SenderAccount.GetAddress().String()
	ctx := chain.GetContext()
	before, err := c.get(ctx)
	require.NoError(t, err)

	err = c.update(ctx, stranger, c.good)
	require.ErrorIs(t, err, govtypes.ErrInvalidSigner)
	require.Contains(t, err.Error(), "expected "+gov)
	after, _ := c.get(ctx)
	require.Equal(t, before, after, "refused update leaves params unchanged")

	err = c.update(ctx, gov, c.bad)
	require.ErrorIs(t, err, c.errInvalid)
	after, _ = c.get(ctx)
	require.Equal(t, before, after, "invalid params leave params unchanged")

	ctx = ctx.WithEventManager(sdk.NewEventManager())
	require.NoError(t, c.update(ctx, gov, c.good))
	after, _ = c.get(ctx)
	require.Equal(t, c.good, after)
	var types []string
	for _, ev := range ctx.EventManager().Events() {
		types = append(types, ev.Type)
	}
	require.Contains(t, types, c.event)
}

func TestUpdateParamsAuthority(t *testing.T) {
	coord := newCoordinator(t, 1)
	chain := coord.GetChain(ibctesting.GetChainID(1))
	a := appOf(chain)

	t.Run("market", func(t *testing.T) {
		srv := marketkeeper.NewMsgServerImpl(a.MarketKeeper)
		good, bad := markettypes.DefaultParams(), markettypes.DefaultParams()
		good.MaxBidsPerOrder = 64
		bad.MaxBiddingWindowBlocks = 1 // below the minimum window
		checkUpdateParams(t, chain, paramsCase[markettypes.Params]{
			update: func(ctx context.Context, auth string, p markettypes.Params) error {
				_, err := srv.UpdateParams(ctx, &markettypes.MsgUpdateParams{Authority: auth, Params: p})
				return err
			},
			get:  a.MarketKeeper.Params.Get,
			good: good, bad: bad, errInvalid: markettypes.ErrInvalidParams,
			event: "computed.market.v1.EventParamsUpdated",
		})
	})
	t.Run("escrow", func(t *testing.T) {
		srv := escrowkeeper.NewMsgServerImpl(a.EscrowKeeper)
		good, bad := escrowtypes.DefaultParams(), escrowtypes.DefaultParams()
		good.AllowedDenoms = append(good.AllowedDenoms, "ibc/498A0751C798A0D9A389AA3691123DADA57DAA4FE165D5C75894505B876BA6E4")
		bad.TakeRateBps = escrowtypes.MaxTakeRateBps + 1
		checkUpdateParams(t, chain, paramsCase[escrowtypes.Params]{
			update: func(ctx context.Context, auth string, p escrowtypes.Params) error {
				_, err := srv.UpdateParams(ctx, &escrowtypes.MsgUpdateParams{Authority: auth, Params: p})
				return err
			},
			get:  a.EscrowKeeper.Params.Get,
			good: good, bad: bad, errInvalid: escrowtypes.ErrInvalidParams,
			event: "computed.escrow.v1.EventParamsUpdated",
		})
	})
	t.Run("attest", func(t *testing.T) {
		srv := attestkeeper.NewMsgServerImpl(a.AttestKeeper)
		good, bad := attesttypes.DefaultParams(), attesttypes.DefaultParams()
		good.RecordValiditySeconds = 3600
		bad.MaxEvidenceBytes = attesttypes.MaxEvidenceBytesLimit + 1
		checkUpdateParams(t, chain, paramsCase[attesttypes.Params]{
			update: func(ctx context.Context, auth string, p attesttypes.Params) error {
				_, err := srv.UpdateParams(ctx, &attesttypes.MsgUpdateParams{Authority: auth, Params: p})
				return err
			},
			get:  a.AttestKeeper.Params.Get,
			good: good, bad: bad, errInvalid: attesttypes.ErrInvalidParams,
			event: "computed.attest.v1.EventParamsUpdated",
		})
	})
	t.Run("sla", func(t *testing.T) {
		srv := slakeeper.NewMsgServerImpl(a.SLAKeeper)
		good, bad := slatypes.DefaultParams(), slatypes.DefaultParams()
		good.UnbondingBlocks = 200_000
		bad.BondDenoms = []string{app.BondDenom, app.BondDenom}
		checkUpdateParams(t, chain, paramsCase[slatypes.Params]{
			update: func(ctx context.Context, auth string, p slatypes.Params) error {
				_, err := srv.UpdateParams(ctx, &slatypes.MsgUpdateParams{Authority: auth, Params: p})
				return err
			},
			get:  a.SLAKeeper.Params.Get,
			good: good, bad: bad, errInvalid: slatypes.ErrInvalidParams,
			event: "computed.sla.v1.EventParamsUpdated",
		})
	})
}

// The legacy proposal routes the CLI offers are served: text proposals and x/params changes
// (submit-legacy-proposal param-change failed with "no handler exists" when app wiring replaced
// depinject's router with one holding only gov's).
func TestLegacyProposalRoutes(t *testing.T) {
	coord := newCoordinator(t, 1)
	a := appOf(coord.GetChain(ibctesting.GetChainID(1)))
	r := a.GovKeeper.LegacyRouter()
	require.True(t, r.HasRoute(govtypes.RouterKey), "text proposals")
	require.True(t, r.HasRoute(paramsproposal.RouterKey), "param-change proposals")
}
