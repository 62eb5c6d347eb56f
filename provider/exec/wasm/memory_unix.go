//go:build unix

package wasm

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// mmapAllocator backs each instance's linear memory with an anonymous mapping that reserves the
// memory's maximum up front, outside the Go heap. A Go-built module's instance takes several
// MiB (the echo service: 8 MiB allocated per request with wazero's default, growth copies
// included); on the heap, a service's every request fed the sidecar's garbage collector, whose
// cycles then delayed the ingress and other leases' requests. Growth never copies. A freed
// mapping is cleared up to the most the instance used and kept for the next instance, since a
// fresh one costs a page fault per 4 KiB touched (a Go module's start-up touches megabytes).
type mmapAllocator struct{}

var memoryAllocator experimental.MemoryAllocator = mmapAllocator{}

// keptMappings bounds the cleared mappings kept per maximum size: about the instances a task
// runs at once (its request semaphore), across a few tasks.
const keptMappings = 16

// keptResident is the most an instance may have used of a mapping for the mapping to be kept
// resident (cleared) for the next instance; one that used more gives all its pages back.
const keptResident = 32 << 20

var mappings = struct {
	sync.Mutex
	free map[uint64][]*mappedMemory
}{free: map[uint64][]*mappedMemory{}}

func (mmapAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	if max == 0 {
		return &heapMemory{}
	}
	mappings.Lock()
	if free := mappings.free[max]; len(free) > 0 {
		m := free[len(free)-1]
		mappings.free[max] = free[:len(free)-1]
		mappings.Unlock()
		return m
	}
	mappings.Unlock()
	buf, err := unix.Mmap(-1, 0, int(max), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		// Out of address space or mappings: the heap still works.
		return &heapMemory{}
	}
	return &mappedMemory{buf: buf}
}

// mappedMemory is one mapping; used is the most of it any instance has had, which is all that
// can be non-zero.
type mappedMemory struct {
	buf  []byte
	used uint64
}

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil // past the maximum: memory.grow fails, as it must
	}
	m.used = max(m.used, size)
	return m.buf[:size:size]
}

// Free runs once the instance has stopped (wazero defers it until then). The mapping is cleared
// and kept, or unmapped when enough are kept.
func (m *mappedMemory) Free() {
	if m.used > keptResident {
		// Zeroed by handing the pages back: kept resident, a burst of instances that used
		// hundreds of MiB each would hold gigabytes after the leases end.
		if err := unix.Madvise(m.buf[:m.used], unix.MADV_DONTNEED); err != nil {
			clear(m.buf[:m.used])
		}
	} else {
		clear(m.buf[:m.used])
	}
	m.used = 0
	size := uint64(len(m.buf))
	mappings.Lock()
	if len(mappings.free[size]) < keptMappings {
		mappings.free[size] = append(mappings.free[size], m)
		mappings.Unlock()
		return
	}
	mappings.Unlock()
	_ = unix.Munmap(m.buf)
}

// heapMemory is a linear memory on the Go heap, as wazero's own, for when no mapping is had.
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
