package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/experimental"
)

// withMemory makes the instances started with ctx take their linear memory from
// memoryAllocator: mmapAllocator where the OS has mmap, wazero's own (on the heap) elsewhere.
func withMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, memoryAllocator)
}
