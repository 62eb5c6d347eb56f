// Package cliargs holds the autocli helper every computed module uses for positional arguments.
package cliargs

import autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

// Positional maps command arguments, in order, to the named proto fields.
func Positional(fields ...string) []*autocliv1.PositionalArgDescriptor {
	out := make([]*autocliv1.PositionalArgDescriptor, len(fields))
	for i, f := range fields {
		out[i] = &autocliv1.PositionalArgDescriptor{ProtoField: f}
	}
	return out
}
