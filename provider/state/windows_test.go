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
	appendWith := func(lease uint64, windows ...WindowData) {
		t.Helper()
		if _, err := s.AppendReceiptWithSamples(lease, func(seq uint64) (slatypes.ReceiptLeaf, error) {
			return testLeaf(lease, seq), nil
		}, Measured{Windows: windows}); err != nil {
			t.Fatal(err)
		}
	}
	pending := func(lease uint64) []WindowData {
		t.Helper()
		got, _, err := s.PendingWindows(lease)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	appendWith(7, WindowData{Window: 1, Encoded: []byte("a1")}, WindowData{Window: 2, Encoded: []byte("b1")})
	appendWith(7, WindowData{Window: 2, Encoded: []byte("b2")}, WindowData{Window: 3})
	appendWith(8, WindowData{Window: 1, Encoded: []byte("other")})
	want := []WindowData{{Window: 1, Encoded: []byte("a1")}, {Window: 2, Encoded: []byte("b1b2")}}
	if got := pending(7); !reflect.DeepEqual(got, want) {
		t.Fatalf("pending = %q, want %q", got, want)
	}

	// A failed receipt keeps no samples: both are in one transaction.
	if _, err := s.AppendReceiptWithSamples(7, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		l := testLeaf(7, seq)
		l.Sequence = 99 // refused: not the sequence the store assigned
		return l, nil
	}, Measured{Windows: []WindowData{{Window: 2, Encoded: []byte("lost"), Probes: 1}}, LastProbeUnixMs: 123, Journaled: 5}); err == nil {
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
	if got, want := pending(7), []WindowData{{Window: 2, Encoded: []byte("b1b2")}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after window 1 reported: pending = %q, want %q", got, want)
	}
	for range 2 { // dropping twice is fine
		if err := s.DropWindows(7); err != nil {
			t.Fatal(err)
		}
	}
	if got := pending(7); len(got) != 0 {
		t.Fatalf("after the lease ended: pending = %q", got)
	}
	if got := pending(8); !reflect.DeepEqual(got, []WindowData{{Window: 1, Encoded: []byte("other")}}) {
		t.Fatalf("lease 8 = %q, untouched by lease 7", got)
	}
	if got := pending(9); len(got) != 0 {
		t.Fatalf("a lease without samples: %q", got)
	}
}

// TestWindowProbesKept: probe counts add up per window, with or without a receipt, the last
// probe's time is the latest given, and a reported window's counts go with its samples.
func TestWindowProbesKept(t *testing.T) {
	s, _ := openTemp(t)
	if _, err := s.AppendReceiptWithSamples(7, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		return testLeaf(7, seq), nil
	}, Measured{Windows: []WindowData{{Window: 1, Encoded: []byte("r1"), Probes: 2, ProbesOK: 2}}, LastProbeUnixMs: 1000}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		windows []WindowData
		last    int64
	}{
		{[]WindowData{{Window: 1, Probes: 1}, {Window: 2, Probes: 3, ProbesOK: 3}}, 2000},
		{nil, 0}, // nothing new: the last probe's time stays
		// An older time (downtime charged after probes ran again) does not move it back.
		{nil, 1500},
	} {
		if err := s.KeepWindows(7, Measured{Windows: step.windows, LastProbeUnixMs: step.last}); err != nil {
			t.Fatal(err)
		}
	}
	got, last, err := s.PendingWindows(7)
	want := []WindowData{{Window: 1, Encoded: []byte("r1"), Probes: 3, ProbesOK: 2}, {Window: 2, Probes: 3, ProbesOK: 3}}
	if err != nil || last != 2000 || !reflect.DeepEqual(got, want) {
		t.Fatalf("PendingWindows = %q, last %d, %v; want %q, 2000", got, last, err, want)
	}
	if err := s.MarkWindowReported(7, 1); err != nil {
		t.Fatal(err)
	}
	got, last, _ = s.PendingWindows(7)
	if want := []WindowData{{Window: 2, Probes: 3, ProbesOK: 3}}; last != 2000 || !reflect.DeepEqual(got, want) {
		t.Fatalf("after window 1 reported: %q, last %d; want %q, 2000", got, last, want)
	}
	if err := s.KeepWindows(7, Measured{Windows: []WindowData{{Window: 0, Probes: 1}}}); err == nil {
		t.Fatal("window 0 accepted")
	}
}

// TestJournalMark: the journal segment a lease's measurements came from is kept in their
// transaction (a refused receipt keeps the mark before it), only ever set, never cleared by a
// call without one, and goes with the lease.
func TestJournalMark(t *testing.T) {
	s, _ := openTemp(t)
	mark := func(lease uint64) uint64 {
		t.Helper()
		seg, err := s.Journaled(lease)
		if err != nil {
			t.Fatal(err)
		}
		return seg
	}
	if got := mark(7); got != 0 {
		t.Fatalf("mark of a new lease = %d", got)
	}
	if _, err := s.AppendReceiptWithSamples(7, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		return testLeaf(7, seq), nil
	}, Measured{Journaled: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendReceiptWithSamples(7, func(seq uint64) (slatypes.ReceiptLeaf, error) {
		l := testLeaf(7, seq)
		l.Sequence = 99
		return l, nil
	}, Measured{Journaled: 4}); err == nil {
		t.Fatal("a receipt with the wrong sequence was stored")
	}
	if got := mark(7); got != 3 {
		t.Fatalf("mark after a refused receipt = %d, want 3", got)
	}
	if err := s.KeepWindows(7, Measured{LastProbeUnixMs: 9}); err != nil {
		t.Fatal(err)
	}
	if got := mark(7); got != 3 {
		t.Fatalf("mark after a call without one = %d, want 3", got)
	}
	if err := s.KeepWindows(7, Measured{Journaled: 5}); err != nil {
		t.Fatal(err)
	}
	if got, other := mark(7), mark(8); got != 5 || other != 0 {
		t.Fatalf("marks = %d, %d; want 5, 0", got, other)
	}
	if err := s.DropWindows(7); err != nil {
		t.Fatal(err)
	}
	if got := mark(7); got != 0 {
		t.Fatalf("mark after the lease ended = %d", got)
	}
}

// Reports land in any order: marking a window reported raises the lease record's last reported
// window, never lowers it, and leaves the rest of the record alone.
func TestMarkWindowReportedRaisesTheRecord(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.PutLease(LeaseRecord{LeaseID: 7, Endpoint: "http://x", WindowBlocks: 5, LastReportedWindow: 1}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []uint64{3, 2} {
		if err := s.MarkWindowReported(7, w); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.GetLease(7)
	if err != nil || r.LastReportedWindow != 3 || r.Endpoint != "http://x" || r.WindowBlocks != 5 {
		t.Fatalf("record after windows 3 then 2 were reported: %+v, %v; want last reported 3, the rest as put", r, err)
	}
	for _, w := range []uint64{1, 2, 3} {
		if done, err := s.WindowReported(7, w); err != nil || done != (w != 1) {
			t.Fatalf("window %d reported: %v, %v", w, done, err)
		}
	}
	// A lease without a record (replicated jobs keep none for windows) is fine.
	if err := s.MarkWindowReported(8, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLease(8); err == nil {
		t.Fatal("marking a window created a lease record")
	}
}
