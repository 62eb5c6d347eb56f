package exec

import (
	"bytes"
	"math/rand"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	tb := NewTailBuffer(8)
	tb.Write([]byte("abc"))
	if got := string(tb.Tail(0)); got != "abc" {
		t.Fatalf("Tail = %q", got)
	}
	tb.Write([]byte("defghij"))
	if got := string(tb.Tail(0)); got != "cdefghij" {
		t.Fatalf("Tail after wrap = %q", got)
	}
	if got := string(tb.Tail(3)); got != "hij" {
		t.Fatalf("Tail(3) = %q", got)
	}
	tb.Write([]byte("0123456789"))
	if got := string(tb.Tail(100)); got != "23456789" {
		t.Fatalf("Tail after oversized write = %q", got)
	}
}

// Random write sizes against a reference that keeps everything.
func TestTailBufferMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, max := range []int{1, 7, 64} {
		tb := NewTailBuffer(max)
		var ref []byte
		for i := 0; i < 500; i++ {
			p := make([]byte, rng.Intn(2*max+1))
			rng.Read(p)
			if n, err := tb.Write(p); n != len(p) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			ref = append(ref, p...)
			want := ref
			if len(want) > max {
				want = want[len(want)-max:]
			}
			if got := tb.Tail(0); !bytes.Equal(got, want) {
				t.Fatalf("max %d write %d: Tail = %x, want %x", max, i, got, want)
			}
		}
	}
}
