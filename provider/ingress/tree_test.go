package ingress

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cometbft/cometbft/crypto/merkle"
)

// The window's streamed root must be CometBFT's root over the same leaves at every size:
// powers of two and their neighbours are where RFC 6962's split changes shape.
func TestSamplesTreeMatchesCometBFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var samples []Sample
	var leaves [][]byte
	tree := newSamplesTree()
	check := func() {
		t.Helper()
		if got, want := tree.root(), merkle.HashFromByteSlices(leaves); !bytes.Equal(got, want) {
			t.Fatalf("%d samples: streamed root %x, CometBFT's %x", len(samples), got, want)
		}
	}
	check() // empty: SHA-256 of nothing
	for n := 1; n <= 1100; n++ {
		s := Sample{UnixMillis: rng.Int64N(1 << 42), Micros: rng.Uint64N(1 << 30), Status: uint16(200 + rng.IntN(400))}
		samples, leaves = append(samples, s), append(leaves, EncodeSample(s))
		tree.add(s)
		check() // reading the root mid-way must not disturb what comes after
	}
	if !bytes.Equal(tree.root(), SamplesRoot(samples)) {
		t.Fatal("streamed root differs from SamplesRoot")
	}
}

// A window's memory must not grow with its requests: it used to keep every sample (24 bytes
// each, more with slice growth) until its report.
func TestWindowMemoryIndependentOfRequests(t *testing.T) {
	const n = 200_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := newWindow(1)
	for i := range n {
		w.record(Sample{UnixMillis: int64(i), Micros: uint64(i % 5000), Status: 200})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st, _ := w.stats(false)
	runtime.KeepAlive(w)
	if st.Requests != n {
		t.Fatalf("requests = %d, want %d", st.Requests, n)
	}
	// The HDR histogram (≈200 KB at 1µs..60s, 3 figures) is most of what a window holds.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Fatalf("a window of %d requests holds %d bytes; want under 1 MiB", n, grew)
	}
}

// BenchmarkWindowRecord is the request path's cost of recording one sample (the histogram and
// the streamed root's leaf hash and merges).
func BenchmarkWindowRecord(b *testing.B) {
	w := newWindow(1)
	b.ReportAllocs()
	for i := range b.N {
		w.record(Sample{UnixMillis: int64(i), Micros: uint64(i % 5000), Status: 200})
	}
}
