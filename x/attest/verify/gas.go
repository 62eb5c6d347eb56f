package verify

// Gas prices for verification, calibrated against the SDK's own signature check.
//
// The SDK charges 1000 gas (auth DefaultSigVerifyCostSecp256k1) for one secp256k1 verification.
// Measured on the same machine with the benchmarks in bench_test.go (Go 1.26, linux/amd64, AMD
// EPYC, 2 shared cores, -benchtime=200x):
//
//	BenchmarkSecp256k1Baseline   ~161 µs/op   -> 1 gas ~ 161 ns
//	BenchmarkES384Verify         ~700-735 µs/op -> ~4.4-4.6x secp256k1 (Go's P-384 has no assembly)
//	BenchmarkVerifyNRAS8GPU     ~7.0-7.4 ms/op (9 ES384 checks ~6.5 ms + parsing ~0.5 ms for 8.3 KB)
//	BenchmarkVerifySNP          ~1.75-1.84 ms/op (x509 path with two RSA-4096-PSS checks, one P-384
//	                                           check, report parsing and validation) -> ~11x
//
// The constants round those ratios up so that verification is never cheaper in gas than a plain
// transfer's signature check of equal CPU cost. Re-measure and adjust if the verifiers change.
const (
	// GasPerSignature is charged per ES384 (P-384 ECDSA) verification: ~4.5x secp256k1, rounded
	// up to 5x.
	GasPerSignature uint64 = 5000
	// GasPerEvidenceByte covers JSON/base64 decoding and hashing (~55 ns/byte measured, i.e. about
	// a third of a gas); 1 leaves headroom. It comes on top of the SDK's per-byte tx size cost.
	GasPerEvidenceByte uint64 = 1
	// GasPerSNPVerification is charged once per SEV-SNP verification: ~11x secp256k1, rounded up to
	// 12x. It includes the report's own ECDSA check; do not add GasPerSignature.
	GasPerSNPVerification uint64 = 12000
)

// NRASGas is the gas for verifying NRAS evidence of evidenceLen bytes carrying gpuTokens GPU
// tokens (one overall signature plus one per GPU). Keepers should charge it before calling
// VerifyNRAS, taking gpuTokens from ParseDetachedEAT, so that failing evidence pays as well.
func NRASGas(evidenceLen, gpuTokens int) uint64 {
	if evidenceLen < 0 {
		evidenceLen = 0
	}
	if gpuTokens < 0 {
		gpuTokens = 0
	}
	return uint64(evidenceLen)*GasPerEvidenceByte + uint64(1+gpuTokens)*GasPerSignature
}

// SNPGas is the gas for verifying SEV-SNP evidence of evidenceLen bytes.
func SNPGas(evidenceLen int) uint64 {
	if evidenceLen < 0 {
		evidenceLen = 0
	}
	return uint64(evidenceLen)*GasPerEvidenceByte + GasPerSNPVerification
}
