package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/x/sla/types"
)

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.NoError(t, types.DefaultGenesis().Validate())

	cases := map[string]func(p *types.Params){
		"no bond denoms":          func(p *types.Params) { p.BondDenoms = nil },
		"invalid bond denom":      func(p *types.Params) { p.BondDenoms = []string{"-"} },
		"duplicate bond denom":    func(p *types.Params) { p.BondDenoms = []string{"ucmpt", "ucmpt"} },
		"zero unbonding":          func(p *types.Params) { p.UnbondingBlocks = 0 },
		"zero breaches":           func(p *types.Params) { p.BreachesToTerminate = 0 },
		"zero dispute window":     func(p *types.Params) { p.DisputeWindowBlocks = 0 },
		"slash above 100 percent": func(p *types.Params) { p.ReplicaSlashBps = 10_001 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := types.DefaultParams()
			mutate(&p)
			require.Error(t, p.Validate())
			require.ErrorIs(t, types.GenesisState{Params: p}.Validate(), types.ErrInvalidGenesis)
		})
	}
}
