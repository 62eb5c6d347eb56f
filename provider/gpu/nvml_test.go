package gpu

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestNVMLBackend runs against the machine's real GPUs and is skipped where there are none.
func TestNVMLBackend(t *testing.T) {
	b, err := NewNVML()
	if errors.Is(err, ErrNoNVML) {
		t.Skipf("no NVIDIA library on this machine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	devs, err := b.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) == 0 {
		t.Fatal("NVML initialised but listed no devices")
	}
	for _, d := range devs {
		t.Logf("gpu %d: %s uuid=%s sku=%s mem=%dMiB vram=%dGiB util=%d%% temp=%dC driver=%s vbios=%s cc=%v cc_ready=%v",
			d.Index, d.Name, d.UUID, d.SKU, d.MemoryMiB, d.VRAMGiB, d.UtilizationPct, d.TemperatureC,
			d.DriverVersion, d.VBIOSVersion, d.CCEnabled, d.CCReady)
		if d.UUID == "" || d.SKU == "" {
			t.Errorf("device %d lacks a UUID or SKU: %+v", d.Index, d)
		}
	}
	nonce := [32]byte{1, 2, 3}
	report, chain, err := b.AttestationReport(context.Background(), devs[0].Index, nonce)
	switch {
	case errors.Is(err, ErrNotSupported):
		t.Logf("attestation: %v", err)
	case err != nil:
		t.Errorf("attestation: %v", err)
	default:
		// AttestationReport checked that the report answers the nonce; the chain is PEM.
		if !strings.Contains(string(chain), "-----BEGIN CERTIFICATE-----") {
			t.Errorf("attestation certificate chain is not PEM: %.40q", chain)
		}
		t.Logf("attestation: report %d bytes answering the nonce, cert chain %d bytes", len(report), len(chain))
	}
}
