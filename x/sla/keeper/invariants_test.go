package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/x/sla/keeper"
	"github.com/computed-network/computed/x/sla/types"
)

// TestInvariantsCatchBreakage: the invariants the other tests rely on do fail on broken state.
func TestInvariantsCatchBreakage(t *testing.T) {
	e := setup(t)
	p := e.providers[0]
	e.bond(p, cmptCoin(1_000))
	m := slaOrder(e.buyer)
	m.Requirements.MinProviderBond = cmptCoin(300)
	e.lease(p, m)
	e.checkAll()
	k := e.App.SLAKeeper

	for name, tc := range map[string]struct {
		corrupt func(b *types.Bond)
		inv     sdk.Invariant
	}{
		"bond without coins":       {func(b *types.Bond) { b.Bonded = b.Bonded.Add(cmptCoin(1)) }, keeper.ModuleBalanceInvariant(k)},
		"coins without bond":       {func(b *types.Bond) { b.Bonded = b.Bonded.Sub(cmptCoin(1)) }, keeper.ModuleBalanceInvariant(k)},
		"lock without lease":       {func(b *types.Bond) { b.Locked = b.Locked.Add(cmptCoin(1)) }, keeper.BondLocksInvariant(k)},
		"lease lock not in a bond": {func(b *types.Bond) { b.Locked = nil }, keeper.BondLocksInvariant(k)},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, _ := e.Ctx().CacheContext() // never written back
			b, err := k.Bonds.Get(ctx, p)
			require.NoError(t, err)
			tc.corrupt(&b)
			require.NoError(t, k.Bonds.Set(ctx, p, b))
			_, broken := tc.inv(ctx)
			require.True(t, broken)
			_, broken = keeper.AllInvariants(k)(ctx)
			require.True(t, broken)
		})
	}
	e.checkAll()
}
