package verify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/verify"
)

const maxBytes = 64 * 1024

var (
	blockTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testNonce = []byte("computed-test-nonce-32-bytes-!!!")
)

func newIssuer(t testing.TB) *attestation.Issuer {
	t.Helper()
	return attestation.NewIssuerFromSeed([]byte("verify tests"))
}

func strictGPUPolicy() verify.GPUPolicy {
	p := verify.DefaultGPUPolicy()
	p.AllowedHWModels = []string{"GH100"}
	p.MinDriverVersion = "570.0"
	p.AllowedVBIOSVersions = []string{"96.00.D9.00.02"}
	return p
}

func nrasOptions(iss *attestation.Issuer) verify.NRASOptions {
	return verify.NRASOptions{
		Keys: iss.KeySet(), Issuer: verify.NRASIssuer, Nonce: testNonce, Now: blockTime, Policy: strictGPUPolicy(),
	}
}

func TestFakeIssuerAccepted(t *testing.T) {
	iss := newIssuer(t)
	for _, n := range []int{1, 2, 8, 11} {
		ev, err := iss.ValidEAT(testNonce, blockTime.Add(-time.Minute), n)
		require.NoError(t, err)
		opts := nrasOptions(iss)
		opts.Policy.ExpectedGPUCount = n
		res, err := verify.VerifyNRAS(ev, maxBytes, opts)
		require.NoError(t, err, "n=%d", n)
		require.Len(t, res.GPUs, n)
		require.Equal(t, n+1, res.SignaturesVerified)
		for i, g := range res.GPUs { // numeric order: GPU-2 before GPU-10
			require.Equal(t, fmt.Sprintf("GPU-%d", i), g.ID)
			require.Equal(t, attestation.HostGPU(testNonce, i).UEID, g.UEID)
		}
	}
}

type nrasCase struct {
	name string
	// build returns evidence and may adjust the options.
	build func(t *testing.T, iss *attestation.Issuer, o *verify.NRASOptions) []byte
	want  error
}

func eat(opts ...attestation.Option) func(*testing.T, *attestation.Issuer, *verify.NRASOptions) []byte {
	return func(t *testing.T, iss *attestation.Issuer, _ *verify.NRASOptions) []byte {
		ev, err := iss.ValidEAT(testNonce, blockTime.Add(-time.Minute), 2, opts...)
		require.NoError(t, err)
		return ev
	}
}

func gpuEAT(edit func(*attestation.GPUClaims)) func(*testing.T, *attestation.Issuer, *verify.NRASOptions) []byte {
	return func(t *testing.T, iss *attestation.Issuer, _ *verify.NRASOptions) []byte {
		spec := attestation.EATSpec{Nonce: testNonce, IssuedAt: blockTime.Add(-time.Minute),
			GPUs: []attestation.GPUClaims{attestation.HealthyGPU(0), attestation.HealthyGPU(1)}}
		edit(&spec.GPUs[1])
		ev, err := iss.EAT(spec)
		require.NoError(t, err)
		return ev
	}
}

func nrasCases() []nrasCase {
	otherKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return []nrasCase{
		{"wrong key", eat(attestation.Overall(attestation.SignWith(otherKey))), verify.ErrBadSignature},
		{"unknown kid", eat(attestation.Overall(attestation.SetHeader("kid", "nv-eat-kid-prod-unknown"))), verify.ErrUnknownKid},
		{"missing kid", eat(attestation.Overall(attestation.DeleteHeader("kid"))), verify.ErrMissingKid},
		{"alg none", eat(attestation.Overall(attestation.AlgNone())), verify.ErrAlgNone},
		{"HS256 keyed with the public key", func(t *testing.T, iss *attestation.Issuer, o *verify.NRASOptions) []byte {
			return eat(attestation.Overall(attestation.HS256(iss.PublicKeyPEM())))(t, iss, o)
		}, verify.ErrAlgSymmetric},
		{"ES256", eat(attestation.Overall(attestation.ES256(p256))), verify.ErrAlgNotAllowed},
		{"crit header", eat(attestation.Overall(attestation.SetHeader("crit", []string{"b64"}))), verify.ErrCritHeader},
		{"expired", func(t *testing.T, iss *attestation.Issuer, _ *verify.NRASOptions) []byte {
			ev, err := iss.ValidEAT(testNonce, blockTime.Add(-2*time.Hour), 2)
			require.NoError(t, err)
			return ev
		}, verify.ErrTokenExpired},
		{"not yet valid", eat(attestation.Overall(attestation.SetClaim("nbf", blockTime.Add(time.Minute).Unix()))), verify.ErrTokenNotYetValid},
		{"iat in the future", eat(attestation.Overall(
			attestation.DeleteClaim("nbf"), attestation.SetClaim("iat", blockTime.Add(time.Minute).Unix()))), verify.ErrTokenIssuedFuture},
		{"exp missing", eat(attestation.Overall(attestation.DeleteClaim("exp"))), verify.ErrClaimMissing},
		{"exp not an integer", eat(attestation.Overall(attestation.SetClaim("exp", 1.7e9+0.5))), verify.ErrClaimMalformed},
		{"nonce mismatch", eat(attestation.Overall(attestation.SetClaim("eat_nonce", strings.Repeat("ab", 32)))), verify.ErrNonceMismatch},
		{"GPU nonce mismatch", eat(attestation.GPU(1, attestation.SetClaim("eat_nonce", strings.Repeat("cd", 32)))), verify.ErrGPUNonceMismatch},
		{"one GPU's token twice (same ueid)", eat(attestation.GPU(1, attestation.SetClaim("ueid", attestation.HostGPU(testNonce, 0).UEID))), verify.ErrDuplicateGPU},
		{"wrong issuer (staging)", eat(attestation.AllTokens(attestation.SetClaim("iss", "https://nras.attestation-stg.nvidia.com"))), verify.ErrWrongIssuer},
		{"overall result false", eat(attestation.Overall(attestation.SetClaim("x-nvidia-overall-att-result", false))), verify.ErrOverallResultFalse},
		{"submods digest mismatch", eat(attestation.BadDigest(1)), verify.ErrSubmodDigestMismatch},
		{"submods digest not SHA-256", eat(attestation.Overall(attestation.SetClaim("submods", map[string]any{
			"GPU-0": []any{"DIGEST", []any{"SHA-384", strings.Repeat("00", 48)}}}))), verify.ErrSubmodMalformed},
		{"missing GPU token", eat(attestation.DropGPUToken(1)), verify.ErrMissingGPUToken},
		{"extra GPU token", eat(attestation.AddGPUToken("GPU-2", attestation.HealthyGPU(2))), verify.ErrExtraGPUToken},
		{"GPU count mismatch", func(t *testing.T, iss *attestation.Issuer, o *verify.NRASOptions) []byte {
			o.Policy.ExpectedGPUCount = 8
			return eat()(t, iss, o)
		}, verify.ErrGPUCountMismatch},
		{"NVSwitch is not a GPU", eat(attestation.AddGPUToken("SWITCH-0", attestation.HealthyGPU(0))), verify.ErrUnexpectedSubmod},
		{"no GPU at all", func(t *testing.T, iss *attestation.Issuer, _ *verify.NRASOptions) []byte {
			ev, err := iss.ValidEAT(testNonce, blockTime.Add(-time.Minute), 0)
			require.NoError(t, err)
			return ev
		}, verify.ErrNoGPUs},
		{"too many GPUs", func(t *testing.T, iss *attestation.Issuer, _ *verify.NRASOptions) []byte {
			ev, err := iss.ValidEAT(testNonce, blockTime.Add(-time.Minute), verify.MaxGPUs+1)
			require.NoError(t, err)
			return ev
		}, verify.ErrTooManyGPUs},
		{"debug enabled (dbgstat)", gpuEAT(func(g *attestation.GPUClaims) { g.DbgStat = "enabled" }), verify.ErrGPUDebugEnabled},
		{"measres failure", gpuEAT(func(g *attestation.GPUClaims) { g.MeasRes = "fail" }), verify.ErrGPUMeasurementFailed},
		{"secboot false", gpuEAT(func(g *attestation.GPUClaims) { g.SecBoot = false }), verify.ErrGPUSecureBootOff},
		{"old driver", gpuEAT(func(g *attestation.GPUClaims) { g.DriverVersion = "550.90.07" }), verify.ErrGPUDriverTooOld},
		{"VBIOS not allowed", gpuEAT(func(g *attestation.GPUClaims) { g.VBIOSVersion = "96.00.9F.00.01" }), verify.ErrGPUVBIOSNotAllowed},
		{"hwmodel (SKU) not allowed", gpuEAT(func(g *attestation.GPUClaims) { g.HWModel = "GB100" }), verify.ErrGPUModelNotAllowed},
		{"truncated JSON", eat(attestation.RawEdit(func(b []byte) []byte { return b[:len(b)/2] })), verify.ErrEATMalformedJSON},
		{"not an array", eat(attestation.RawEdit(func(b []byte) []byte {
			return []byte(`{"JWT": "` + strings.Repeat("a", 10) + `"}`)
		})), verify.ErrEATNotArray},
		{"wrong element shape", eat(attestation.RawEdit(func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `["JWT",`, `["JWS",`, 1))
		})), verify.ErrEATBadShape},
		{"two-segment JWT", eat(attestation.RawEdit(func(b []byte) []byte {
			var outer []json.RawMessage
			_ = json.Unmarshal(b, &outer)
			var head []string
			_ = json.Unmarshal(outer[0], &head)
			parts := strings.Split(head[1], ".")
			out, _ := json.Marshal([]any{[]string{"JWT", parts[0] + "." + parts[1]}, outer[1]})
			return out
		})), verify.ErrJWTMalformed},
		{"huge input over maxBytes", func(t *testing.T, iss *attestation.Issuer, o *verify.NRASOptions) []byte {
			return []byte("[" + strings.Repeat(" ", maxBytes) + "]")
		}, verify.ErrEvidenceTooLarge},
		{"empty input", func(*testing.T, *attestation.Issuer, *verify.NRASOptions) []byte { return nil }, verify.ErrEvidenceEmpty},
		{"caller passed a 16-byte nonce", func(t *testing.T, iss *attestation.Issuer, o *verify.NRASOptions) []byte {
			o.Nonce = testNonce[:16]
			return eat()(t, iss, o)
		}, verify.ErrInvalidArgument},
	}
}

func TestNRASBadEvidence(t *testing.T) {
	iss := newIssuer(t)
	cases := nrasCases()
	seen := map[error]string{}
	for _, tc := range cases {
		if prev, dup := seen[tc.want]; dup {
			t.Fatalf("cases %q and %q expect the same sentinel", prev, tc.name)
		}
		seen[tc.want] = tc.name
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := nrasOptions(iss)
			ev := tc.build(t, iss, &opts)
			res, err := verify.VerifyNRAS(ev, maxBytes, opts)
			require.Nil(t, res)
			require.ErrorIs(t, err, tc.want)
			for other, name := range seen {
				if other != tc.want {
					require.False(t, errors.Is(err, other), "also matches the sentinel of %q: %v", name, err)
				}
			}
		})
	}
}

func newSNPSigner(t testing.TB, fresh bool) *attestation.SNPSigner {
	t.Helper()
	s, err := attestation.NewSNPSigner(attestation.SNPSignerOptions{
		Created:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		TCB:        verify.TCB{BootLoader: 3, SNP: 8, Microcode: 115},
		FreshRoots: fresh,
	})
	require.NoError(t, err)
	return s
}

func snpOptions(t testing.TB, s *attestation.SNPSigner) verify.SNPOptions {
	roots, err := s.Roots()
	require.NoError(t, err)
	return verify.SNPOptions{
		Roots:      roots,
		Now:        blockTime,
		ReportData: testNonce,
		Policy:     verify.SNPPolicy{MinTCB: verify.TCB{BootLoader: 3, SNP: 8, Microcode: 115}},
	}
}

func reportWithNonce() attestation.SNPReport {
	var r attestation.SNPReport
	copy(r.ReportData[:], testNonce)
	copy(r.ReportData[32:], "prover key hash goes here")
	return r
}

func TestFakeSNPAccepted(t *testing.T) {
	s := newSNPSigner(t, false)
	for _, tc := range []struct {
		name string
		edit func(*attestation.SNPReport)
	}{
		{"v2 VCEK", func(*attestation.SNPReport) {}},
		{"v3 VCEK", func(r *attestation.SNPReport) { r.Version = 3 }},
		{"v5 VCEK", func(r *attestation.SNPReport) { r.Version = 5 }},
		{"v3 VLEK", func(r *attestation.SNPReport) { r.Version = 3; r.UseVLEK = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := reportWithNonce()
			copy(r.Measurement[:], "launch digest")
			tc.edit(&r)
			ev, err := s.Evidence(r)
			require.NoError(t, err)
			opts := snpOptions(t, s)
			opts.Policy.AllowedMeasurements = [][]byte{r.Measurement[:]}
			res, err := verify.VerifySNP(ev, maxBytes, opts)
			require.NoError(t, err)
			require.Equal(t, r.ReportData[:], res.ReportData)
			require.Equal(t, "Milan", res.ProductLine)
		})
	}
}

type snpCase struct {
	name  string
	build func(t *testing.T, s *attestation.SNPSigner, o *verify.SNPOptions) []byte
	want  error
}

func snpEvidence(edit func(*attestation.SNPReport)) func(*testing.T, *attestation.SNPSigner, *verify.SNPOptions) []byte {
	return func(t *testing.T, s *attestation.SNPSigner, _ *verify.SNPOptions) []byte {
		r := reportWithNonce()
		edit(&r)
		ev, err := s.Evidence(r)
		require.NoError(t, err)
		return ev
	}
}

// rewrap edits the decoded envelope of valid evidence.
func rewrap(edit func(e *verify.SNPEvidence)) func(*testing.T, *attestation.SNPSigner, *verify.SNPOptions) []byte {
	return func(t *testing.T, s *attestation.SNPSigner, o *verify.SNPOptions) []byte {
		e, err := verify.ParseSNPEvidence(snpEvidence(func(*attestation.SNPReport) {})(t, s, o))
		require.NoError(t, err)
		edit(e)
		return e.Marshal()
	}
}

func snpCases() []snpCase {
	low := verify.TCB{BootLoader: 3, SNP: 7, Microcode: 115}
	ahead := verify.TCB{BootLoader: 3, SNP: 8, Microcode: 116}
	return []snpCase{
		{"SNP bad signature", snpEvidence(func(r *attestation.SNPReport) { r.CorruptSignature = true }), verify.ErrSNPBadSignature},
		{"SNP untrusted root", func(t *testing.T, _ *attestation.SNPSigner, o *verify.SNPOptions) []byte {
			return snpEvidence(func(*attestation.SNPReport) {})(t, newSNPSigner(t, true), o)
		}, verify.ErrSNPUntrustedChain},
		{"SNP VCEK expired", func(t *testing.T, s *attestation.SNPSigner, o *verify.SNPOptions) []byte {
			o.Now = s.VCEK().NotAfter.Add(time.Second)
			return snpEvidence(func(*attestation.SNPReport) {})(t, s, o)
		}, verify.ErrSNPCertExpired},
		{"SNP TCB below minimum", snpEvidence(func(r *attestation.SNPReport) {
			r.ReportedTCB, r.CurrentTCB, r.CommittedTCB, r.LaunchTCB = &low, &low, &low, &low
		}), verify.ErrSNPTCBTooLow},
		{"SNP debug policy", snpEvidence(func(r *attestation.SNPReport) { r.Policy = attestation.DebugSNPPolicy }), verify.ErrSNPDebugAllowed},
		{"SNP migration agent", snpEvidence(func(r *attestation.SNPReport) { r.Policy = attestation.DefaultSNPPolicy | 1<<18 }), verify.ErrSNPMigrationAgent},
		{"SNP report data mismatch", snpEvidence(func(r *attestation.SNPReport) { r.ReportData[0] ^= 0xff }), verify.ErrSNPReportDataMismatch},
		{"SNP measurement not allowed", func(t *testing.T, s *attestation.SNPSigner, o *verify.SNPOptions) []byte {
			o.Policy.AllowedMeasurements = [][]byte{make([]byte, verify.SNPMeasurementSize)}
			return snpEvidence(func(r *attestation.SNPReport) { r.Measurement[0] = 1 })(t, s, o)
		}, verify.ErrSNPMeasurementNotAllowed},
		{"SNP uncommitted firmware", snpEvidence(func(r *attestation.SNPReport) { r.CurrentTCB = &ahead }), verify.ErrSNPPolicyViolation},
		{"SNP short report", rewrap(func(e *verify.SNPEvidence) { e.Report = e.Report[:1000] }), verify.ErrSNPReportMalformed},
		{"SNP certificate garbage", rewrap(func(e *verify.SNPEvidence) { e.Cert = []byte("not DER") }), verify.ErrSNPCertMalformed},
		{"SNP signer none", rewrap(func(e *verify.SNPEvidence) { e.Report[0x48] = 7 << 2 }), verify.ErrSNPSignerUnsupported},
		{"SNP envelope not base64", func(t *testing.T, s *attestation.SNPSigner, o *verify.SNPOptions) []byte {
			return []byte(`{"report":"!!!","cert":"` + base64.StdEncoding.EncodeToString([]byte("x")) + `"}`)
		}, verify.ErrSNPEnvelopeMalformed},
	}
}

func TestSNPBadEvidence(t *testing.T) {
	s := newSNPSigner(t, false)
	cases := snpCases()
	seen := map[error]string{}
	for _, tc := range nrasCases() { // SNP sentinels must also differ from every NRAS one
		seen[tc.want] = tc.name
	}
	for _, tc := range cases {
		if prev, dup := seen[tc.want]; dup {
			t.Fatalf("cases %q and %q expect the same sentinel", prev, tc.name)
		}
		seen[tc.want] = tc.name
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := snpOptions(t, s)
			ev := tc.build(t, s, &opts)
			res, err := verify.VerifySNP(ev, maxBytes, opts)
			require.Nil(t, res)
			require.ErrorIs(t, err, tc.want)
			for other, name := range seen {
				if other != tc.want {
					require.False(t, errors.Is(err, other), "also matches the sentinel of %q: %v", name, err)
				}
			}
		})
	}
	require.GreaterOrEqual(t, len(seen), 30)
}

func TestSNPSizeAndRoots(t *testing.T) {
	s := newSNPSigner(t, false)
	ev := snpEvidence(func(*attestation.SNPReport) {})(t, s, nil)
	opts := snpOptions(t, s)

	_, err := verify.VerifySNP(ev, len(ev)-1, opts)
	require.ErrorIs(t, err, verify.ErrEvidenceTooLarge)

	// No roots must never mean "go-sev-guest's embedded AMD roots".
	opts.Roots = verify.SNPRoots{}
	_, err = verify.VerifySNP(ev, maxBytes, opts)
	require.ErrorIs(t, err, verify.ErrInvalidArgument)

	// Roots for another product line only: nothing to chain to.
	genoa, err := attestation.NewSNPSigner(attestation.SNPSignerOptions{ProductName: "Genoa-B1", Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	opts.Roots, err = genoa.Roots()
	require.NoError(t, err)
	_, err = verify.VerifySNP(ev, maxBytes, opts)
	require.ErrorIs(t, err, verify.ErrSNPUntrustedChain)
}
