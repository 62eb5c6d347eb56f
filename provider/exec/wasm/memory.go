package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/experimental"
)

// withMemory makes the instances started with ctx take their linear memory from allocator
// (mmapAllocator where the OS has mmap).
func withMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, memoryAllocator)
}

// heapMemory is a linear memory on the Go heap, as wazero's own: the fallback.
type heapMemory struct{ buf []byte }

func (m *heapMemory) Reallocate(size uint64) []byte {
	if uint64(cap(m.buf)) < size {
		grown := make([]byte, size, max(size, 2*uint64(cap(m.buf))))
		copy(grown, m.buf)
		m.buf = grown
	}
	m.buf = m.buf[:size]
	return m.buf
}

func (m *heapMemory) Free() { m.buf = nil }
