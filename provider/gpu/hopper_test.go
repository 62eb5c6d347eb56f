package gpu

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

// What an H100/H200 node can say that a plain one does not: MIG mode, CC without the ready
// state, protected-PCIe mode, a simulated CC environment, odd answers to the CC and telemetry
// calls, and the Init codes of a broken driver.
func TestHopperStates(t *testing.T) {
	ctx := context.Background()

	t.Run("a GPU in MIG mode is left out", func(t *testing.T) {
		cfg := H100Node()
		cfg.MIG = []int{2}
		devs, err := NewMock(cfg).Devices(ctx)
		if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "MIG") || len(devs) != 7 {
			t.Fatalf("%d devices, err %v; want the 7 others and an error naming MIG", len(devs), err)
		}
		for _, d := range devs {
			if d.Index == 2 {
				t.Fatal("the MIG GPU is listed")
			}
		}
	})
	t.Run("CC on, ready state unset", func(t *testing.T) {
		cfg := H100Node()
		cfg.CCNotReady = true
		devs, err := NewMock(cfg).Devices(ctx)
		if err != nil || !devs[0].CCEnabled || devs[0].CCReady {
			t.Fatalf("devs %+v, err %v; want CC on and not ready", devs, err)
		}
		if devs, _ := NewMock(H100Node()).Devices(ctx); !devs[0].CCReady {
			t.Fatal("a ready node reads as not ready")
		}
	})
	t.Run("protected-PCIe mode counts as CC", func(t *testing.T) {
		cfg := H100Node()
		cfg.CC, cfg.PPCIe = false, true
		b := NewMock(cfg)
		devs, err := b.Devices(ctx)
		if err != nil || !devs[0].CCEnabled {
			t.Fatalf("devs %+v, err %v; want CC on", devs, err)
		}
		if _, _, err := b.AttestationReport(ctx, 0, [32]byte{7}); err != nil {
			t.Fatalf("attestation in PPCIe mode: %v", err)
		}
	})
	t.Run("a simulated CC environment is not CC", func(t *testing.T) {
		lib := newMockNVML(H100Node())
		lib.SystemGetConfComputeStateFunc = func() (nvml.ConfComputeSystemState, nvml.Return) {
			return nvml.ConfComputeSystemState{Environment: nvml.CC_SYSTEM_ENVIRONMENT_SIM, CcFeature: nvml.CC_SYSTEM_FEATURE_ENABLED}, nvml.SUCCESS
		}
		b, _ := openNVML("mock", lib)
		if devs, err := b.Devices(ctx); err != nil || devs[0].CCEnabled {
			t.Fatalf("devs %+v, err %v", devs, err)
		}
	})
	t.Run("an odd CC answer keeps the GPUs, with CC off", func(t *testing.T) {
		lib := newMockNVML(H100Node())
		lib.SystemGetConfComputeStateFunc = func() (nvml.ConfComputeSystemState, nvml.Return) {
			return nvml.ConfComputeSystemState{}, nvml.ERROR_NO_PERMISSION
		}
		b, _ := openNVML("mock", lib)
		devs, err := b.Devices(ctx)
		if err != nil || len(devs) != 8 || devs[0].CCEnabled {
			t.Fatalf("%d devices, err %v; want all 8 with CC off", len(devs), err)
		}
		if _, _, err := b.AttestationReport(ctx, 0, [32]byte{}); err == nil || !strings.Contains(err.Error(), "ERROR_NO_PERMISSION") {
			t.Fatalf("attestation: %v; want the CC error", err)
		}
	})
	t.Run("telemetry refused keeps the GPU; a lost one is left out", func(t *testing.T) {
		lib := newMockNVML(H100Node())
		handle := lib.DeviceGetHandleByIndexFunc
		lib.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
			d, ret := handle(i)
			d.(*mock.Device).GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
				if i == 5 {
					return nvml.Utilization{}, nvml.ERROR_GPU_IS_LOST
				}
				return nvml.Utilization{}, nvml.ERROR_NO_PERMISSION
			}
			return d, ret
		}
		b, _ := openNVML("mock", lib)
		devs, err := b.Devices(ctx)
		if !errors.Is(err, ErrUnreadable) || len(devs) != 7 {
			t.Fatalf("%d devices, err %v; want 7, GPU 5 lost", len(devs), err)
		}
	})
	t.Run("a report for another nonce is refused", func(t *testing.T) {
		lib := newMockNVML(H100Node())
		handle := lib.DeviceGetHandleByIndexFunc
		lib.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
			d, ret := handle(i)
			orig := d.(*mock.Device).GetConfComputeGpuAttestationReportFunc
			d.(*mock.Device).GetConfComputeGpuAttestationReportFunc = func(r *nvml.ConfComputeGpuAttestationReport) nvml.Return {
				r.Nonce[0] ^= 1 // a stale report: answers something else
				return orig(r)
			}
			return d, ret
		}
		b, _ := openNVML("mock", lib)
		if _, _, err := b.AttestationReport(ctx, 0, [32]byte{9}); err == nil || !strings.Contains(err.Error(), "nonce") {
			t.Fatalf("err = %v, want the nonce refused", err)
		}
	})
	t.Run("Init: only a missing library means no GPUs", func(t *testing.T) {
		for ret, noNVML := range map[nvml.Return]bool{
			nvml.ERROR_LIBRARY_NOT_FOUND:       true,
			nvml.ERROR_DRIVER_NOT_LOADED:       false,
			nvml.ERROR_LIB_RM_VERSION_MISMATCH: false,
			nvml.ERROR_NO_PERMISSION:           false,
		} {
			_, err := openNVML("nvml", &mock.Interface{InitFunc: func() nvml.Return { return ret }})
			if err == nil || errors.Is(err, ErrNoNVML) != noNVML {
				t.Errorf("Init %s: err %v, ErrNoNVML %v, want %v", ret.Error(), err, errors.Is(err, ErrNoNVML), noNVML)
			}
		}
	})
}

// TestReportNonceOffset: real NVIDIA attestation reports hold the nonce they answer where
// checkReport looks (../shared/fixtures: a report NRAS verified for the tinfoil token, and the
// one behind NVIDIA's hopperClaimsv3 token).
func TestReportNonceOffset(t *testing.T) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for filepath.Dir(dir) != dir {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	fx := filepath.Join(dir, "..", "shared", "fixtures", "attestation", "nvidia")
	if _, err := os.Stat(fx); err != nil {
		t.Skipf("attestation fixtures not found at %s: %v", fx, err)
	}
	for _, c := range []struct{ file, nonce string }{
		{"nras/tinfoil-h100-20260629/gpu0-report.bin", ""},
		{"spdm/go-nvattest-tools/test_raw_gpu_attestation_report.dat", "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"},
	} {
		report, err := os.ReadFile(filepath.Join(fx, c.file))
		if err != nil {
			t.Fatal(err)
		}
		want := c.nonce
		if want == "" { // the nonce teep asked NRAS for, from its request body
			body, err := os.ReadFile(filepath.Join(fx, "nras/tinfoil-h100-20260629/nras-request-body.json"))
			if err != nil {
				t.Fatal(err)
			}
			_, after, _ := strings.Cut(string(body), `"nonce":"`)
			want, _, _ = strings.Cut(after, `"`)
		}
		raw, err := hex.DecodeString(want)
		if err != nil || len(raw) != 32 {
			t.Fatalf("%s: nonce %q: %v", c.file, want, err)
		}
		var nonce [32]byte
		copy(nonce[:], raw)
		if err := checkReport(report, nonce); err != nil {
			t.Errorf("%s: %v", c.file, err)
		}
		nonce[31] ^= 1
		if checkReport(report, nonce) == nil {
			t.Errorf("%s: another nonce passes", c.file)
		}
	}
}
