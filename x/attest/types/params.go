package types

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-sev-guest/verify/trust"

	"github.com/computed-network/computed/x/attest/verify"
)

// Bounds on params, so that governance cannot make every submission parse megabytes of keys.
const (
	// MaxEvidenceBytesLimit bounds the max_evidence_bytes param itself: evidence is verified in
	// every validator's DeliverTx, so governance may not open the door to multi-megabyte payloads.
	MaxEvidenceBytesLimit = 1 << 20
	MaxNRASKeys           = 64
	MaxAMDRootBundles     = 16
	MaxSKUPolicies        = 64
	MaxKeyMaterialBytes   = 16 * 1024
	MaxSNPMeasurements    = 64
	// MaxChallengeTTLBlocks bounds challenge_ttl_blocks (a day at 1 s blocks): a nonce must not
	// stay usable for ever.
	MaxChallengeTTLBlocks = 86_400
	maxIssuerLen          = 256
	maxListEntryLen       = 64
	// DefaultNRASIssuer is the iss of production NRAS tokens.
	DefaultNRASIssuer = verify.NRASIssuer
	// DefaultSKU is the SKU the default policy knows.
	DefaultSKU = "H100-SXM-80GB"
)

var skuPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// DefaultParams: challenges live ~10 minutes at 1 s blocks; records are valid for 24 h. The NRAS
// key is the development trust root (see dev_trust.go); production genesis must drop it. NRAS's
// production signing keys are trusted through the CA that certifies them (nvidia_ca.go). The
// AMD roots are AMD's published Milan and Genoa ARK/ASK and ARK/ASVK bundles, as go-sev-guest
// embeds them; they are copied into genesis, so later library upgrades cannot change what a
// running chain trusts.
func DefaultParams() Params {
	return Params{
		ChallengeTtlBlocks:    600,
		MaxEvidenceBytes:      64 * 1024,
		MaxEvidenceAgeSeconds: 600,
		RecordValiditySeconds: 24 * 60 * 60,
		NrasIssuer:            DefaultNRASIssuer,
		// Development trust root; production genesis must drop it.
		NrasKeys:       []NRASKey{{Kid: DevNRASKid, Key: DevNRASJWK}},
		NrasSigningCas: []string{strings.TrimSpace(NVIDIANRASIntermediate004)},
		AmdRoots: []AMDRootBundle{
			{ProductLine: "Milan", Pem: string(trust.AskArkMilanVcekBytes)},
			{ProductLine: "Milan", Pem: string(trust.AskArkMilanVlekBytes)},
			{ProductLine: "Genoa", Pem: string(trust.AskArkGenoaVcekBytes)},
			{ProductLine: "Genoa", Pem: string(trust.AskArkGenoaVlekBytes)},
		},
		SkuPolicies: []SKUPolicy{{
			Sku:     DefaultSKU,
			VramGib: 80,
			// NRAS claims format 2.0 names the die; 3.0 adds the chip's revision and boot ROM.
			AllowedHwmodels:        []string{"GH100", "GH100 A01 GSP BROM"},
			MinDriverVersion:       "550.54.14",
			RequireMeasresSuccess:  true,
			RequireSecboot:         true,
			RequireDbgstatDisabled: true,
		}},
		SnpPolicy:          SNPPolicy{},
		ClockLeewaySeconds: 60,
	}
}

// Validate rejects params under which no evidence could ever be accepted, or any could, and
// every trust root that does not parse: a bad key must fail the proposal, not every submission.
func (p Params) Validate() error {
	if p.ChallengeTtlBlocks == 0 || p.ChallengeTtlBlocks > MaxChallengeTTLBlocks {
		return fmt.Errorf("challenge_ttl_blocks must be in 1..%d, got %d", MaxChallengeTTLBlocks, p.ChallengeTtlBlocks)
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
	// Bounded so that valid_until = block time + validity cannot overflow int64 seconds.
	if p.RecordValiditySeconds > 10*365*24*60*60 {
		return fmt.Errorf("record_validity_seconds must be at most ten years")
	}
	if p.MaxEvidenceAgeSeconds > 10*365*24*60*60 {
		return fmt.Errorf("max_evidence_age_seconds must be at most ten years")
	}
	if p.ClockLeewaySeconds > uint64(verify.MaxLeeway/time.Second) {
		return fmt.Errorf("clock_leeway_seconds must be at most %d", uint64(verify.MaxLeeway/time.Second))
	}
	if p.NrasIssuer == "" || len(p.NrasIssuer) > maxIssuerLen {
		return fmt.Errorf("nras_issuer must be 1..%d bytes", maxIssuerLen)
	}
	if _, err := p.NRASKeySet(); err != nil {
		return err
	}
	if _, err := p.SigningCAs(); err != nil {
		return err
	}
	if len(p.NrasKeys) == 0 && len(p.NrasSigningCas) == 0 {
		return fmt.Errorf("nras_keys and nras_signing_cas are both empty: no NRAS token could verify")
	}
	if _, err := p.SNPRoots(); err != nil {
		return err
	}
	if err := p.validateSKUPolicies(); err != nil {
		return err
	}
	if _, err := p.SnpPolicy.ToVerify(); err != nil {
		return err
	}
	return nil
}

// NRASKeySet parses the NRAS keys trusted as they are (possibly none). Kids must be unique.
func (p Params) NRASKeySet() (verify.NRASKeySet, error) {
	if len(p.NrasKeys) > MaxNRASKeys {
		return nil, fmt.Errorf("nras_keys must hold at most %d keys, got %d", MaxNRASKeys, len(p.NrasKeys))
	}
	if len(p.NrasKeys) == 0 {
		return verify.NRASKeySet{}, nil
	}
	set := make(verify.NRASKeySet, len(p.NrasKeys))
	for i, k := range p.NrasKeys {
		if _, dup := set[k.Kid]; dup {
			return nil, fmt.Errorf("nras_keys[%d]: duplicate kid %q", i, k.Kid)
		}
		pub, err := ParseNRASKey(k)
		if err != nil {
			return nil, fmt.Errorf("nras_keys[%d]: %w", i, err)
		}
		set[k.Kid] = pub
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	return set, nil
}

// SigningCAs parses the CAs that certify NRAS signing keys (possibly none).
func (p Params) SigningCAs() (verify.SigningCAs, error) {
	if len(p.NrasSigningCas) > verify.MaxSigningCAs {
		return nil, fmt.Errorf("nras_signing_cas must hold at most %d certificates, got %d", verify.MaxSigningCAs, len(p.NrasSigningCas))
	}
	cas := make(verify.SigningCAs, len(p.NrasSigningCas))
	for i, pemText := range p.NrasSigningCas {
		ca, err := verify.ParseSigningCA(pemText)
		if err != nil {
			return nil, fmt.Errorf("nras_signing_cas[%d]: %w", i, err)
		}
		cas[i] = ca
	}
	return cas, nil
}

// SNPRoots parses the trusted AMD root bundles.
func (p Params) SNPRoots() (verify.SNPRoots, error) {
	if len(p.AmdRoots) == 0 || len(p.AmdRoots) > MaxAMDRootBundles {
		return nil, fmt.Errorf("amd_roots must hold 1..%d bundles, got %d", MaxAMDRootBundles, len(p.AmdRoots))
	}
	roots := verify.SNPRoots{}
	seen := make(map[string]bool, len(p.AmdRoots))
	for i, b := range p.AmdRoots {
		if len(b.Pem) > MaxKeyMaterialBytes {
			return nil, fmt.Errorf("amd_roots[%d]: bundle larger than %d bytes", i, MaxKeyMaterialBytes)
		}
		if seen[b.ProductLine+"\x00"+b.Pem] {
			return nil, fmt.Errorf("amd_roots[%d]: duplicate bundle", i)
		}
		seen[b.ProductLine+"\x00"+b.Pem] = true
		if err := roots.AddPEM(b.ProductLine, []byte(b.Pem)); err != nil {
			return nil, fmt.Errorf("amd_roots[%d]: %w", i, err)
		}
	}
	if err := roots.Validate(); err != nil {
		return nil, err
	}
	return roots, nil
}

func (p Params) validateSKUPolicies() error {
	if len(p.SkuPolicies) > MaxSKUPolicies {
		return fmt.Errorf("sku_policies holds more than %d entries", MaxSKUPolicies)
	}
	seen := make(map[string]bool, len(p.SkuPolicies))
	for i, s := range p.SkuPolicies {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("sku_policies[%d]: %w", i, err)
		}
		if seen[s.Sku] {
			return fmt.Errorf("sku_policies[%d]: duplicate sku %q", i, s.Sku)
		}
		seen[s.Sku] = true
	}
	return nil
}

// SKUPolicyFor returns the policy of sku, if governance defined one.
func (p Params) SKUPolicyFor(sku string) (SKUPolicy, bool) {
	for _, s := range p.SkuPolicies {
		if s.Sku == sku {
			return s, true
		}
	}
	return SKUPolicy{}, false
}

// Validate checks one SKU policy.
func (s SKUPolicy) Validate() error {
	if !skuPattern.MatchString(s.Sku) {
		return fmt.Errorf("sku %q must be 1..64 of [A-Za-z0-9._-], starting alphanumeric", s.Sku)
	}
	if s.VramGib == 0 {
		return fmt.Errorf("sku %s: vram_gib must be positive", s.Sku)
	}
	// Without a hwmodel list any NVIDIA GPU could be claimed as any SKU.
	if len(s.AllowedHwmodels) == 0 {
		return fmt.Errorf("sku %s: allowed_hwmodels must not be empty", s.Sku)
	}
	for _, list := range [][]string{s.AllowedHwmodels, s.AllowedVbiosVersions} {
		if err := checkList(list); err != nil {
			return fmt.Errorf("sku %s: %w", s.Sku, err)
		}
	}
	if err := s.GPUPolicy().Validate(); err != nil {
		return fmt.Errorf("sku %s: %w", s.Sku, err)
	}
	return nil
}

func checkList(list []string) error {
	seen := make(map[string]bool, len(list))
	for _, v := range list {
		if v == "" || len(v) > maxListEntryLen {
			return fmt.Errorf("list entry %q must be 1..%d bytes", v, maxListEntryLen)
		}
		if seen[v] {
			return fmt.Errorf("duplicate list entry %q", v)
		}
		seen[v] = true
	}
	return nil
}

// GPUPolicy is the verifier policy every GPU claimed as this SKU must satisfy.
func (s SKUPolicy) GPUPolicy() verify.GPUPolicy {
	return verify.GPUPolicy{
		AllowedHWModels:       s.AllowedHwmodels,
		RequireMeasResSuccess: s.RequireMeasresSuccess,
		RequireSecureBoot:     s.RequireSecboot,
		RequireDebugDisabled:  s.RequireDbgstatDisabled,
		MinDriverVersion:      s.MinDriverVersion,
		AllowedVBIOSVersions:  s.AllowedVbiosVersions,
	}
}

// ToVerify converts the SEV-SNP policy to the verifier's form.
func (s SNPPolicy) ToVerify() (verify.SNPPolicy, error) {
	for _, v := range []uint32{s.MinTcbBootloader, s.MinTcbTee, s.MinTcbSnp, s.MinTcbMicrocode} {
		if v > 255 {
			return verify.SNPPolicy{}, fmt.Errorf("snp_policy: TCB parts are bytes, got %d", v)
		}
	}
	if len(s.AllowedMeasurements) > MaxSNPMeasurements {
		return verify.SNPPolicy{}, fmt.Errorf("snp_policy: more than %d allowed measurements", MaxSNPMeasurements)
	}
	out := verify.SNPPolicy{
		MinTCB: verify.TCB{
			BootLoader: uint8(s.MinTcbBootloader), TEE: uint8(s.MinTcbTee),
			SNP: uint8(s.MinTcbSnp), Microcode: uint8(s.MinTcbMicrocode),
		},
		AllowDebug:                s.AllowDebug,
		AllowMigrationAgent:       s.AllowMigrationAgent,
		PermitProvisionalFirmware: s.PermitProvisionalFirmware,
	}
	seen := make(map[string]bool, len(s.AllowedMeasurements))
	for i, m := range s.AllowedMeasurements {
		b, err := hex.DecodeString(m)
		if err != nil || len(b) != verify.SNPMeasurementSize || hex.EncodeToString(b) != m {
			return verify.SNPPolicy{}, fmt.Errorf("snp_policy: allowed_measurements[%d] must be %d lower-case hex digits", i, 2*verify.SNPMeasurementSize)
		}
		if seen[m] {
			return verify.SNPPolicy{}, fmt.Errorf("snp_policy: duplicate measurement %s", m)
		}
		seen[m] = true
		out.AllowedMeasurements = append(out.AllowedMeasurements, b)
	}
	if err := out.Validate(); err != nil {
		return verify.SNPPolicy{}, fmt.Errorf("snp_policy: %w", err)
	}
	return out, nil
}
