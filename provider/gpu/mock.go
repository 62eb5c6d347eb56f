package gpu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

// MockConfig describes the identical GPUs a mock node has.
type MockConfig struct {
	Count int
	// Name, MemoryMiB and Driver default to an H100 SXM on driver 550.54.15 when empty.
	Name      string
	MemoryMiB uint64
	Driver    string
	// CC turns confidential computing on (production mode); PPCIe turns on Hopper's
	// protected-PCIe multi-GPU mode instead, and CCNotReady leaves the GPUs' ready state unset.
	CC, PPCIe, CCNotReady bool
	// MIG puts the GPUs with these indices in MIG mode.
	MIG            []int
	UtilizationPct uint32
}

// H100Node is an 8× H100 SXM node with confidential computing on.
func H100Node() MockConfig {
	return MockConfig{Count: 8, Name: "NVIDIA H100 80GB HBM3", MemoryMiB: 81559, Driver: "550.54.15", CC: true}
}

// NewMock returns a backend over go-nvml's mock NVML configured from cfg, read by the same code
// as NewNVML. It is for tests and development only: its "attestation reports" are not signed by
// anything (see mockReport), and no verifier trusts them.
func NewMock(cfg MockConfig) Backend {
	b, err := openNVML("mock", newMockNVML(cfg))
	if err != nil {
		// The mock's Init always succeeds; keep the error rather than panic if that changes.
		return failedBackend{name: "mock", err: err}
	}
	return b
}

// Mock report layout: a 4-byte header and the nonce where a real report's signed request holds
// them (reportNonceOffset), then magic, the device's UUID and a digest binding the nonce to it.
const (
	mockReportHeader = "CMPT"
	mockReportMagic  = "COMPUTED-MOCK-GPU-REPORT-V1\x00"
)

// mockReport is deterministic in (uuid, nonce) so tests and the dev network can check that a
// report answers the nonce it was asked for.
func mockReport(uuid string, nonce [32]byte) []byte {
	h := sha256.New()
	h.Write([]byte(mockReportMagic))
	h.Write([]byte(uuid))
	h.Write(nonce[:])
	out := append([]byte(mockReportHeader), nonce[:]...)
	out = append(out, mockReportMagic...)
	out = append(out, uuid...)
	return h.Sum(out)
}

func mockCertChain(uuid string) []byte {
	return []byte("COMPUTED MOCK GPU ATTESTATION CERTIFICATE CHAIN (development only, trusted by nothing) for " + uuid)
}

// mockUUID gives each mock GPU a stable UUID in NVML's "GPU-xxxxxxxx-xxxx-..." form.
func mockUUID(index int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("computed mock gpu %d", index)))
	x := hex.EncodeToString(sum[:16])
	return fmt.Sprintf("GPU-%s-%s-%s-%s-%s", x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}

func newMockNVML(cfg MockConfig) *mock.Interface {
	if cfg.Name == "" {
		cfg.Name = "NVIDIA H100 80GB HBM3"
	}
	if cfg.MemoryMiB == 0 {
		cfg.MemoryMiB = 81559
	}
	if cfg.Driver == "" {
		cfg.Driver = "550.54.15"
	}
	count := max(cfg.Count, 0)
	devices := make([]*mock.Device, count)
	for i := range devices {
		devices[i] = newMockDevice(cfg, i)
	}
	ccState := nvml.ConfComputeSystemState{
		Environment: nvml.CC_SYSTEM_ENVIRONMENT_PROD,
		CcFeature:   nvml.CC_SYSTEM_FEATURE_DISABLED,
	}
	if cfg.CC {
		ccState.CcFeature = nvml.CC_SYSTEM_FEATURE_ENABLED
	}
	settings := nvml.SystemConfComputeSettings{Environment: ccState.Environment, CcFeature: ccState.CcFeature}
	if cfg.PPCIe {
		settings.MultiGpuMode = nvml.CC_SYSTEM_MULTIGPU_PROTECTED_PCIE
	}
	ready := uint32(nvml.CC_ACCEPTING_CLIENT_REQUESTS_TRUE)
	if cfg.CCNotReady {
		ready = nvml.CC_ACCEPTING_CLIENT_REQUESTS_FALSE
	}
	ext := &mock.ExtendedInterface{LookupSymbolFunc: func(string) error { return nil }}
	return &mock.Interface{
		InitFunc:       func() nvml.Return { return nvml.SUCCESS },
		ShutdownFunc:   func() nvml.Return { return nvml.SUCCESS },
		ExtensionsFunc: func() nvml.ExtendedInterface { return ext },
		ErrorStringFunc: func(r nvml.Return) string {
			return r.Error()
		},
		DeviceGetCountFunc: func() (int, nvml.Return) { return count, nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			if i < 0 || i >= count {
				return nil, nvml.ERROR_INVALID_ARGUMENT
			}
			return devices[i], nvml.SUCCESS
		},
		SystemGetDriverVersionFunc:    func() (string, nvml.Return) { return cfg.Driver, nvml.SUCCESS },
		SystemGetConfComputeStateFunc: func() (nvml.ConfComputeSystemState, nvml.Return) { return ccState, nvml.SUCCESS },
		SystemGetConfComputeSettingsFunc: func() (nvml.SystemConfComputeSettings, nvml.Return) {
			return settings, nvml.SUCCESS
		},
		SystemGetConfComputeGpusReadyStateFunc: func() (uint32, nvml.Return) { return ready, nvml.SUCCESS },
	}
}

func newMockDevice(cfg MockConfig, index int) *mock.Device {
	uuid := mockUUID(index)
	// Attestation calls exist only with CC on, as on a real GPU.
	ccOnly := func() nvml.Return {
		if cfg.CC || cfg.PPCIe {
			return nvml.SUCCESS
		}
		return nvml.ERROR_NOT_SUPPORTED
	}
	mig := nvml.DEVICE_MIG_DISABLE
	if slices.Contains(cfg.MIG, index) {
		mig = nvml.DEVICE_MIG_ENABLE
	}
	return &mock.Device{
		GetMigModeFunc: func() (int, int, nvml.Return) { return mig, mig, nvml.SUCCESS },
		GetNameFunc:    func() (string, nvml.Return) { return cfg.Name, nvml.SUCCESS },
		GetUUIDFunc:    func() (string, nvml.Return) { return uuid, nvml.SUCCESS },
		GetMemoryInfoFunc: func() (nvml.Memory, nvml.Return) {
			total := cfg.MemoryMiB << 20
			used := total / 100 * uint64(min(cfg.UtilizationPct, 100))
			return nvml.Memory{Total: total, Used: used, Free: total - used}, nvml.SUCCESS
		},
		GetUtilizationRatesFunc: func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: cfg.UtilizationPct, Memory: cfg.UtilizationPct}, nvml.SUCCESS
		},
		GetTemperatureFunc: func(nvml.TemperatureSensors) (uint32, nvml.Return) {
			return 30 + uint32(index), nvml.SUCCESS
		},
		GetVbiosVersionFunc: func() (string, nvml.Return) { return "96.00.74.00.01", nvml.SUCCESS },
		GetConfComputeGpuAttestationReportFunc: func(r *nvml.ConfComputeGpuAttestationReport) nvml.Return {
			if ret := ccOnly(); ret != nvml.SUCCESS {
				return ret
			}
			rep := mockReport(uuid, r.Nonce)
			r.AttestationReportSize = uint32(copy(r.AttestationReport[:], rep))
			return nvml.SUCCESS
		},
		GetConfComputeGpuCertificateFunc: func() (nvml.ConfComputeGpuCertificate, nvml.Return) {
			var c nvml.ConfComputeGpuCertificate
			if ret := ccOnly(); ret != nvml.SUCCESS {
				return c, ret
			}
			c.AttestationCertChainSize = uint32(copy(c.AttestationCertChain[:], mockCertChain(uuid)))
			return c, nvml.SUCCESS
		},
	}
}

// failedBackend answers every call with the error that stopped it from opening.
type failedBackend struct {
	name string
	err  error
}

func (f failedBackend) Name() string                              { return f.name }
func (f failedBackend) Devices(context.Context) ([]Device, error) { return nil, f.err }
func (f failedBackend) Close() error                              { return nil }
func (f failedBackend) AttestationReport(context.Context, int, [32]byte) ([]byte, []byte, error) {
	return nil, nil, f.err
}
