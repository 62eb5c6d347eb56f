package wasm

import (
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/computed-network/computed/provider/exec"
)

// A linear memory's mapping is reused only cleared, and never grows past its maximum.
func TestMappedMemoryReuse(t *testing.T) {
	if memoryAllocator == nil {
		t.Skip("no mmap on this OS: instances use the heap")
	}
	const max = 1 << 20
	m := memoryAllocator.Allocate(0, max)
	buf := m.Reallocate(64 << 10)
	if len(buf) != 64<<10 {
		t.Fatalf("Reallocate(64 KiB) gave %d bytes", len(buf))
	}
	for i := range buf {
		buf[i] = 0xff
	}
	grown := m.Reallocate(128 << 10)
	if unsafe.SliceData(grown) != unsafe.SliceData(buf) || grown[100] != 0xff {
		t.Fatal("growing moved or lost the memory")
	}
	if m.Reallocate(max+1) != nil {
		t.Fatal("grew past the maximum")
	}
	m.Free()
	again := memoryAllocator.Allocate(0, max)
	buf2 := again.Reallocate(256 << 10)
	if unsafe.SliceData(buf2) != unsafe.SliceData(buf) {
		t.Fatal("the freed mapping was not reused")
	}
	if i := slices.IndexFunc(buf2, func(b byte) bool { return b != 0 }); i >= 0 {
		t.Fatalf("reused memory is not zero at %d", i)
	}
	again.Free()
}

// A mapping an instance used more than keptResident of is zeroed by giving its pages back, not
// by writing zeros that keep them resident; reused, it reads zero all the same.
func TestLargeMappingReleasedZeroed(t *testing.T) {
	if memoryAllocator == nil {
		t.Skip("no mmap on this OS: instances use the heap")
	}
	const max = 2 * keptResident
	m := memoryAllocator.Allocate(0, max)
	buf := m.Reallocate(keptResident + 4<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 0xff
	}
	m.Free()
	if resident := residentPages(t, buf); resident != 0 {
		t.Fatalf("%d of %d pages still resident after Free", resident, len(buf)/os.Getpagesize())
	}
	again := memoryAllocator.Allocate(0, max)
	buf2 := again.Reallocate(keptResident + 4<<20)
	if unsafe.SliceData(buf2) != unsafe.SliceData(buf) {
		t.Fatal("the freed mapping was not reused")
	}
	for i := 0; i < len(buf2); i += 4096 {
		if buf2[i] != 0 {
			t.Fatalf("reused memory is not zero at %d", i)
		}
	}
	again.Free()
}

// A service's instances take their memory outside the Go heap: a request costs the sidecar's
// garbage collector well under a MiB, against about 8 MiB with wazero's default allocator
// (memory_unix.go says why that matters).
func TestServiceMemoryOffHeap(t *testing.T) {
	if memoryAllocator == nil {
		t.Skip("no mmap on this OS: instances use the heap")
	}
	url := startEcho(t)
	post(t, url, "warm up")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 20
	for i := range n {
		if code, body := post(t, url, "request"); code != 200 || body != "request" {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	runtime.ReadMemStats(&after)
	if perReq := (after.TotalAlloc - before.TotalAlloc) / n; perReq > 2<<20 {
		t.Fatalf("%d bytes of Go heap per request: the instance's memory is on the heap", perReq)
	}
}

func startEcho(tb testing.TB) string {
	_, echo := modules(tb)
	d := newDriver(Config{Timeout: 5 * time.Second})
	ctx := testCtx(tb)
	if _, err := d.Start(ctx, exec.TaskConfig{ID: "echo", Workload: echo.path, Digest: echo.digest}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = d.Stop(ctx, "echo") })
	url, err := d.Endpoint(ctx, "echo")
	if err != nil {
		tb.Fatal(err)
	}
	return url
}

// BenchmarkServiceRequest: one request to the echo service per op, with instances' memory on
// the heap (wazero's default) or in kept mappings, beside 128 MiB of live heap standing in for
// the sidecar's own. It reports the requests' P95 and P99 besides the mean.
func BenchmarkServiceRequest(b *testing.B) {
	ballast := make([][]byte, 0, 2048)
	for range 2048 {
		ballast = append(ballast, make([]byte, 64<<10))
	}
	defer runtime.KeepAlive(ballast)
	mapped := memoryAllocator
	for _, bc := range []struct {
		name  string
		alloc experimental.MemoryAllocator
	}{
		{"heap", nil}, // wazero's own
		{"mapped", mapped},
	} {
		b.Run(bc.name, func(b *testing.B) {
			memoryAllocator = bc.alloc
			defer func() { memoryAllocator = mapped }()
			url := startEcho(b)
			ds := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				resp, err := http.Post(url, "text/plain", strings.NewReader("request"))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				ds = append(ds, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds()), "p95-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
		})
	}
}
