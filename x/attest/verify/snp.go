package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"time"

	errorsmod "cosmossdk.io/errors"
	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/validate"
	sevverify "github.com/google/go-sev-guest/verify"
)

// Sizes fixed by the SEV-SNP ABI.
const (
	SNPReportSize      = abi.ReportSize // 1184
	SNPReportDataSize  = abi.ReportDataSize
	SNPMeasurementSize = abi.MeasurementSize
	// maxSNPCertSize bounds the endorsement certificate; AMD's VCEKs are about 1.4 KB.
	maxSNPCertSize = 8 * 1024
)

// SNPEvidence is what a prover submits for SEV-SNP, encoded as the JSON object
//
//	{"report": "<standard base64 of the 1184-byte ATTESTATION_REPORT>",
//	 "cert":   "<standard base64 of the DER VCEK or VLEK certificate>"}
//
// with exactly these two members. The certificate is whichever endorsement key the report's
// SIGNING_KEY field names. ASK/ARK are not carried: they come from the trusted roots.
type SNPEvidence struct {
	Report []byte
	Cert   []byte
}

// Marshal encodes the envelope. The output is canonical: ParseSNPEvidence(e.Marshal()) == e, and
// different evidence never encodes to the same bytes.
func (e SNPEvidence) Marshal() []byte {
	out, _ := json.Marshal(struct {
		Report string `json:"report"`
		Cert   string `json:"cert"`
	}{base64.StdEncoding.EncodeToString(e.Report), base64.StdEncoding.EncodeToString(e.Cert)})
	return out
}

// ParseSNPEvidence decodes the envelope strictly: exactly the two members, strict base64, a report
// of exactly SNPReportSize bytes.
func ParseSNPEvidence(data []byte) (*SNPEvidence, error) {
	obj, err := decodeObject(data)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPEnvelopeMalformed, "%v", err)
	}
	if len(obj) != 2 {
		return nil, errorsmod.Wrapf(ErrSNPEnvelopeMalformed, "want exactly report and cert, got %d members", len(obj))
	}
	field := func(name string) ([]byte, error) {
		s, present, err := getString(obj, name)
		if err != nil || !present {
			return nil, errorsmod.Wrapf(ErrSNPEnvelopeMalformed, "%s missing or not a string", name)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return nil, errorsmod.Wrapf(ErrSNPEnvelopeMalformed, "%s: %v", name, err)
		}
		return b, nil
	}
	report, err := field("report")
	if err != nil {
		return nil, err
	}
	cert, err := field("cert")
	if err != nil {
		return nil, err
	}
	if len(report) != SNPReportSize {
		return nil, errorsmod.Wrapf(ErrSNPReportMalformed, "report is %d bytes, want %d", len(report), SNPReportSize)
	}
	if len(cert) == 0 || len(cert) > maxSNPCertSize {
		return nil, errorsmod.Wrapf(ErrSNPCertMalformed, "certificate is %d bytes", len(cert))
	}
	return &SNPEvidence{Report: report, Cert: cert}, nil
}

// TCB is the part of an SEV-SNP TCB_VERSION that policies reason about (Milan/Genoa layout).
type TCB struct {
	BootLoader uint8
	TEE        uint8
	SNP        uint8
	Microcode  uint8
}

func tcbFromVersion(v uint64) TCB {
	p := kds.DecomposeTCBVersion(kds.TCBVersion(v))
	return TCB{BootLoader: p.BlSpl, TEE: p.TeeSpl, SNP: p.SnpSpl, Microcode: p.UcodeSpl}
}

func (t TCB) parts() kds.TCBParts {
	return kds.TCBParts{BlSpl: t.BootLoader, TeeSpl: t.TEE, SnpSpl: t.SNP, UcodeSpl: t.Microcode}
}

// SNPPolicy is what an SEV-SNP report must satisfy beyond a valid signature and chain.
type SNPPolicy struct {
	// MinTCB is compared part by part with REPORTED_TCB (the TCB the VCEK certifies).
	MinTCB TCB
	// AllowDebug accepts guests whose policy permits debugging (the hypervisor can read guest
	// memory). Only for test fixtures: go-sev-guest's Milan sample report has the debug bit set.
	AllowDebug bool
	// AllowMigrationAgent accepts guests whose policy permits a migration agent.
	AllowMigrationAgent bool
	// AllowedMeasurements lists accepted 48-byte launch MEASUREMENTs. Empty: any.
	AllowedMeasurements [][]byte
	// PermitProvisionalFirmware accepts COMMITTED_TCB < CURRENT_TCB (firmware updated but not yet
	// committed); otherwise they must be equal.
	PermitProvisionalFirmware bool
}

// Validate rejects policies that cannot be applied.
func (p SNPPolicy) Validate() error {
	if _, err := kds.ComposeTCBParts(p.MinTCB.parts()); err != nil {
		return errorsmod.Wrapf(ErrInvalidArgument, "min TCB: %v", err)
	}
	for i, m := range p.AllowedMeasurements {
		if len(m) != SNPMeasurementSize {
			return errorsmod.Wrapf(ErrInvalidArgument, "allowed measurement %d is %d bytes, want %d", i, len(m), SNPMeasurementSize)
		}
	}
	return nil
}

// SNPOptions are the inputs of VerifySNP besides the evidence.
type SNPOptions struct {
	// Roots are the trusted AMD roots; see SNPRoots.
	Roots SNPRoots
	// Now is the block time; every certificate must be valid at it.
	Now time.Time
	// ReportData is the 32-byte nonce that REPORT_DATA must start with. The other 32 bytes of
	// REPORT_DATA are the prover's (e.g. a key hash) and are returned in the result.
	ReportData []byte
	Policy     SNPPolicy
}

// SNPResult is the outcome of a successful VerifySNP.
type SNPResult struct {
	EvidenceSHA256 [32]byte
	Version        uint32
	// Signer is "VCEK" or "VLEK".
	Signer      string
	ProductLine string
	GuestPolicy uint64
	VMPL        uint32
	GuestSVN    uint32
	ReportedTCB TCB
	Measurement []byte
	ReportData  []byte
	HostData    []byte
	ChipID      []byte
	// CertNotAfter is when the endorsement certificate expires.
	CertNotAfter time.Time
}

// VerifySNP verifies an SEV-SNP attestation (see SNPEvidence for the encoding) against the
// trusted roots at the block time, with certificate fetching and CRL checks disabled: everything
// needed is in the evidence and the arguments. Checks, in order: arguments and size; envelope;
// report format; signer kind; certificate parse and validity window; chain to a trusted root and
// report signature; guest policy debug and migration-agent bits; REPORT_DATA prefix; measurement;
// minimum TCB; then go-sev-guest's validate for internal consistency (REPORTED_TCB equals the
// certificate's TCB, COMMITTED vs CURRENT, CHIP_ID equals the VCEK HWID, ...).
func VerifySNP(evidence []byte, maxBytes int, opts SNPOptions) (*SNPResult, error) {
	if maxBytes <= 0 {
		return nil, errorsmod.Wrapf(ErrInvalidArgument, "maxBytes %d", maxBytes)
	}
	if len(evidence) > maxBytes {
		return nil, errorsmod.Wrapf(ErrEvidenceTooLarge, "%d bytes, limit %d", len(evidence), maxBytes)
	}
	if len(evidence) == 0 {
		return nil, ErrEvidenceEmpty
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ev, err := ParseSNPEvidence(evidence)
	if err != nil {
		return nil, err
	}
	if err := abi.ValidateReportFormat(ev.Report); err != nil {
		return nil, errorsmod.Wrapf(ErrSNPReportMalformed, "%v", err)
	}
	report, err := abi.ReportToProto(ev.Report)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPReportMalformed, "%v", err)
	}
	info, err := abi.ParseSignerInfo(report.GetSignerInfo())
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPReportMalformed, "signer info: %v", err)
	}
	chain := &spb.CertificateChain{}
	switch info.SigningKey {
	case abi.VcekReportSigner:
		chain.VcekCert = ev.Cert
	case abi.VlekReportSigner:
		chain.VlekCert = ev.Cert
	default:
		return nil, errorsmod.Wrapf(ErrSNPSignerUnsupported, "signing key %v", info.SigningKey)
	}
	cert, err := x509.ParseCertificate(ev.Cert)
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPCertMalformed, "%v", err)
	}
	// Same comparisons as x509.Verify, done first so an out-of-date certificate gets its own error
	// rather than a generic chain failure.
	if opts.Now.Before(cert.NotBefore) {
		return nil, errorsmod.Wrapf(ErrSNPCertNotYetValid, "%v valid from %s", info.SigningKey, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if opts.Now.After(cert.NotAfter) {
		return nil, errorsmod.Wrapf(ErrSNPCertExpired, "%v expired %s", info.SigningKey, cert.NotAfter.UTC().Format(time.RFC3339))
	}

	productLine, trusted := rootsForReport(report, cert, info.SigningKey, opts.Roots)
	att := &spb.Attestation{Report: report, CertificateChain: chain}
	vopts := &sevverify.Options{
		DisableCertFetching: true,
		CheckRevocations:    false,
		Now:                 opts.Now,
		TrustedRoots:        trusted,
	}
	if err := sevverify.SnpAttestation(att, vopts); err != nil {
		// go-sev-guest reports everything as formatted strings. Tell a forged report from an
		// unacceptable chain by checking the signature alone against the offered certificate.
		if sigErr := sevverify.SnpReportSignature(ev.Report, cert); sigErr != nil {
			return nil, errorsmod.Wrapf(ErrSNPBadSignature, "%v", sigErr)
		}
		return nil, errorsmod.Wrapf(ErrSNPUntrustedChain, "%v", err)
	}

	guest, err := abi.ParseSnpPolicy(report.GetPolicy())
	if err != nil {
		return nil, errorsmod.Wrapf(ErrSNPReportMalformed, "guest policy: %v", err)
	}
	pol := opts.Policy
	if guest.Debug && !pol.AllowDebug {
		return nil, errorsmod.Wrapf(ErrSNPDebugAllowed, "policy 0x%x", report.GetPolicy())
	}
	if guest.MigrateMA && !pol.AllowMigrationAgent {
		return nil, errorsmod.Wrapf(ErrSNPMigrationAgent, "policy 0x%x", report.GetPolicy())
	}
	if !bytes.HasPrefix(report.GetReportData(), opts.ReportData) {
		return nil, errorsmod.Wrap(ErrSNPReportDataMismatch, "REPORT_DATA[0:32] differs from the nonce")
	}
	if len(pol.AllowedMeasurements) > 0 && !containsBytes(pol.AllowedMeasurements, report.GetMeasurement()) {
		return nil, errorsmod.Wrapf(ErrSNPMeasurementNotAllowed, "%x", report.GetMeasurement())
	}
	reported := tcbFromVersion(report.GetReportedTcb())
	if !kds.TCBPartsLE(pol.MinTCB.parts(), reported.parts()) {
		return nil, errorsmod.Wrapf(ErrSNPTCBTooLow, "reported %+v, minimum %+v", reported, pol.MinTCB)
	}
	vpol := &validate.Options{
		// Only the bits decided above are relaxed; SMT is allowed because nearly every cloud
		// guest runs with it and its side channels are outside what attestation can judge.
		GuestPolicy:               abi.SnpPolicy{SMT: true, Debug: pol.AllowDebug, MigrateMA: pol.AllowMigrationAgent},
		MinimumTCB:                pol.MinTCB.parts(),
		PermitProvisionalFirmware: pol.PermitProvisionalFirmware,
	}
	if err := validate.SnpAttestation(att, vpol); err != nil {
		return nil, errorsmod.Wrapf(ErrSNPPolicyViolation, "%v", err)
	}

	return &SNPResult{
		EvidenceSHA256: sha256.Sum256(evidence),
		Version:        report.GetVersion(),
		Signer:         info.SigningKey.String(),
		ProductLine:    productLine,
		GuestPolicy:    report.GetPolicy(),
		VMPL:           report.GetVmpl(),
		GuestSVN:       report.GetGuestSvn(),
		ReportedTCB:    reported,
		Measurement:    report.GetMeasurement(),
		ReportData:     report.GetReportData(),
		HostData:       report.GetHostData(),
		ChipID:         report.GetChipId(),
		CertNotAfter:   cert.NotAfter.UTC(),
	}, nil
}

// rootsForReport picks the product line of a report and the roots go-sev-guest should try.
// go-sev-guest looks roots up under the line it derives from the report's CPUID (v3+) or, for v2
// reports, from the certificate's productName. Its CPUID table (v0.15.0) knows family 19h models
// 0h/1h (Milan) and 11h (Genoa) only, so a genuine Genoa-line part with another model (the real
// v5 fixture is family 19h model A0h, a Siena/Bergamo part that KDS serves under "Genoa") comes out
// as "Unknown" and would match no roots. For such reports the certificate's productName selects the
// line instead. That is not a trust decision: the certificate must still chain to the roots
// governance installed for that line, and the report must be signed by it.
//
// The returned map always holds exactly one entry, built from opts.Roots, so go-sev-guest never
// sees an empty map (on which it would fall back to its embedded roots).
func rootsForReport(report *spb.Report, cert *x509.Certificate, key abi.ReportSigner, roots SNPRoots) (string, SNPRoots) {
	certLine := ""
	if exts, err := kds.CertificateExtensions(cert, key); err == nil {
		certLine = kds.ProductLineOfProductName(exts.ProductName)
	}
	lookup, line := certLine, certLine
	if fms := report.GetCpuid1EaxFms(); fms != 0 {
		lookup = kds.ProductLineFromFms(fms)
		if lookup != "Unknown" {
			line = lookup
		}
	}
	return line, SNPRoots{lookup: roots[line]}
}

func (o SNPOptions) validate() error {
	if err := o.Roots.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidArgument, err.Error())
	}
	if o.Now.IsZero() {
		return errorsmod.Wrap(ErrInvalidArgument, "zero time")
	}
	if len(o.ReportData) != NonceSize {
		return errorsmod.Wrapf(ErrInvalidArgument, "report data prefix is %d bytes, want %d", len(o.ReportData), NonceSize)
	}
	return o.Policy.Validate()
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, v := range list {
		if bytes.Equal(v, b) {
			return true
		}
	}
	return false
}
