package verify_test

import (
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/golang-jwt/jwt/v5"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/verify"
)

// BenchmarkVerifyNRAS8GPU verifies one overall token plus eight GPU tokens (nine ES384 checks).
func BenchmarkVerifyNRAS8GPU(b *testing.B) {
	iss := attestation.NewIssuerFromSeed([]byte("bench"))
	ev, err := iss.ValidEAT(testNonce, blockTime.Add(-time.Minute), 8)
	if err != nil {
		b.Fatal(err)
	}
	opts := verify.NRASOptions{
		Keys: iss.KeySet(), Issuer: verify.NRASIssuer, Nonce: testNonce, Now: blockTime,
		Policy: verify.DefaultGPUPolicy(),
	}
	opts.Policy.ExpectedGPUCount = 8
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := verify.VerifyNRAS(ev, maxBytes, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySNP verifies a VCEK-signed report: chain (two RSA-PSS checks) plus one P-384
// signature, plus policy validation.
func BenchmarkVerifySNP(b *testing.B) {
	s := newSNPSigner(b, false)
	ev, err := s.Evidence(reportWithNonce())
	if err != nil {
		b.Fatal(err)
	}
	opts := snpOptions(b, s)
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := verify.VerifySNP(ev, maxBytes, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSecp256k1Baseline is the SDK's own signature check, which its ante handler prices at
// 1000 gas (DefaultSigVerifyCostSecp256k1); GasPerSignature is calibrated against it.
func BenchmarkSecp256k1Baseline(b *testing.B) {
	priv := secp256k1.GenPrivKey()
	msg := []byte("calibration message for the attest gas constants")
	sig, err := priv.Sign(msg)
	if err != nil {
		b.Fatal(err)
	}
	pub := priv.PubKey()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !pub.VerifySignature(msg, sig) {
			b.Fatal("signature rejected")
		}
	}
}

// BenchmarkES384Verify is one bare P-384 ECDSA check, the unit GasPerSignature prices.
func BenchmarkES384Verify(b *testing.B) {
	iss := attestation.NewIssuerFromSeed([]byte("bench"))
	input := "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJiZW5jaCJ9"
	sig, err := jwt.SigningMethodES384.Sign(input, iss.Key)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := jwt.SigningMethodES384.Verify(input, sig, &iss.Key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}
