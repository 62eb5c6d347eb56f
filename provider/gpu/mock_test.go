package gpu

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

func TestMockH100Node(t *testing.T) {
	b := NewMock(H100Node())
	defer b.Close()
	if b.Name() != "mock" {
		t.Fatalf("Name() = %q", b.Name())
	}
	devs, err := b.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 8 {
		t.Fatalf("got %d devices, want 8", len(devs))
	}
	seen := map[string]bool{}
	for i, d := range devs {
		if d.Index != i || d.SKU != "H100-SXM-80GB" || d.VRAMGiB != 80 || !d.CCEnabled ||
			d.MemoryMiB != 81559 || d.DriverVersion != "550.54.15" || d.Name != "NVIDIA H100 80GB HBM3" ||
			d.VBIOSVersion == "" || d.TemperatureC == 0 {
			t.Errorf("device %d = %+v", i, d)
		}
		if !strings.HasPrefix(d.UUID, "GPU-") || seen[d.UUID] {
			t.Errorf("device %d UUID %q is malformed or repeated", i, d.UUID)
		}
		seen[d.UUID] = true
	}
}

func TestMockConfigCCOff(t *testing.T) {
	b := NewMock(MockConfig{Count: 2, Name: "NVIDIA L40S", MemoryMiB: 46068, UtilizationPct: 37})
	defer b.Close()
	devs, err := b.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 2 || devs[1].SKU != "L40S-PCIE-45GB" || devs[1].CCEnabled || devs[1].UtilizationPct != 37 {
		t.Fatalf("devices = %+v", devs)
	}
	_, _, err = b.AttestationReport(context.Background(), 0, [32]byte{1})
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("attestation with CC off: err = %v, want ErrNotSupported", err)
	}
}

func TestMockAttestationReport(t *testing.T) {
	b := NewMock(H100Node())
	defer b.Close()
	ctx := context.Background()
	n1, n2 := [32]byte{1, 2, 3}, [32]byte{4, 5, 6}

	r1, chain, err := b.AttestationReport(ctx, 0, n1)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) == 0 || !bytes.Contains(r1, n1[:]) {
		t.Fatalf("report %x / chain %q: want the nonce echoed and a chain", r1, chain)
	}
	again, _, err := b.AttestationReport(ctx, 0, n1)
	if err != nil || !bytes.Equal(r1, again) {
		t.Fatalf("same nonce gave a different report (err %v)", err)
	}
	r2, _, err := b.AttestationReport(ctx, 0, n2)
	if err != nil || bytes.Equal(r1, r2) {
		t.Fatalf("different nonce gave the same report (err %v)", err)
	}
	other, _, err := b.AttestationReport(ctx, 1, n1)
	if err != nil || bytes.Equal(r1, other) {
		t.Fatalf("different GPU gave the same report (err %v)", err)
	}
	if _, _, err := b.AttestationReport(ctx, 8, n1); err == nil || !strings.Contains(err.Error(), "no device 8") {
		t.Fatalf("index out of range: err = %v", err)
	}
}

func TestMockFailures(t *testing.T) {
	ctx := context.Background()

	lib := newMockNVML(H100Node())
	lib.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_GPU_IS_LOST }
	b, err := openNVML("mock", lib)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Devices(ctx); err == nil || !strings.Contains(err.Error(), "device count") ||
		!strings.Contains(err.Error(), "ERROR_GPU_IS_LOST") {
		t.Fatalf("failing DeviceGetCount: err = %v", err)
	}

	// A GPU that cannot be read (lost from the bus) is left out; the others are listed, with
	// an error that says so (ErrUnreadable), which callers take as a partial inventory.
	lib = newMockNVML(H100Node())
	handle := lib.DeviceGetHandleByIndexFunc
	lib.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i == 3 {
			return nil, nvml.ERROR_GPU_IS_LOST
		}
		return handle(i)
	}
	b, _ = openNVML("mock", lib)
	devs, err := b.Devices(ctx)
	if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "device 3") || len(devs) != 7 {
		t.Fatalf("one GPU lost: %d devices, err %v; want the 7 others and ErrUnreadable", len(devs), err)
	}
	for _, d := range devs {
		if d.Index == 3 {
			t.Fatal("the lost GPU is listed")
		}
	}
	if got, err := Readable(b.Devices(ctx)); err != nil || len(got) != 7 {
		t.Fatalf("Readable: %d devices, %v", len(got), err)
	}

	// Telemetry a device does not support is left zero; the device is still listed.
	lib = newMockNVML(H100Node())
	dev := lib.DeviceGetHandleByIndexFunc
	lib.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		d, ret := dev(i)
		d.(*mock.Device).GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
			return 0, nvml.ERROR_NOT_SUPPORTED
		}
		return d, ret
	}
	b, _ = openNVML("mock", lib)
	devs, err = b.Devices(ctx)
	if err != nil || len(devs) != 8 || devs[0].TemperatureC != 0 {
		t.Fatalf("unsupported temperature: devs %+v, err %v", devs, err)
	}

	// A driver without the CC state call is a machine without CC, not a failure.
	lib = newMockNVML(H100Node())
	lib.SystemGetConfComputeStateFunc = func() (nvml.ConfComputeSystemState, nvml.Return) {
		return nvml.ConfComputeSystemState{}, nvml.ERROR_NOT_SUPPORTED
	}
	b, _ = openNVML("mock", lib)
	if devs, err := b.Devices(ctx); err != nil || devs[0].CCEnabled {
		t.Fatalf("CC state unsupported: devs %+v, err %v", devs, err)
	}

	// Devtools mode is not production CC.
	lib = newMockNVML(H100Node())
	lib.SystemGetConfComputeStateFunc = func() (nvml.ConfComputeSystemState, nvml.Return) {
		return nvml.ConfComputeSystemState{CcFeature: nvml.CC_SYSTEM_FEATURE_ENABLED, DevToolsMode: nvml.CC_SYSTEM_DEVTOOLS_MODE_ON}, nvml.SUCCESS
	}
	b, _ = openNVML("mock", lib)
	if devs, err := b.Devices(ctx); err != nil || devs[0].CCEnabled {
		t.Fatalf("devtools mode: devs %+v, err %v", devs, err)
	}

	// A driver too old to know the CC calls must not be asked: the symbol is looked up first.
	lib = newMockNVML(H100Node())
	lib.ExtensionsFunc = func() nvml.ExtendedInterface {
		return &mock.ExtendedInterface{LookupSymbolFunc: func(string) error { return errors.New("undefined symbol") }}
	}
	lib.SystemGetConfComputeStateFunc = nil // the mock panics if it is called
	b, _ = openNVML("mock", lib)
	if devs, err := b.Devices(ctx); err != nil || devs[0].CCEnabled {
		t.Fatalf("old driver: devs %+v, err %v", devs, err)
	}
	if _, _, err := b.AttestationReport(ctx, 0, [32]byte{}); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("old driver attestation: err = %v, want ErrNotSupported", err)
	}
}

// A failed Init must be the only NVML call: on a machine without the library, any other call
// kills the process. The bare mock panics on any method it was not given.
func TestInitFailureCallsNothingElse(t *testing.T) {
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	b, err := openNVML("nvml", lib)
	if b != nil || !errors.Is(err, ErrNoNVML) || !strings.Contains(err.Error(), "ERROR_LIBRARY_NOT_FOUND") {
		t.Fatalf("openNVML = %v, %v; want ErrNoNVML naming the code", b, err)
	}
	if n := len(lib.InitCalls()); n != 1 {
		t.Fatalf("Init called %d times", n)
	}
}

func TestClose(t *testing.T) {
	lib := newMockNVML(H100Node())
	b, err := openNVML("mock", lib)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Fatalf("Shutdown called %d times, want 1", n)
	}
	if _, err := b.Devices(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Devices after Close: err = %v", err)
	}
	if _, _, err := b.AttestationReport(context.Background(), 0, [32]byte{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AttestationReport after Close: err = %v", err)
	}
}
