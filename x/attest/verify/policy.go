package verify

import (
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"
)

// MaxGPUs bounds the number of GPU tokens in one piece of evidence. Each costs an ECDSA
// verification; eight is a full HGX board, so 64 leaves room without letting a single tx buy
// hundreds of signature checks.
const MaxGPUs = 64

// Values NRAS writes into GPU claims when all is well.
const (
	MeasResSuccess  = "success"
	DbgStatDisabled = "disabled"
)

// GPUPolicy is what every GPU token must satisfy. The zero value checks nothing beyond the
// signatures; use DefaultGPUPolicy and narrow it.
type GPUPolicy struct {
	// AllowedHWModels lists accepted hwmodel claims (exact match, e.g. "GH100"). Empty: any.
	AllowedHWModels []string
	// RequireMeasResSuccess requires measres == "success" (RIM measurements matched).
	RequireMeasResSuccess bool
	// RequireSecureBoot requires secboot == true.
	RequireSecureBoot bool
	// RequireDebugDisabled requires dbgstat == "disabled".
	RequireDebugDisabled bool
	// MinDriverVersion is the lowest accepted x-nvidia-gpu-driver-version, dotted numeric
	// (e.g. "550.90.07"). Empty: any.
	MinDriverVersion string
	// AllowedVBIOSVersions lists accepted x-nvidia-gpu-vbios-version values (hex digits compared
	// case-insensitively). Empty: any.
	AllowedVBIOSVersions []string
	// ExpectedGPUCount, when non-zero, is the exact number of GPUs the evidence must cover.
	ExpectedGPUCount int
}

// DefaultGPUPolicy requires everything NRAS reports on a healthy production GPU and leaves the
// model, driver and VBIOS lists open.
func DefaultGPUPolicy() GPUPolicy {
	return GPUPolicy{
		RequireMeasResSuccess: true,
		RequireSecureBoot:     true,
		RequireDebugDisabled:  true,
	}
}

// Validate rejects policies that cannot be applied.
func (p GPUPolicy) Validate() error {
	if p.MinDriverVersion != "" {
		if _, err := parseDottedVersion(p.MinDriverVersion); err != nil {
			return errorsmod.Wrapf(ErrInvalidArgument, "min driver version: %v", err)
		}
	}
	if p.ExpectedGPUCount < 0 || p.ExpectedGPUCount > MaxGPUs {
		return errorsmod.Wrapf(ErrInvalidArgument, "expected GPU count %d not in 0..%d", p.ExpectedGPUCount, MaxGPUs)
	}
	for _, m := range p.AllowedHWModels {
		if m == "" {
			return errorsmod.Wrap(ErrInvalidArgument, "empty allowed hwmodel")
		}
	}
	for _, v := range p.AllowedVBIOSVersions {
		if v == "" {
			return errorsmod.Wrap(ErrInvalidArgument, "empty allowed VBIOS version")
		}
	}
	return nil
}

// checkGPU applies the policy to one verified GPU token. The order is fixed so the same token
// always fails with the same error.
func (p GPUPolicy) checkGPU(g *GPUResult) error {
	if len(p.AllowedHWModels) > 0 && !containsExact(p.AllowedHWModels, g.HWModel) {
		return errorsmod.Wrapf(ErrGPUModelNotAllowed, "%s: hwmodel %q", g.ID, truncate(g.HWModel))
	}
	if p.RequireMeasResSuccess && g.MeasRes != MeasResSuccess {
		return errorsmod.Wrapf(ErrGPUMeasurementFailed, "%s: measres %q", g.ID, truncate(g.MeasRes))
	}
	if p.RequireSecureBoot && !g.SecureBoot {
		return errorsmod.Wrapf(ErrGPUSecureBootOff, "%s", g.ID)
	}
	if p.RequireDebugDisabled && g.DebugStatus != DbgStatDisabled {
		return errorsmod.Wrapf(ErrGPUDebugEnabled, "%s: dbgstat %q", g.ID, truncate(g.DebugStatus))
	}
	if p.MinDriverVersion != "" {
		if g.DriverVersion == "" {
			return errorsmod.Wrapf(ErrGPUDriverTooOld, "%s: no driver version", g.ID)
		}
		cmp, err := compareDottedVersions(g.DriverVersion, p.MinDriverVersion)
		if err != nil {
			return errorsmod.Wrapf(ErrClaimMalformed, "%s: driver version: %v", g.ID, err)
		}
		if cmp < 0 {
			return errorsmod.Wrapf(ErrGPUDriverTooOld, "%s: driver %s < %s", g.ID, truncate(g.DriverVersion), p.MinDriverVersion)
		}
	}
	if len(p.AllowedVBIOSVersions) > 0 && !containsFold(p.AllowedVBIOSVersions, g.VBIOSVersion) {
		return errorsmod.Wrapf(ErrGPUVBIOSNotAllowed, "%s: VBIOS %q", g.ID, truncate(g.VBIOSVersion))
	}
	return nil
}

func containsExact(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// containsFold compares VBIOS versions ignoring case: NRAS prints hex digits in upper case, RIMs
// and people often use lower case, and both denote the same firmware.
func containsFold(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Bounds for dotted versions: enough for NVIDIA's a.b.c driver numbers, small enough that parsing
// attacker input stays trivial and no component overflows uint64.
const (
	maxVersionParts     = 8
	maxVersionPartDigit = 9
)

// parseDottedVersion parses "595.71.05" into [595 71 5]. Only ASCII digits and dots are allowed.
func parseDottedVersion(v string) ([]uint64, error) {
	if v == "" {
		return nil, fmt.Errorf("empty version")
	}
	parts := strings.Split(v, ".")
	if len(parts) > maxVersionParts {
		return nil, fmt.Errorf("version %q has more than %d parts", truncate(v), maxVersionParts)
	}
	out := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > maxVersionPartDigit {
			return nil, fmt.Errorf("version %q: bad component %d", truncate(v), i)
		}
		var n uint64
		for j := 0; j < len(p); j++ {
			c := p[j]
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("version %q: non-digit in component %d", truncate(v), i)
			}
			n = n*10 + uint64(c-'0')
		}
		out[i] = n
	}
	return out, nil
}

// compareDottedVersions compares numerically component by component; missing trailing
// components count as zero, so 550.90 == 550.90.0.
func compareDottedVersions(a, b string) (int, error) {
	va, err := parseDottedVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseDottedVersion(b)
	if err != nil {
		return 0, err
	}
	n := len(va)
	if len(vb) > n {
		n = len(vb)
	}
	for i := 0; i < n; i++ {
		var x, y uint64
		if i < len(va) {
			x = va[i]
		}
		if i < len(vb) {
			y = vb[i]
		}
		switch {
		case x < y:
			return -1, nil
		case x > y:
			return 1, nil
		}
	}
	return 0, nil
}
