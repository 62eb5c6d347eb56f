//go:build !unix

package wasm

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is nil: wazero's own linear memory, on the Go heap.
var memoryAllocator experimental.MemoryAllocator
