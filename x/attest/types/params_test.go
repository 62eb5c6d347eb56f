package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/x/attest/types"
)

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.NoError(t, types.DefaultGenesis().Validate())

	cases := map[string]func(p *types.Params){
		"zero challenge ttl":      func(p *types.Params) { p.ChallengeTtlBlocks = 0 },
		"zero evidence size":      func(p *types.Params) { p.MaxEvidenceBytes = 0 },
		"evidence size above cap": func(p *types.Params) { p.MaxEvidenceBytes = types.MaxEvidenceBytesLimit + 1 },
		"zero evidence age":       func(p *types.Params) { p.MaxEvidenceAgeSeconds = 0 },
		"zero record validity":    func(p *types.Params) { p.RecordValiditySeconds = 0 },
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
