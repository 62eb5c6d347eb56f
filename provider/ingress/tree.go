package ingress

import (
	"crypto/sha256"

	"github.com/transparency-dev/merkle/compact"
)

// The tree is RFC 6962's, as CometBFT's crypto/merkle builds it (SHA-256, leaf prefix 0x00,
// inner prefix 0x01, split at the largest power of two below the size, SHA-256 of nothing when
// empty), so a compact range over the leaves has HashFromByteSlices' root. The hashes are
// rfc6962.DefaultHasher's, written to hash from the stack: that one allocates a hasher and
// a buffer per call, four allocations a request on the proxy's path.
var treeFactory = compact.RangeFactory{Hash: hashChildren}

func hashChildren(l, r []byte) []byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = 1
	copy(b[1:], l)
	copy(b[1+sha256.Size:], r)
	h := sha256.Sum256(b[:])
	return h[:]
}

func hashLeaf(s Sample) []byte {
	var b [1 + SampleSize]byte // b[0] = 0, the leaf prefix
	appendSample(b[1:1], s)    // in place: b[1:1] has room for exactly one sample
	h := sha256.Sum256(b[:])
	return h[:]
}

// samplesTree is SamplesRoot built one sample at a time. It keeps only the roots of the perfect
// subtrees covering the samples so far (at most 64 hashes), so a window holds a few hundred
// bytes however many requests it saw, instead of every sample until it is reported.
type samplesTree struct {
	r *compact.Range
}

func newSamplesTree() samplesTree { return samplesTree{r: treeFactory.NewEmptyRange(0)} }

func (t *samplesTree) add(s Sample) {
	// Append fails only on a corrupted range (hashes not matching its size); this one only grows by Append.
	_ = t.r.Append(hashLeaf(s), nil)
}

// root is SamplesRoot of the samples added so far; adding more afterwards does not change it.
func (t *samplesTree) root() []byte {
	if t.r.End() == 0 {
		return SamplesRoot(nil) // the empty tree's root, as CometBFT defines it
	}
	// The range starts at 0 and is not empty, the only conditions GetRootHash checks.
	h, _ := t.r.GetRootHash(nil)
	return h
}
