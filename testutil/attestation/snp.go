package attestation

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	sevtest "github.com/google/go-sev-guest/testing"

	"github.com/computed-network/computed/x/attest/verify"
)

// SNPSignerOptions configure a fake AMD certificate chain (ARK -> ASK/ASVK -> VCEK/VLEK).
type SNPSignerOptions struct {
	// ProductName is the VCEK productName, e.g. "Milan-B1" (default) or "Genoa-B1".
	ProductName string
	// Created is the NotBefore of ARK/ASK; the VCEK expires seven years later (go-sev-guest).
	Created time.Time
	// TCB is what the VCEK/VLEK certify; reports default to it.
	TCB verify.TCB
	// FreshRoots generates new ARK, ASK and ASVK keys instead of go-sev-guest's published test
	// keys, giving a chain that the roots of any other signer do not accept. Replacing only the
	// ARK would not do: the ASK key would still be shared, so the leaf would chain to either ASK.
	// RSA-2048 keeps it fast; AMD uses 4096, nothing in verification depends on the size.
	FreshRoots bool
}

// SNPSigner signs SEV-SNP reports with go-sev-guest's test-only keys.
type SNPSigner struct {
	amd         *sevtest.AmdSigner
	productLine string
	tcb         verify.TCB
}

// NewSNPSigner builds the fake chain.
func NewSNPSigner(o SNPSignerOptions) (*SNPSigner, error) {
	name := o.ProductName
	if name == "" {
		name = "Milan-B1"
	}
	if o.Created.IsZero() {
		return nil, errors.New("attestation: SNPSignerOptions.Created must be set (the chain's validity starts there)")
	}
	keys := sevtest.DefaultAmdKeys()
	if o.FreshRoots {
		for _, k := range []**rsa.PrivateKey{&keys.Ark, &keys.Ask, &keys.Asvk} {
			fresh, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			*k = fresh
		}
	}
	parts := kds.TCBParts{BlSpl: o.TCB.BootLoader, TeeSpl: o.TCB.TEE, SnpSpl: o.TCB.SNP, UcodeSpl: o.TCB.Microcode}
	b := &sevtest.AmdSignerBuilder{
		Keys:             keys,
		ProductName:      name,
		CSPID:            "computed-test",
		ArkCreationTime:  o.Created,
		AskCreationTime:  o.Created,
		AsvkCreationTime: o.Created,
		VcekCreationTime: o.Created,
		VlekCreationTime: o.Created,
		// The default endorsement certificates certify TCB 0; override the extensions so that
		// REPORTED_TCB == certificate TCB holds for the chosen TCB.
		VcekCustom: sevtest.CertOverride{Extensions: sevtest.CustomExtensions(parts, make([]byte, abi.ChipIDSize), "", name)},
		VlekCustom: sevtest.CertOverride{Extensions: sevtest.CustomExtensions(parts, nil, "computed-test", name)},
	}
	amd, err := b.TestOnlyCertChain()
	if err != nil {
		return nil, err
	}
	return &SNPSigner{amd: amd, productLine: kds.ProductLineOfProductName(name), tcb: o.TCB}, nil
}

// ProductLine is "Milan", "Genoa", ...
func (s *SNPSigner) ProductLine() string { return s.productLine }

// VCEK and VLEK are the endorsement certificates.
func (s *SNPSigner) VCEK() *x509.Certificate { return s.amd.Vcek }

// VLEK is the VLEK certificate.
func (s *SNPSigner) VLEK() *x509.Certificate { return s.amd.Vlek }

// ASKBundlePEM is the KDS cert_chain (ASK then ARK) for VCEK-signed reports.
func (s *SNPSigner) ASKBundlePEM() []byte { return bundle(s.amd.Ask, s.amd.Ark) }

// ASVKBundlePEM is the KDS cert_chain (ASVK then ARK) for VLEK-signed reports.
func (s *SNPSigner) ASVKBundlePEM() []byte { return bundle(s.amd.Asvk, s.amd.Ark) }

func bundle(ica, ark *x509.Certificate) []byte {
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ica.Raw})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ark.Raw})...)
}

// Roots is the trusted root set that accepts this signer's reports (VCEK and VLEK).
func (s *SNPSigner) Roots() (verify.SNPRoots, error) {
	roots := verify.SNPRoots{}
	if err := roots.AddPEM(s.productLine, s.ASKBundlePEM()); err != nil {
		return nil, err
	}
	if err := roots.AddPEM(s.productLine, s.ASVKBundlePEM()); err != nil {
		return nil, err
	}
	return roots, nil
}

// SNPReport chooses the fields of a report. Zero values give a valid, non-debug, VCEK-signed
// version 2 report at the signer's TCB.
type SNPReport struct {
	// Version is 2 (default), 3 or 5. Versions >= 3 carry CPUID family/model/stepping.
	Version     uint32
	ReportData  [64]byte
	Measurement [48]byte
	HostData    [32]byte
	// Policy is the guest policy; zero means SMT allowed, debug and migration agent denied.
	Policy   uint64
	VMPL     uint32
	GuestSVN uint32
	// ReportedTCB etc. default to the signer's TCB.
	ReportedTCB, CurrentTCB, CommittedTCB, LaunchTCB *verify.TCB
	// UseVLEK signs with the VLEK instead of the VCEK.
	UseVLEK bool
	// CorruptSignature flips a bit of the signature after signing.
	CorruptSignature bool
}

// DefaultSNPPolicy is SMT allowed, ABI 0.0, debug off, migration agent off.
var DefaultSNPPolicy = abi.SnpPolicyToBytes(abi.SnpPolicy{SMT: true})

// DebugSNPPolicy is DefaultSNPPolicy with debugging allowed.
var DebugSNPPolicy = abi.SnpPolicyToBytes(abi.SnpPolicy{SMT: true, Debug: true})

// fms gives the CPUID_1_EAX value go-sev-guest maps to each product line.
var fms = map[string]uint32{"Milan": 0x00a00f10, "Genoa": 0x00a10f10, "Turin": 0x00b00f20}

// Report returns a signed 1184-byte ATTESTATION_REPORT.
func (s *SNPSigner) Report(r SNPReport) ([]byte, error) {
	version := r.Version
	if version == 0 {
		version = 2
	}
	signer := abi.SignerInfo{SigningKey: abi.VcekReportSigner}
	if r.UseVLEK {
		signer.SigningKey = abi.VlekReportSigner
	}
	raw := sevtest.CreateRawReport(&sevtest.TestReportOptions{
		ReportData: r.ReportData[:],
		SignerInfo: signer,
		FMS:        fms[s.productLine],
		Version:    version,
	})
	proto, err := abi.ReportToProto(raw[:])
	if err != nil {
		return nil, err
	}
	tcb := func(t *verify.TCB) uint64 {
		if t == nil {
			t = &s.tcb
		}
		v, _ := kds.ComposeTCBParts(kds.TCBParts{BlSpl: t.BootLoader, TeeSpl: t.TEE, SnpSpl: t.SNP, UcodeSpl: t.Microcode})
		return uint64(v)
	}
	proto.Policy = r.Policy
	if proto.Policy == 0 {
		proto.Policy = DefaultSNPPolicy
	}
	proto.Measurement = r.Measurement[:]
	proto.HostData = r.HostData[:]
	proto.Vmpl = r.VMPL
	proto.GuestSvn = r.GuestSVN
	proto.ReportedTcb = tcb(r.ReportedTCB)
	proto.CurrentTcb = tcb(r.CurrentTCB)
	proto.CommittedTcb = tcb(r.CommittedTCB)
	proto.LaunchTcb = tcb(r.LaunchTCB)
	report, err := abi.ReportToAbiBytes(proto)
	if err != nil {
		return nil, err
	}
	R, S, err := s.amd.Sign(abi.SignedComponent(report))
	if err != nil {
		return nil, err
	}
	if err := abi.SetSignature(R, S, report); err != nil {
		return nil, err
	}
	if r.CorruptSignature {
		report[0x2A0] ^= 1
	}
	return report, nil
}

// Evidence returns the report wrapped with its endorsement certificate in VerifySNP's envelope.
func (s *SNPSigner) Evidence(r SNPReport) ([]byte, error) {
	report, err := s.Report(r)
	if err != nil {
		return nil, err
	}
	cert := s.amd.Vcek
	if r.UseVLEK {
		cert = s.amd.Vlek
	}
	return verify.SNPEvidence{Report: report, Cert: cert.Raw}.Marshal(), nil
}
