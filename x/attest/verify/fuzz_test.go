package verify_test

import (
	"testing"
	"time"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/verify"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ and run as ordinary tests. They were made
// with the fake issuer and the go-sev-guest test signer (not from the third-party fixtures, which
// the repository does not copy).

// FuzzParseEAT feeds arbitrary bytes to the detached-EAT parser and to the full NRAS verifier
// with a trusted fake issuer, whose seeded key made the committed seeds.
func FuzzParseEAT(f *testing.F) {
	iss := attestation.NewIssuerFromSeed([]byte("fuzz"))
	opts := verify.NRASOptions{
		Keys: iss.KeySet(), Issuer: verify.NRASIssuer, Nonce: make([]byte, verify.NonceSize),
		Now: time.Unix(1_780_000_000, 0), Policy: verify.DefaultGPUPolicy(),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		eat, err := verify.ParseDetachedEAT(data)
		if err == nil && eat.Overall == "" {
			t.Fatal("parser accepted an empty overall token")
		}
		res, err := verify.VerifyNRAS(data, 1<<16, opts)
		if (err == nil) == (res == nil) {
			t.Fatalf("result %v and error %v must be exclusive", res, err)
		}
	})
}

// FuzzVerifySNP feeds arbitrary envelopes to the SEV-SNP verifier with the test signer's roots.
func FuzzVerifySNP(f *testing.F) {
	s, err := attestation.NewSNPSigner(attestation.SNPSignerOptions{
		Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		TCB:     verify.TCB{BootLoader: 3, SNP: 8, Microcode: 115},
	})
	if err != nil {
		f.Fatal(err)
	}
	roots, err := s.Roots()
	if err != nil {
		f.Fatal(err)
	}
	opts := verify.SNPOptions{
		Roots: roots, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		ReportData: make([]byte, verify.NonceSize),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := verify.VerifySNP(data, 1<<16, opts)
		if (err == nil) == (res == nil) {
			t.Fatalf("result %v and error %v must be exclusive", res, err)
		}
	})
}
