package metrics

import (
	"runtime"
	"testing"
)

// TestRegistry: the sidecar's own series and the Go runtime's and process's are all exposed.
func TestRegistry(t *testing.T) {
	m := New()
	m.Bids.Inc()
	m.ChainErrors.WithLabelValues("read_block").Inc()
	m.TxInclusion.WithLabelValues("bid").Observe(1)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		seen[f.GetName()] = true
	}
	want := []string{"computed_provider_bids_total", "computed_provider_chain_errors_total",
		"computed_provider_tx_inclusion_seconds", "go_goroutines", "go_memstats_heap_alloc_bytes"}
	if runtime.GOOS == "linux" {
		want = append(want, "process_cpu_seconds_total", "process_resident_memory_bytes")
	}
	for _, name := range want {
		if !seen[name] {
			t.Errorf("%s not exposed", name)
		}
	}
}
