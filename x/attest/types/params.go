package types

import "fmt"

// MaxEvidenceBytesLimit bounds the max_evidence_bytes param itself: evidence is verified in every
// validator's DeliverTx, so governance may not open the door to multi-megabyte payloads.
const MaxEvidenceBytesLimit = 1 << 20

// DefaultParams: challenges live ~10 minutes at 1 s blocks; records are valid for 24 h.
func DefaultParams() Params {
	return Params{
		ChallengeTtlBlocks:    600,
		MaxEvidenceBytes:      64 * 1024,
		MaxEvidenceAgeSeconds: 600,
		RecordValiditySeconds: 24 * 60 * 60,
	}
}

// Validate rejects params under which no evidence could ever be accepted, or any could.
func (p Params) Validate() error {
	if p.ChallengeTtlBlocks == 0 {
		return fmt.Errorf("challenge_ttl_blocks must be positive")
	}
	if p.MaxEvidenceBytes == 0 || p.MaxEvidenceBytes > MaxEvidenceBytesLimit {
		return fmt.Errorf("max_evidence_bytes must be in 1..%d, got %d", MaxEvidenceBytesLimit, p.MaxEvidenceBytes)
	}
	if p.MaxEvidenceAgeSeconds == 0 {
		return fmt.Errorf("max_evidence_age_seconds must be positive")
	}
	if p.RecordValiditySeconds == 0 {
		return fmt.Errorf("record_validity_seconds must be positive")
	}
	return nil
}
