//go:build !unix

package wasm

import "github.com/tetratelabs/wazero/experimental"

var memoryAllocator experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory { return &heapMemory{} })
