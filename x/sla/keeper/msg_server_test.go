package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/computed-network/computed/x/sla/types"
)

// TestUpdateParams: only the authority may replace params, and only with valid ones.
func TestUpdateParams(t *testing.T) {
	e := setup(t)
	update := func(authority string, p types.Params) error {
		_, err := e.Exec(func(ctx sdk.Context) error {
			_, err := e.srv.UpdateParams(ctx, &types.MsgUpdateParams{Authority: authority, Params: p})
			return err
		})
		return err
	}
	before := e.params()
	next := before
	next.BreachesToTerminate = 5

	require.ErrorIs(t, update(e.buyer.String(), next), govtypes.ErrInvalidSigner)
	bad := next
	bad.ReputationWeightBps = 0
	require.ErrorIs(t, update(e.App.SLAKeeper.GetAuthority(), bad), types.ErrInvalidParams)
	require.Equal(t, before, e.params(), "refused updates change nothing")

	ev := e.must(func(ctx sdk.Context) error {
		_, err := e.srv.UpdateParams(ctx, &types.MsgUpdateParams{Authority: e.App.SLAKeeper.GetAuthority(), Params: next})
		return err
	})
	require.True(t, hasTxEvent(ev, "computed.sla.v1.EventParamsUpdated"))
	require.Equal(t, next, e.params())
	res, err := e.q.Params(e.Ctx(), &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, next, res.Params)
}
