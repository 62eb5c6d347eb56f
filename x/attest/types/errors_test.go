package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/attest/verify"
)

// TestVerifierCodespaceIsModuleName pins verify's repeated codespace constant to the module name
// (verify cannot import types: types imports verify for params).
func TestVerifierCodespaceIsModuleName(t *testing.T) {
	require.Equal(t, types.ModuleName, verify.ErrBadSignature.Codespace())
	require.Equal(t, types.ModuleName, verify.ErrSNPMigrationAgent.Codespace())
	require.Equal(t, types.ModuleName, types.ErrRecordNotFound.Codespace())
}
