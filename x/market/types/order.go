package types

import (
	"fmt"
	"regexp"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Bounds on free-form order fields: they are stored on chain and echoed in events.
const (
	// MaxSLAWindowBlocks bounds an SLA window (one day at 1 s blocks).
	MaxSLAWindowBlocks = 86_400
	MaxSKULength       = 64
	MaxGPUCount        = 64
	MaxDetailSize      = 256
	// MaxDurationBlocks bounds a lease's duration (ten years of 1 s blocks): its end height is
	// the start plus the duration, which must not wrap int64 into the past.
	MaxDurationBlocks = 10 * 365 * 24 * 60 * 60
	// MaxAmountBits bounds prices and deposits to amounts below 2^128, far above any token's
	// supply, so the arithmetic on them (price times blocks, price averages, summed rates) stays
	// well inside sdkmath.Int's 256 bits, whose overflow panics.
	MaxAmountBits = 128
)

var (
	skuPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	metroPattern  = regexp.MustCompile(`^[A-Z]{3}$`)
	hex64Pattern  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	ociDigestExpr = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

func invalid(format string, args ...any) error {
	return errorsmod.Wrapf(ErrInvalidOrder, format, args...)
}

// ValidateStateless checks the parts of an order that need no chain state; the msg server checks the rest
// (denoms allowed by escrow, windows and replicas within params).
func (m *MsgCreateOrder) ValidateStateless() error {
	r := m.Requirements
	switch {
	case len(r.GpuSku) == 0 || len(r.GpuSku) > MaxSKULength || !skuPattern.MatchString(r.GpuSku):
		return invalid("gpu_sku %q must be 1-%d characters of letters, digits, '.', '_' or '-'", r.GpuSku, MaxSKULength)
	case r.GpuCount == 0 || r.GpuCount > MaxGPUCount:
		return invalid("gpu_count must be in 1..%d, got %d", MaxGPUCount, r.GpuCount)
	case !metroPattern.MatchString(r.Metro):
		return invalid("metro %q must be a three-letter upper-case code such as FRA", r.Metro)
	case r.MinReputationBps > 10_000:
		return invalid("min_reputation_bps must be at most 10000, got %d", r.MinReputationBps)
	}
	seen := map[EvidenceType]bool{}
	for _, e := range r.Evidence {
		if _, known := EvidenceType_name[int32(e)]; !known || e == EVIDENCE_TYPE_UNSPECIFIED {
			return invalid("unknown evidence type %d", e)
		}
		if seen[e] {
			return invalid("evidence type %s listed twice", e)
		}
		seen[e] = true
	}
	if r.MinProviderBond.Denom != "" || (!r.MinProviderBond.Amount.IsNil() && !r.MinProviderBond.Amount.IsZero()) {
		if err := r.MinProviderBond.Validate(); err != nil {
			return invalid("min_provider_bond: %s", err)
		}
	}
	if err := ValidateCoin(m.MaxPricePerBlock); err != nil {
		return invalid("max_price_per_block: %s", err)
	}
	if err := ValidateCoin(m.Deposit); err != nil {
		return invalid("deposit: %s", err)
	}
	if m.DurationBlocks > MaxDurationBlocks {
		return invalid("duration_blocks must be at most %d, got %d", MaxDurationBlocks, m.DurationBlocks)
	}
	if m.Deposit.Denom != m.MaxPricePerBlock.Denom {
		return errorsmod.Wrapf(ErrDenomMismatch, "deposit is in %s but the price is in %s", m.Deposit.Denom, m.MaxPricePerBlock.Denom)
	}
	if m.Policy != ACCEPTANCE_POLICY_AUTO && m.Policy != ACCEPTANCE_POLICY_MANUAL {
		return invalid("policy must be AUTO or MANUAL")
	}
	s := m.Sla
	switch {
	case s.AvailabilityBps > 10_000:
		return invalid("sla availability_bps must be at most 10000, got %d", s.AvailabilityBps)
	case s.PenaltyBps > 10_000:
		return invalid("sla penalty_bps must be at most 10000, got %d", s.PenaltyBps)
	case (s.P95LatencyMs > 0 || s.AvailabilityBps > 0) && s.WindowBlocks == 0:
		return invalid("sla window_blocks must be positive when latency or availability is set")
	case s.WindowBlocks > MaxSLAWindowBlocks:
		// A window's penalty scales with its length; an unbounded one could take a whole bond
		// for a single breach.
		return invalid("sla window_blocks must be at most %d, got %d", MaxSLAWindowBlocks, s.WindowBlocks)
	}
	w := m.Workload
	switch {
	case (w.OciDigest == "") == (w.WasmHash == ""):
		return invalid("workload needs exactly one of oci_digest or wasm_hash")
	case w.OciDigest != "" && !ociDigestExpr.MatchString(w.OciDigest):
		return invalid("oci_digest %q must be sha256:<64 lower-case hex>", w.OciDigest)
	case w.WasmHash != "" && !hex64Pattern.MatchString(w.WasmHash):
		return invalid("wasm_hash must be 64 lower-case hex characters")
	case w.InputCommitment != "" && !hex64Pattern.MatchString(w.InputCommitment):
		return invalid("input_commitment must be 64 lower-case hex characters")
	case m.Replicas == 0:
		return invalid("replicas must be at least 1")
	case replicated(m.Replicas, w) && m.DurationBlocks > 0:
		// Its leases end when the result is resolved (x/sla), which pays the replicas: ended
		// sooner by a duration, the deposit went back to the buyer and the replicas unpaid.
		return invalid("a replicated job's leases end when its result is resolved: duration_blocks must be 0, got %d", m.DurationBlocks)
	}
	return nil
}

// Replicated reports whether the order is a replicated job: a deterministic WebAssembly
// workload run by several providers, whose results are compared by commit-reveal (x/sla).
// Containers are not deterministic, so several replicas of one are independent leases.
func (o Order) Replicated() bool { return replicated(o.Replicas, o.Workload) }

func replicated(replicas uint32, w Workload) bool { return replicas > 1 && w.WasmHash != "" }

// ValidateCoin checks a coin is well-formed, positive and below 2^MaxAmountBits.
func ValidateCoin(c sdk.Coin) error {
	if c.Amount.IsNil() {
		return fmt.Errorf("missing amount")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if !c.Amount.IsPositive() {
		return fmt.Errorf("must be positive, got %s", c)
	}
	if c.Amount.BigIntMut().BitLen() > MaxAmountBits {
		return fmt.Errorf("must be below 2^%d, got %s", MaxAmountBits, c)
	}
	return nil
}
