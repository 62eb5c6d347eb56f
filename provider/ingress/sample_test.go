package ingress

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/cometbft/cometbft/crypto/merkle"
)

func TestEncodeSampleLayout(t *testing.T) {
	got := EncodeSample(Sample{UnixMillis: 0x0102030405060708, Micros: 0x1112131415161718, Status: 503})
	want, _ := hex.DecodeString("0102030405060708" + "1112131415161718" + "01f7")
	if !bytes.Equal(got, want) {
		t.Fatalf("EncodeSample = %x, want %x", got, want)
	}
	if len(got) != SampleSize {
		t.Fatalf("len = %d, want SampleSize %d", len(got), SampleSize)
	}
}

func testSamples() []Sample {
	return []Sample{
		{UnixMillis: 1_700_000_000_000, Micros: 812, Status: 200},
		{UnixMillis: 1_700_000_000_001, Micros: 40_120, Status: 200},
		{UnixMillis: 1_700_000_000_001, Micros: 95, Status: 502},
		{UnixMillis: 1_700_000_000_003, Micros: 1_200, Status: 404},
		{UnixMillis: 1_700_000_000_004, Micros: 77, Status: 0},
	}
}

func TestSamplesRootIsRFC6962OverEncodedSamples(t *testing.T) {
	samples := testSamples()
	leaves := make([][]byte, len(samples))
	for i, s := range samples {
		leaves[i] = EncodeSample(s)
	}
	if got, want := SamplesRoot(samples), merkle.HashFromByteSlices(leaves); !bytes.Equal(got, want) {
		t.Fatalf("SamplesRoot = %x, want %x", got, want)
	}
	if got, want := SamplesRoot(nil), sha256.Sum256(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("SamplesRoot(nil) = %x, want SHA-256 of nothing", got)
	}
}

func TestSamplesRootChangesWithAnySample(t *testing.T) {
	base := SamplesRoot(testSamples())
	mutations := map[string]func(*Sample){
		"time":    func(s *Sample) { s.UnixMillis++ },
		"latency": func(s *Sample) { s.Micros++ },
		"status":  func(s *Sample) { s.Status ^= 1 },
	}
	for i := range testSamples() {
		for name, mutate := range mutations {
			samples := testSamples()
			mutate(&samples[i])
			if bytes.Equal(SamplesRoot(samples), base) {
				t.Errorf("changing the %s of sample %d left the root unchanged", name, i)
			}
		}
	}
	samples := testSamples()
	samples[0], samples[1] = samples[1], samples[0]
	if bytes.Equal(SamplesRoot(samples), base) {
		t.Error("reordering samples left the root unchanged")
	}
	if bytes.Equal(SamplesRoot(testSamples()[:4]), base) {
		t.Error("dropping a sample left the root unchanged")
	}
}

func TestClosedWindowRootRecomputesFromSamples(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	var (
		mu   sync.Mutex
		seen []Sample
	)
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: func(_ uint64, s Sample) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}})
	for range 10 {
		get(t, srv.URL+"/", nil)
	}

	snap := mustSnapshot(t, p, 1)
	st, err := p.Close(1)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// A buyer holding the receipts (OnRequest, in order) recomputes the reported root.
	if !bytes.Equal(st.SamplesRoot, SamplesRoot(seen)) {
		t.Fatalf("root %x does not match the recomputation from the samples", st.SamplesRoot)
	}
	if !bytes.Equal(snap.SamplesRoot, st.SamplesRoot) {
		t.Fatal("Snapshot and Close of the same data disagree on the root")
	}
}

func TestDecodeSamplesReversesEncode(t *testing.T) {
	in := []Sample{{UnixMillis: 1_700_000_000_123, Micros: 950, Status: 200}, {UnixMillis: -5, Micros: 1 << 40, Status: 502}, {}}
	var b []byte
	for _, s := range in {
		b = append(b, EncodeSample(s)...)
	}
	out, err := DecodeSamples(b)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("DecodeSamples = %v, %v; want %v", out, err, in)
	}
	if _, err := DecodeSamples(b[:len(b)-1]); err == nil {
		t.Fatal("a torn encoding decoded")
	}
	if out, err := DecodeSamples(nil); err != nil || len(out) != 0 {
		t.Fatalf("DecodeSamples(nil) = %v, %v", out, err)
	}
}

// Under concurrent requests the window's root is over the order OnRequest saw: what the
// sidecar keeps (its receipts' inputs, the store's window data, restored after a restart)
// recomputes the reported root.
func TestRootFollowsOnRequestOrder(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	var c collector
	p, srv := startProxy(t, Config{Backend: backend.URL, OnRequest: c.onRequest})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 150 {
				get(t, srv.URL+"/", nil)
			}
		}()
	}
	wg.Wait()
	st := mustSnapshot(t, p, 1)
	if st.Requests != 1200 || !bytes.Equal(st.SamplesRoot, SamplesRoot(c.of(1))) {
		t.Fatalf("%d requests; the root is not over the samples in the order OnRequest saw them", st.Requests)
	}
}
