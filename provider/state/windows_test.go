package state

import (
	"reflect"
	"testing"

	slatypes "github.com/computed-network/computed/x/sla/types"
)

// TestWindowSamplesKeptWithReceipts: a receipt's requests are kept per window in its
// transaction, in order, across a reopen, until the window is reported or the lease ends.
func TestWindowSamplesKeptWithReceipts(t *testing.T) {
	s, path := openTemp(t)
	appendWith := func(lease uint64, windows ...WindowSamples) {
		t.Helper()
		if _, err := s.AppendReceiptWithSamples(lease, func(seq uint64) (slatypes.ReceiptLeaf, error) {
			return testLeaf(lease, seq), nil
		}, windows); err != nil {
			t.Fatal(err)
		}
	}
	pending := func(lease uint64) []WindowSamples {
		t.Helper()
		got, err := s.PendingWindowSamples(lease)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	appendWith(7, WindowSamples{1, []byte("a1")}, WindowSamples{2, []byte("b1")})
	appendWith(7, WindowSamples{2, []byte("b2")}, WindowSamples{3, nil})
	appendWith(8, WindowSamples{1, []byte("other")})
	want := []WindowSamples{{1, []byte("a1")}, {2, []byte("b1b2")}}
	if got := pending(7); !reflect.DeepEqual(got, want) {
		t.Fatalf("pending = %q, want %q", got, want)
	}

	// A failed receipt keeps no samples: both are in one transaction.
	if _, err := s.AppendReceiptWithSamples(7, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		l := testLeaf(7, seq)
		l.Sequence = 99 // refused: not the sequence the store assigned
		return l, nil
	}, []WindowSamples{{2, []byte("lost")}}); err == nil {
		t.Fatal("a receipt with the wrong sequence was stored")
	}
	if got := pending(7); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a refused receipt: pending = %q, want %q", got, want)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var err error
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if got := pending(7); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen: pending = %q, want %q", got, want)
	}

	if err := s.MarkWindowReported(7, 1); err != nil {
		t.Fatal(err)
	}
	if got, want := pending(7), []WindowSamples{{2, []byte("b1b2")}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after window 1 reported: pending = %q, want %q", got, want)
	}
	for range 2 { // dropping twice is fine
		if err := s.DropWindowSamples(7); err != nil {
			t.Fatal(err)
		}
	}
	if got := pending(7); len(got) != 0 {
		t.Fatalf("after the lease ended: pending = %q", got)
	}
	if got := pending(8); !reflect.DeepEqual(got, []WindowSamples{{1, []byte("other")}}) {
		t.Fatalf("lease 8 = %q, untouched by lease 7", got)
	}
	if got := pending(9); len(got) != 0 {
		t.Fatalf("a lease without samples: %q", got)
	}
}
