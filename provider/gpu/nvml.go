package gpu

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// nvmlBackend reads GPUs through an nvml.Interface: the real library (NewNVML) or go-nvml's mock
// (NewMock), so tests exercise the same reading code the provider runs.
type nvmlBackend struct {
	name string
	lib  nvml.Interface

	// mu guards closed: after Shutdown go-nvml unloads the library, and calling into it then
	// crashes the process instead of returning an error.
	mu     sync.RWMutex
	closed bool
}

// NewNVML opens the NVIDIA Management Library. On a machine without the NVIDIA library or driver
// it returns an error wrapping ErrNoNVML.
func NewNVML() (Backend, error) {
	return openNVML("nvml", nvml.New())
}

// openNVML initialises lib. Init must be the first call and, if it fails, the only one: any other
// NVML call after a failed Init jumps into an unloaded library and kills the process.
func openNVML(name string, lib nvml.Interface) (*nvmlBackend, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("gpu: %w: nvml init: %s", ErrNoNVML, retString(ret))
	}
	return &nvmlBackend{name: name, lib: lib}, nil
}

func (b *nvmlBackend) Name() string { return b.name }

func (b *nvmlBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if ret := b.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("gpu: nvml shutdown: %s", retString(ret))
	}
	return nil
}

func (b *nvmlBackend) Devices(ctx context.Context) ([]Device, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, ErrClosed
	}
	count, ret := b.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, nvmlError("device count", ret)
	}
	driver, ret := b.lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, nvmlError("driver version", ret)
	}
	cc, err := b.ccEnabled()
	if err != nil {
		return nil, err
	}
	devices := make([]Device, 0, count)
	var unreadable []error
	for i := 0; i < count; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := b.device(i)
		if err != nil {
			// One GPU lost from the bus must not take the others out of service.
			unreadable = append(unreadable, err)
			continue
		}
		d.DriverVersion = driver
		d.CCEnabled = cc
		devices = append(devices, d)
	}
	if len(unreadable) > 0 {
		return devices, fmt.Errorf("gpu: %w: %d of %d: %w", ErrUnreadable, len(unreadable), count, errors.Join(unreadable...))
	}
	return devices, nil
}

func (b *nvmlBackend) device(i int) (Device, error) {
	h, ret := b.lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		return Device{}, nvmlError(fmt.Sprintf("device %d handle", i), ret)
	}
	d := Device{Index: i}
	if d.Name, ret = h.GetName(); ret != nvml.SUCCESS {
		return Device{}, nvmlError(fmt.Sprintf("device %d name", i), ret)
	}
	if d.UUID, ret = h.GetUUID(); ret != nvml.SUCCESS {
		return Device{}, nvmlError(fmt.Sprintf("device %d uuid", i), ret)
	}
	mem, ret := h.GetMemoryInfo()
	if ret != nvml.SUCCESS {
		return Device{}, nvmlError(fmt.Sprintf("device %d memory", i), ret)
	}
	d.MemoryMiB = mem.Total / (1 << 20)
	d.SKU = SKU(d.Name, d.MemoryMiB)
	d.VRAMGiB = vramGiB(d.Name, d.MemoryMiB)

	// Telemetry is optional: MIG and vGPU devices report NOT_SUPPORTED for some of it, and a
	// missing temperature must not hide the GPU from the market.
	util, ret := h.GetUtilizationRates()
	if err := optional(fmt.Sprintf("device %d utilization", i), ret); err != nil {
		return Device{}, err
	}
	d.UtilizationPct = util.Gpu
	temp, ret := h.GetTemperature(nvml.TEMPERATURE_GPU)
	if err := optional(fmt.Sprintf("device %d temperature", i), ret); err != nil {
		return Device{}, err
	}
	d.TemperatureC = temp
	vbios, ret := h.GetVbiosVersion()
	if err := optional(fmt.Sprintf("device %d vbios", i), ret); err != nil {
		return Device{}, err
	}
	d.VBIOSVersion = vbios
	return d, nil
}

// ccEnabled reports whether confidential computing is on in production mode. Devtools mode is
// treated as off: its attestation reports say so, and verifiers refuse them.
func (b *nvmlBackend) ccEnabled() (bool, error) {
	// Drivers before 535 lack the symbol; calling a missing symbol crashes rather than erring.
	if b.lib.Extensions().LookupSymbol("nvmlSystemGetConfComputeState") != nil {
		return false, nil
	}
	state, ret := b.lib.SystemGetConfComputeState()
	switch ret {
	case nvml.SUCCESS:
		return state.CcFeature == nvml.CC_SYSTEM_FEATURE_ENABLED &&
			state.DevToolsMode == nvml.CC_SYSTEM_DEVTOOLS_MODE_OFF, nil
	case nvml.ERROR_NOT_SUPPORTED, nvml.ERROR_FUNCTION_NOT_FOUND:
		return false, nil
	default:
		return false, nvmlError("confidential computing state", ret)
	}
}

// AttestationReport returns the GPU's attestation report over nonce (as NVML returns it, SPDM
// signed by the GPU's attestation key) and the attestation certificate chain that verifies it.
func (b *nvmlBackend) AttestationReport(ctx context.Context, index int, nonce [32]byte) ([]byte, []byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	cc, err := b.ccEnabled()
	if err != nil {
		return nil, nil, err
	}
	if !cc {
		return nil, nil, fmt.Errorf("gpu: attestation report: %w: confidential computing is off", ErrNotSupported)
	}
	ext := b.lib.Extensions()
	for _, sym := range []string{"nvmlDeviceGetConfComputeGpuAttestationReport", "nvmlDeviceGetConfComputeGpuCertificate"} {
		if ext.LookupSymbol(sym) != nil {
			return nil, nil, fmt.Errorf("gpu: attestation report: %w: driver lacks %s", ErrNotSupported, sym)
		}
	}
	count, ret := b.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, nil, nvmlError("device count", ret)
	}
	if index < 0 || index >= count {
		return nil, nil, fmt.Errorf("gpu: attestation report: no device %d (have %d)", index, count)
	}
	h, ret := b.lib.DeviceGetHandleByIndex(index)
	if ret != nvml.SUCCESS {
		return nil, nil, nvmlError(fmt.Sprintf("device %d handle", index), ret)
	}

	var rep nvml.ConfComputeGpuAttestationReport
	rep.Nonce = nonce
	if ret := h.GetConfComputeGpuAttestationReport(&rep); ret != nvml.SUCCESS {
		return nil, nil, nvmlError(fmt.Sprintf("device %d attestation report", index), ret)
	}
	cert, ret := h.GetConfComputeGpuCertificate()
	if ret != nvml.SUCCESS {
		return nil, nil, nvmlError(fmt.Sprintf("device %d certificate", index), ret)
	}
	report := clip(rep.AttestationReport[:], rep.AttestationReportSize)
	// The attestation chain, not CertChain (the device identity chain), signs the report.
	chain := clip(cert.AttestationCertChain[:], cert.AttestationCertChainSize)
	if len(report) == 0 || len(chain) == 0 {
		return nil, nil, fmt.Errorf("gpu: device %d returned an empty attestation report or certificate chain", index)
	}
	return report, chain, nil
}

// clip copies the first size bytes of buf, trusting size no further than buf's length.
func clip(buf []byte, size uint32) []byte {
	n := int(min(uint64(size), uint64(len(buf))))
	return append([]byte(nil), buf[:n]...)
}

func optional(what string, ret nvml.Return) error {
	if ret == nvml.SUCCESS || ret == nvml.ERROR_NOT_SUPPORTED {
		return nil
	}
	return nvmlError(what, ret)
}

// nvmlError wraps an NVML failure; NOT_SUPPORTED and FUNCTION_NOT_FOUND wrap ErrNotSupported.
func nvmlError(what string, ret nvml.Return) error {
	if ret == nvml.ERROR_NOT_SUPPORTED || ret == nvml.ERROR_FUNCTION_NOT_FOUND {
		return fmt.Errorf("gpu: nvml %s: %w (%s)", what, ErrNotSupported, retString(ret))
	}
	return fmt.Errorf("gpu: nvml %s: %w", what, nvmlReturn(ret))
}

// nvmlReturn keeps the NVML code inspectable with errors.As.
type nvmlReturn nvml.Return

func (r nvmlReturn) Error() string { return retString(nvml.Return(r)) }

// retString names a return code. go-nvml formats codes in Go until the library is loaded, so
// this is safe after a failed Init too.
func retString(ret nvml.Return) string {
	return ret.Error()
}
