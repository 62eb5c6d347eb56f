package journal

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/computed-network/computed/provider/ingress"
)

func req(window uint64, ms int64) Entry {
	return Entry{Window: window, Sample: ingress.Sample{UnixMillis: ms, Micros: uint64(ms % 977), Status: 200 + uint16(ms%5)*100}}
}

func probe(window uint64, ok bool, ms int64) Entry {
	return Entry{Window: window, Probe: true, OK: ok, AtUnixMs: ms}
}

func put(t *testing.T, j *Journal, es ...Entry) {
	t.Helper()
	for _, e := range es {
		var err error
		if e.Probe {
			err = j.Probe(e.Window, e.OK, e.AtUnixMs)
		} else {
			err = j.Request(e.Window, e.Sample)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func open(t *testing.T, dir string, sealed uint64) (*Journal, Replay) {
	t.Helper()
	j, rep, err := Open(dir, sealed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j, rep
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// TestReplayAfterCrash: a journal abandoned without Close (a kill) gives back, on Open, exactly
// the records written after the segment the store sealed, in order; sealed segments are gone.
func TestReplayAfterCrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lease-7")
	j, rep := open(t, dir, 0)
	if len(rep.Entries) != 0 || rep.Dropped != 0 {
		t.Fatalf("new journal replays %+v", rep)
	}
	first := []Entry{req(1, 1000), probe(1, true, 1001), req(1, 1002)}
	put(t, j, first...)
	sealed := j.Seal() // the store took first, with sealed
	if sealed != 1 {
		t.Fatalf("first seal = %d, want 1", sealed)
	}
	second := []Entry{req(1, 2000), probe(2, false, 2001)}
	put(t, j, second...)
	if s := j.Seal(); s != 2 {
		t.Fatalf("second seal = %d", s)
	}
	third := []Entry{req(2, 3000), req(2, 3001), probe(2, true, 3002)}
	put(t, j, third...)
	// Killed here: the store holds first (sealed 1) but not second: its commit did not happen.

	j2, rep := open(t, dir, sealed)
	want := append(append([]Entry(nil), second...), third...)
	if !reflect.DeepEqual(rep.Entries, want) || rep.Dropped != 0 {
		t.Fatalf("replay = %+v (dropped %d), want %+v", rep.Entries, rep.Dropped, want)
	}
	if got := files(t, dir); !reflect.DeepEqual(got, []string{"00000000000000000002.log", "00000000000000000003.log"}) {
		t.Fatalf("files after open = %v: the sealed segment must be deleted", got)
	}
	// New records go after every replayed segment; once the store took the replayed records
	// and the new ones (one seal covers both), Drop clears them all.
	put(t, j2, req(3, 4000))
	s := j2.Seal()
	if s != 4 {
		t.Fatalf("seal after reopen = %d, want 4", s)
	}
	if err := j2.Drop(s); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files after drop = %v", got)
	}
	_, rep = open(t, dir, s)
	if len(rep.Entries) != 0 {
		t.Fatalf("replay after everything was taken = %+v", rep.Entries)
	}
}

// TestSealWithoutRecords: a block without measurements creates no file, and its seal still
// covers every earlier segment.
func TestSealWithoutRecords(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, 41)
	if s := j.Seal(); s != 42 {
		t.Fatalf("seal = %d, want 42", s)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files = %v after an empty segment", got)
	}
	put(t, j, probe(9, true, 5))
	if got := files(t, dir); !reflect.DeepEqual(got, []string{"00000000000000000043.log"}) {
		t.Fatalf("files = %v", got)
	}
}

// TestDamagedRecords: a record cut short (a power loss mid-write) or garbled is dropped and
// counted, never misread; the records around it survive.
func TestDamagedRecords(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, 0)
	put(t, j, req(1, 10), req(1, 11), req(1, 12))
	j.Seal()
	put(t, j, probe(1, true, 13))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	seg1 := filepath.Join(dir, "00000000000000000001.log")
	raw, err := os.ReadFile(seg1)
	if err != nil {
		t.Fatal(err)
	}
	raw[recordSize+5] ^= 0x40  // the second record's window
	raw = append(raw, 1, 2, 3) // a torn fourth record
	if err := os.WriteFile(seg1, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, rep := open(t, dir, 0)
	want := []Entry{req(1, 10), req(1, 12), probe(1, true, 13)}
	if !reflect.DeepEqual(rep.Entries, want) || rep.Dropped != 2 {
		t.Fatalf("replay = %+v dropped %d, want %+v dropped 2", rep.Entries, rep.Dropped, want)
	}
}

// TestRemove: a closed lease's journal goes entirely, and removing it twice is fine.
func TestRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lease-3")
	j, _ := open(t, dir, 0)
	put(t, j, req(1, 1))
	for range 2 {
		if err := j.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("journal dir still there: %v", err)
	}
}

// BenchmarkRequest measures journaling one request (one write(2)), the cost the ingress pays
// per request on top of proxying it.
func BenchmarkRequest(b *testing.B) {
	j, _, err := Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	s := ingress.Sample{UnixMillis: 1, Micros: 250, Status: 200}
	for i := 0; i < b.N; i++ {
		if err := j.Request(1, s); err != nil {
			b.Fatal(err)
		}
		if i%5000 == 4999 { // a block's worth at 5,000 req/s
			j.Drop(j.Seal())
		}
	}
}

// Sync runs beside writes and seals (the ingress keeps writing while the disk syncs, and a
// block may seal the segment being synced): it never fails on a sealed segment, and what the
// journal replays afterwards is exactly what was written after the last seal.
func TestSyncBesideWritesAndSeals(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, 0)
	if err := j.Sync(); err != nil {
		t.Fatalf("sync of an empty journal: %v", err)
	}
	done := make(chan struct{})
	syncErr := make(chan error, 1)
	go func() {
		defer close(syncErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := j.Sync(); err != nil {
				syncErr <- err
				return
			}
		}
	}()
	var sealed uint64
	var tail []Entry
	for i := range 2000 {
		e := req(uint64(i/500+1), int64(i))
		put(t, j, e)
		tail = append(tail, e)
		if i%100 == 99 && i < 1900 {
			sealed = j.Seal()
			if err := j.Drop(sealed); err != nil {
				t.Fatal(err)
			}
			tail = nil
		}
	}
	close(done)
	if err := <-syncErr; err != nil {
		t.Fatalf("sync beside writes and seals: %v", err)
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	_, rep := open(t, dir, sealed)
	if !reflect.DeepEqual(rep.Entries, tail) || rep.Dropped != 0 {
		t.Fatalf("replayed %d entries (%d dropped), want the %d written after the last seal", len(rep.Entries), rep.Dropped, len(tail))
	}
}
