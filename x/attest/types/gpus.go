package types

import (
	"crypto/sha256"
	"encoding/binary"

	errorsmod "cosmossdk.io/errors"

	"github.com/computed-network/computed/x/attest/verify"
)

// maxGPUUUIDLen bounds a claimed GPU UUID ("GPU-" and a 36-character UUID is 40).
const maxGPUUUIDLen = 64

// ValidateGPUClaims checks the shape of claimed GPUs: 1..verify.MaxGPUs entries, each with a
// SKU, a positive VRAM size and a unique, non-empty UUID.
func ValidateGPUClaims(gpus []ClaimedGPU) error {
	if len(gpus) == 0 || len(gpus) > verify.MaxGPUs {
		return errorsmod.Wrapf(ErrInvalidGPUClaim, "claim 1..%d GPUs, got %d", verify.MaxGPUs, len(gpus))
	}
	seen := make(map[string]bool, len(gpus))
	for i, g := range gpus {
		switch {
		case !skuPattern.MatchString(g.Sku):
			return errorsmod.Wrapf(ErrInvalidGPUClaim, "gpu %d: sku %q", i, g.Sku)
		case g.VramGib == 0:
			return errorsmod.Wrapf(ErrInvalidGPUClaim, "gpu %d: vram_gib is zero", i)
		case g.Uuid == "" || len(g.Uuid) > maxGPUUUIDLen:
			return errorsmod.Wrapf(ErrInvalidGPUClaim, "gpu %d: uuid must be 1..%d bytes", i, maxGPUUUIDLen)
		case seen[g.Uuid]:
			return errorsmod.Wrapf(ErrInvalidGPUClaim, "gpu %d: duplicate uuid %q", i, g.Uuid)
		}
		seen[g.Uuid] = true
	}
	return nil
}

// GPUClaimsDigest is what the second half of an SEV-SNP REPORT_DATA must hold when SNP evidence
// claims GPUs: the report's first 32 bytes bind the challenge, the last 32 bind the claimed GPU
// list, so the measured guest itself vouches for what it says it has. It is SHA-256 over a
// domain tag and, per GPU in order, the length-prefixed SKU, VRAM (u32 big-endian) and
// length-prefixed UUID.
func GPUClaimsDigest(gpus []ClaimedGPU) [32]byte {
	h := sha256.New()
	h.Write([]byte("computed/attest/snp-gpu-claims/v1"))
	var b [4]byte
	put := func(s string) {
		binary.BigEndian.PutUint32(b[:], uint32(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	for _, g := range gpus {
		put(g.Sku)
		binary.BigEndian.PutUint32(b[:], g.VramGib)
		h.Write(b[:])
		put(g.Uuid)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
