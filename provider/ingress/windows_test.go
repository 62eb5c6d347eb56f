package ingress

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestWindowsSplitByWindowOf(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()
	var current atomic.Uint64
	var c collector
	p, srv := startProxy(t, Config{Backend: backend.URL, WindowOf: func(time.Time) uint64 { return current.Load() }, OnRequest: c.onRequest})

	send := func(window uint64, n int) {
		current.Store(window)
		for range n {
			get(t, srv.URL+"/", nil)
		}
	}
	send(1, 3)
	send(2, 2)
	send(1, 1) // a straggler for the previous window still lands there

	if got := p.Windows(); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("Windows() = %v, want [1 2]", got)
	}
	if st := mustSnapshot(t, p, 2); st.Requests != 2 || st.Window != 2 {
		t.Fatalf("window 2: %+v, want 2 requests", st)
	}

	st, err := p.Close(1)
	if err != nil || st.Requests != 4 || !bytes.Equal(st.SamplesRoot, SamplesRoot(c.of(1))) {
		t.Fatalf("Close(1) = %d requests, %v; want 4 and the root over window 1's four samples", st.Requests, err)
	}
	if got := p.Windows(); !slices.Equal(got, []uint64{2}) {
		t.Fatalf("Windows() after Close(1) = %v, want [2]", got)
	}
	if _, ok := p.Snapshot(1); ok {
		t.Fatal("Snapshot(1) after Close(1) still has data")
	}
	if _, err := p.Close(1); !errors.Is(err, ErrWindowClosed) {
		t.Fatalf("second Close(1) error %v, want ErrWindowClosed", err)
	}
	if _, err := p.Close(99); !errors.Is(err, ErrUnknownWindow) {
		t.Fatalf("Close(99) error %v, want ErrUnknownWindow", err)
	}

	send(1, 1) // too late: window 1 is final
	if p.Dropped() != 1 {
		t.Fatalf("Dropped() = %d, want 1", p.Dropped())
	}
	if got := p.Windows(); !slices.Equal(got, []uint64{2}) {
		t.Fatalf("Windows() after a late request = %v, want [2]", got)
	}
}

func TestFixedWindows(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	of := FixedWindows(start, 10*time.Second)
	for _, c := range []struct {
		t    time.Time
		want uint64
	}{
		{start.Add(-time.Nanosecond), 0},
		{start, 1},
		{start.Add(10*time.Second - time.Nanosecond), 1},
		{start.Add(10 * time.Second), 2},
		{start.Add(95 * time.Second), 10},
	} {
		if got := of(c.t); got != c.want {
			t.Errorf("window of start%+v = %d, want %d", c.t.Sub(start), got, c.want)
		}
	}
}

func TestDefaultWindowOfUsesWindowLengthFromStart(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	p, err := New(Config{Backend: "http://127.0.0.1:1", Start: start, WindowLength: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.cfg.WindowOf(time.Now()); got != 61 {
		t.Fatalf("window an hour after start with 1m windows = %d, want 61", got)
	}
}

func TestCloseForgetsOldTombstones(t *testing.T) {
	p, err := New(Config{Backend: "http://127.0.0.1:1", WindowOf: fixedWindow})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= closedKept+1; i++ {
		p.windows.get(i).record(Sample{Micros: 1, Status: 200})
		if _, err := p.Close(i); err != nil {
			t.Fatal(err)
		}
	}
	if p.windows.get(2).record(Sample{}) {
		t.Fatal("window 2 is among the remembered closed windows; a late sample must be refused")
	}
	if !p.windows.get(1).record(Sample{Micros: 1, Status: 200}) {
		t.Fatal("window 1 should have been forgotten and reopened")
	}
	if got := p.Windows(); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("Windows() = %v, want [1]", got)
	}
}

// TestRestoreComesBeforeNewRequests: samples restored from an earlier run count in their window
// ahead of new requests, in the figures and the root, without passing through OnRequest again
// (they are already in receipts); a closed window refuses them.
func TestRestoreComesBeforeNewRequests(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()
	var seen []Sample
	var windows []uint64
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(w uint64, s Sample) {
		windows = append(windows, w)
		seen = append(seen, s)
	}})
	restored := []Sample{
		{UnixMillis: 1_000, Micros: 40_000, Status: 200},
		{UnixMillis: 1_001, Micros: 90_000, Status: 503},
		{UnixMillis: 1_002, Micros: 50_000, Status: 200},
	}
	if err := p.Restore(1, restored); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 0 {
		t.Fatalf("OnRequest saw restored samples: %v", seen)
	}
	for range 2 {
		get(t, srv.URL+"/", nil)
	}
	st, err := p.Close(1)
	if err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(restored), seen...)
	if st.Requests != 5 || st.Errors != 1 || !slices.Equal(windows, []uint64{1, 1}) {
		t.Fatalf("requests %d errors %d (OnRequest windows %v); want 5, 1, [1 1]", st.Requests, st.Errors, windows)
	}
	if st.P99Micros < 89_000 {
		t.Errorf("P99 %d µs leaves out the restored 90 ms request", st.P99Micros)
	}
	if string(st.SamplesRoot) != string(SamplesRoot(all)) {
		t.Error("the root is not over the restored samples followed by the new ones")
	}
	if err := p.Restore(1, restored); !errors.Is(err, ErrWindowClosed) {
		t.Fatalf("Restore into a closed window = %v, want ErrWindowClosed", err)
	}
}
