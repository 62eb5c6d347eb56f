//go:build !linux

package wasm

import "testing"

// residentPages cannot ask the kernel here: it reports none resident.
func residentPages(*testing.T, []byte) int { return 0 }
