// Package gpu inventories a provider's GPUs and fetches their confidential-computing attestation
// evidence. The sidecar advertises what Devices reports (SKU, VRAM, CC) on chain, so the reading
// code is shared between the real NVML backend and the mock used in tests and development.
package gpu

import (
	"context"
	"errors"
)

// Device is one GPU as the market sees it.
type Device struct {
	Index int
	UUID  string
	// Name is what NVML reports ("NVIDIA H100 80GB HBM3"); SKU is the market's normalised form
	// of it ("H100-SXM-80GB"), see SKU.
	Name string
	SKU  string
	// MemoryMiB is the usable memory NVML reports; VRAMGiB is the marketed size the SKU carries.
	MemoryMiB      uint64
	VRAMGiB        uint32
	UtilizationPct uint32
	TemperatureC   uint32
	DriverVersion  string
	VBIOSVersion   string
	// CCEnabled is true only when confidential computing is on in production mode (not devtools),
	// i.e. when the GPU can produce attestation evidence a verifier will accept.
	CCEnabled bool
	// CCReady is false when CC is on and the GPUs do not accept work yet (their ready state is
	// unset: nvidia-smi conf-compute -srs 1 sets it once they are attested); a lease's workload
	// would fail on them.
	CCReady bool
}

// Backend is a source of GPU inventory and attestation evidence.
type Backend interface {
	// Name identifies the backend ("nvml", "mock").
	Name() string
	// Devices lists the GPUs in index order.
	Devices(ctx context.Context) ([]Device, error)
	// AttestationReport returns the GPU's signed attestation report over nonce and the
	// certificate chain that verifies it. Errors wrap ErrNotSupported when CC is off.
	AttestationReport(ctx context.Context, index int, nonce [32]byte) (report, certChain []byte, err error)
	// Close releases the backend; later calls fail.
	Close() error
}

var (
	// ErrNoNVML is wrapped when there is no NVIDIA library on this machine. Callers treat it as
	// "no GPUs here", not as a fault; a library whose driver is not loaded or does not match is.
	ErrNoNVML = errors.New("NVML unavailable")
	// ErrNotSupported is wrapped when the GPU or driver cannot do what was asked (attestation
	// with confidential computing off, a driver too old to know the call).
	ErrNotSupported = errors.New("not supported")
	// ErrUnreadable is wrapped by Devices' error when some GPUs could not be read (one lost
	// from the bus, say): the others are returned with it, usable.
	ErrUnreadable = errors.New("GPUs unreadable")
	// ErrClosed is returned by a backend used after Close.
	ErrClosed = errors.New("gpu backend closed")
)

// Readable returns Devices' result when its only failure is that some GPUs were unreadable
// (ErrUnreadable): the others serve. Any other error is returned.
func Readable(devices []Device, err error) ([]Device, error) {
	if err != nil && !errors.Is(err, ErrUnreadable) {
		return nil, err
	}
	return devices, nil
}
