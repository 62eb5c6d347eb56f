package gpu

import (
	"bytes"
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
// NVML call after a failed Init jumps into an unloaded library and kills the process. Only a
// missing library means "no NVIDIA GPUs here" (ErrNoNVML); a driver not loaded, a library that
// does not match the running driver (an upgrade without a reboot) or a permission refused are
// faults of a GPU machine and say so.
func openNVML(name string, lib nvml.Interface) (*nvmlBackend, error) {
	switch ret := lib.Init(); ret {
	case nvml.SUCCESS:
		return &nvmlBackend{name: name, lib: lib}, nil
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return nil, fmt.Errorf("gpu: %w: nvml init: %s", ErrNoNVML, retString(ret))
	case nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return nil, fmt.Errorf("gpu: nvml init: %s: the NVIDIA library does not match the running driver (reboot after a driver upgrade)", retString(ret))
	default:
		return nil, fmt.Errorf("gpu: nvml init: %s", retString(ret))
	}
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
	// An odd answer about confidential computing leaves the GPUs in service, with CC off: the
	// attestation that needs it reports the error.
	cc, _ := b.ccEnabled()
	ready := cc && b.ccReady()
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
		d.CCEnabled, d.CCReady = cc, ready
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
	// A GPU in MIG mode cannot be handed to a lease whole: a container given its UUID sees its
	// instances, or no device. It is left out until MIG is off.
	if b.has("nvmlDeviceGetMigMode") {
		if cur, _, ret := h.GetMigMode(); ret == nvml.SUCCESS && cur == nvml.DEVICE_MIG_ENABLE {
			return Device{}, fmt.Errorf("gpu: device %d is in MIG mode: not offered (nvidia-smi -i %d -mig 0 to offer it)", i, i)
		}
	}
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

// has reports whether the driver's library has symbol: drivers older than a call's introduction
// lack it, and calling a missing symbol crashes rather than erring.
func (b *nvmlBackend) has(symbol string) bool {
	return b.lib.Extensions().LookupSymbol(symbol) == nil
}

// ccEnabled reports whether confidential computing is on for attestation: CC mode, or Hopper's
// protected-PCIe multi-GPU mode (eight GPUs in one confidential VM), not in devtools mode (its
// reports say so, and verifiers refuse them) and not simulated.
func (b *nvmlBackend) ccEnabled() (bool, error) {
	if !b.has("nvmlSystemGetConfComputeState") { // before driver 535
		return false, nil
	}
	state, ret := b.lib.SystemGetConfComputeState()
	switch ret {
	case nvml.SUCCESS:
	case nvml.ERROR_NOT_SUPPORTED, nvml.ERROR_FUNCTION_NOT_FOUND:
		return false, nil
	default:
		return false, nvmlError("confidential computing state", ret)
	}
	if state.DevToolsMode != nvml.CC_SYSTEM_DEVTOOLS_MODE_OFF || state.Environment == nvml.CC_SYSTEM_ENVIRONMENT_SIM {
		return false, nil
	}
	if state.CcFeature == nvml.CC_SYSTEM_FEATURE_ENABLED {
		return true, nil
	}
	if b.has("nvmlSystemGetConfComputeSettings") {
		if set, ret := b.lib.SystemGetConfComputeSettings(); ret == nvml.SUCCESS && set.MultiGpuMode == nvml.CC_SYSTEM_MULTIGPU_PROTECTED_PCIE {
			return true, nil
		}
	}
	return false, nil
}

// ccReady reports whether the GPUs in CC mode accept work: until the ready state is set (after
// attestation, nvidia-smi conf-compute -srs 1) they refuse every CUDA context. Unknown counts as
// ready: only a definite "no" is worth a warning.
func (b *nvmlBackend) ccReady() bool {
	if !b.has("nvmlSystemGetConfComputeGpusReadyState") {
		return true
	}
	state, ret := b.lib.SystemGetConfComputeGpusReadyState()
	return ret != nvml.SUCCESS || state != nvml.CC_ACCEPTING_CLIENT_REQUESTS_FALSE
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
	for _, sym := range []string{"nvmlDeviceGetConfComputeGpuAttestationReport", "nvmlDeviceGetConfComputeGpuCertificate"} {
		if !b.has(sym) {
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
	if err := checkReport(report, nonce); err != nil {
		return nil, nil, fmt.Errorf("gpu: device %d: %w", index, err)
	}
	return report, chain, nil
}

// reportNonceOffset is where an attestation report holds the nonce it answers: the report opens
// with the SPDM GET_MEASUREMENTS request the GPU signed (4 header bytes, the 32-byte nonce, the
// slot), as in NVIDIA's reports (../shared/fixtures/attestation/nvidia/spdm).
const reportNonceOffset = 4

// checkReport refuses a report that does not answer nonce: sent on, NRAS would refuse it too,
// with a reason further from the cause.
func checkReport(report []byte, nonce [32]byte) error {
	if len(report) < reportNonceOffset+len(nonce) || !bytes.Equal(report[reportNonceOffset:reportNonceOffset+len(nonce)], nonce[:]) {
		return fmt.Errorf("attestation report does not carry the nonce asked for")
	}
	return nil
}

// clip copies the first size bytes of buf, trusting size no further than buf's length.
func clip(buf []byte, size uint32) []byte {
	n := int(min(uint64(size), uint64(len(buf))))
	return append([]byte(nil), buf[:n]...)
}

// optional tolerates a failed telemetry read (NOT_SUPPORTED on MIG and vGPU devices; NO_DATA,
// NO_PERMISSION, UNKNOWN elsewhere), which leaves its field empty; only a GPU lost from the bus
// is left out.
func optional(what string, ret nvml.Return) error {
	if ret == nvml.ERROR_GPU_IS_LOST {
		return nvmlError(what, ret)
	}
	return nil
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
