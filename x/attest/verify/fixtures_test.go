package verify

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fixturesDir locates /work/shared/fixtures/attestation relative to the repository root (the
// directory holding go.mod), skipping when the shared fixtures are not checked out next to it.
func fixturesDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	fx := filepath.Join(dir, "..", "shared", "fixtures", "attestation")
	if _, err := os.Stat(filepath.Join(fx, "README.md")); err != nil {
		t.Skipf("third-party attestation fixtures not found at %s (expected ../shared next to the repo): %v", fx, err)
	}
	return fx
}

func readFixture(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{fixturesDir(t)}, parts...)...))
	require.NoError(t, err)
	return b
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func nvidiaKeys(t testing.TB) NRASKeySet {
	t.Helper()
	keys, err := ParseJWKS(readFixture(t, "nvidia", "nras", "tinfoil-h100-20260629", "jwks.json"))
	require.NoError(t, err)
	return keys
}

// The fixtures README checked every verdict at this machine time.
var readmeCheckTime = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

const tinfoilKid = "nv-eat-kid-prod-20260628170000087-6f27a971-6e29-42d6-afb9-8e3fbb17fa25"

// tinfoilNonce is the nonce teep sent to NRAS, taken from the request body rather than from the
// token, so the test checks that the token binds what was asked for.
func tinfoilNonce(t testing.TB) []byte {
	var req struct {
		Nonce string `json:"nonce"`
	}
	require.NoError(t, json.Unmarshal(readFixture(t, "nvidia", "nras", "tinfoil-h100-20260629", "nras-request-body.json"), &req))
	return mustHex(t, req.Nonce)
}

func tinfoilOptions(t testing.TB, now time.Time) NRASOptions {
	pol := DefaultGPUPolicy()
	pol.AllowedHWModels = []string{"GH100"}
	pol.MinDriverVersion = "550.90.07"
	pol.AllowedVBIOSVersions = []string{"96.00.d9.00.02"}
	pol.ExpectedGPUCount = 1
	return NRASOptions{Keys: nvidiaKeys(t), Issuer: NRASIssuer, Nonce: tinfoilNonce(t), Now: now, Policy: pol}
}

func TestJWKSFixture(t *testing.T) {
	keys := nvidiaKeys(t)
	require.Len(t, keys, 32)
	require.Contains(t, keys, tinfoilKid)
	require.Equal(t, 384, keys[tinfoilKid].Params().BitSize)
}

func TestNRASTinfoilH100(t *testing.T) {
	evidence := readFixture(t, "nvidia", "nras", "tinfoil-h100-20260629", "nras-response.json")
	iat := time.Unix(1782698883, 0) // 2026-06-29T02:08:03Z
	exp := time.Unix(1782702483, 0)

	t.Run("accepted inside [iat, exp)", func(t *testing.T) {
		for _, now := range []time.Time{iat, iat.Add(30 * time.Minute), exp.Add(-time.Second)} {
			res, err := VerifyNRAS(evidence, 64*1024, tinfoilOptions(t, now))
			require.NoError(t, err, "now=%s", now.UTC())
			require.Equal(t, tinfoilKid, res.Kid)
			require.Equal(t, iat.Unix(), res.IssuedAt)
			require.Equal(t, exp.Unix(), res.ExpiresAt)
			require.Equal(t, 2, res.SignaturesVerified)
			require.Equal(t, []GPUResult{{
				ID: "GPU-0", Index: 0, HWModel: "GH100",
				UEID:          "645491728318197586580044110930866076104639838622",
				DriverVersion: "595.71.05", VBIOSVersion: "96.00.D9.00.02",
				MeasRes: "success", DebugStatus: "disabled", SecureBoot: true,
				IssuedAt: iat.Unix(), ExpiresAt: exp.Unix(),
			}}, res.GPUs)
		}
	})
	t.Run("expired at exp and at the README check time", func(t *testing.T) {
		for _, now := range []time.Time{exp, readmeCheckTime} {
			_, err := VerifyNRAS(evidence, 64*1024, tinfoilOptions(t, now))
			require.ErrorIs(t, err, ErrTokenExpired, "now=%s", now.UTC())
		}
	})
	t.Run("leeway keeps it alive a little longer", func(t *testing.T) {
		opts := tinfoilOptions(t, exp.Add(30*time.Second))
		opts.Leeway = time.Minute
		_, err := VerifyNRAS(evidence, 64*1024, opts)
		require.NoError(t, err)
	})
	t.Run("not yet valid before nbf", func(t *testing.T) {
		_, err := VerifyNRAS(evidence, 64*1024, tinfoilOptions(t, iat.Add(-time.Second)))
		require.ErrorIs(t, err, ErrTokenNotYetValid)
	})
	t.Run("other nonce", func(t *testing.T) {
		opts := tinfoilOptions(t, iat)
		opts.Nonce = make([]byte, NonceSize)
		_, err := VerifyNRAS(evidence, 64*1024, opts)
		require.ErrorIs(t, err, ErrNonceMismatch)
	})
	t.Run("old driver policy", func(t *testing.T) {
		opts := tinfoilOptions(t, iat)
		opts.Policy.MinDriverVersion = "595.71.6"
		_, err := VerifyNRAS(evidence, 64*1024, opts)
		require.ErrorIs(t, err, ErrGPUDriverTooOld)
	})
	t.Run("without the signing key", func(t *testing.T) {
		opts := tinfoilOptions(t, iat)
		delete(opts.Keys, tinfoilKid)
		_, err := VerifyNRAS(evidence, 64*1024, opts)
		require.ErrorIs(t, err, ErrUnknownKid)
	})
	t.Run("one flipped byte in the GPU token breaks the digest", func(t *testing.T) {
		eat, err := ParseDetachedEAT(evidence)
		require.NoError(t, err)
		gpu := []byte(eat.GPUs[0].JWT)
		gpu[len(gpu)/2] ^= 1 // inside the payload segment: still base64url
		tampered, err := json.Marshal([]any{[]any{"JWT", eat.Overall}, map[string]string{"GPU-0": string(gpu)}})
		require.NoError(t, err)
		_, err = VerifyNRAS(tampered, 64*1024, tinfoilOptions(t, iat))
		require.ErrorIs(t, err, ErrSubmodDigestMismatch)
	})
	t.Run("too large for the caller's bound", func(t *testing.T) {
		_, err := VerifyNRAS(evidence, len(evidence)-1, tinfoilOptions(t, iat))
		require.ErrorIs(t, err, ErrEvidenceTooLarge)
	})
}

func TestNRASChutes8xH100OverallFalse(t *testing.T) {
	evidence := readFixture(t, "nvidia", "nras", "chutes-8xh100-nonce-mismatch-20260629", "nras-response.json")
	now := time.Unix(1782698832+60, 0) // a minute after iat 2026-06-29T02:07:12Z
	nonce := mustHex(t, "c7fe347ecca03db12e156e048bbe809024928ef0707a319796956fe7415148e4")
	keys := nvidiaKeys(t)

	// Every one of the nine signatures is genuine and every digest matches...
	eat, err := ParseDetachedEAT(evidence)
	require.NoError(t, err)
	require.Len(t, eat.GPUs, 8)
	checker := &tokenChecker{keys: keys, issuer: NRASIssuer, now: now.Unix()}
	overall, err := checker.verify(eat.Overall)
	require.NoError(t, err)
	digests, err := parseSubmods(overall.claims)
	require.NoError(t, err)
	require.NoError(t, matchSubmods(digests, eat.GPUs))
	for i, g := range eat.GPUs {
		require.Equal(t, uint32(i), g.Index)
		_, err := checker.verify(g.JWT)
		require.NoError(t, err, g.ID)
	}

	// ...and NRAS's verdict is still "no".
	_, err = VerifyNRAS(evidence, 64*1024, NRASOptions{
		Keys: keys, Issuer: NRASIssuer, Nonce: nonce, Now: now, Policy: DefaultGPUPolicy(),
	})
	require.ErrorIs(t, err, ErrOverallResultFalse)
}

func TestNRASKeysNotPublished(t *testing.T) {
	keys := nvidiaKeys(t)
	nonce := mustHex(t, "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb")

	t.Run("hopperClaimsv3: kid not in the key set", func(t *testing.T) {
		evidence := readFixture(t, "nvidia", "nras", "nvidia-sdk", "hopperClaimsv3_detached_eat.json")
		_, err := VerifyNRAS(evidence, 64*1024, NRASOptions{
			Keys: keys, Issuer: NRASIssuer, Nonce: nonce,
			Now: time.Unix(1749601858+60, 0), Policy: DefaultGPUPolicy(),
		})
		require.ErrorIs(t, err, ErrUnknownKid)
	})
	t.Run("staging switch token: unknown kid, and not a GPU", func(t *testing.T) {
		evidence := readFixture(t, "nvidia", "nras", "nvidia-sdk", "switch_detached_eat.json")
		_, err := VerifyNRAS(evidence, 64*1024, NRASOptions{
			Keys: keys, Issuer: NRASIssuer, Nonce: nonce,
			Now: time.Unix(1751155060+60, 0), Policy: DefaultGPUPolicy(),
		})
		require.ErrorIs(t, err, ErrUnknownKid)
		_, err = ParseDetachedEAT(evidence)
		require.ErrorIs(t, err, ErrUnexpectedSubmod)
	})
}

// milanRoots etc. build trusted roots from the fixture bundles.
func fixtureRoots(t testing.TB, productLine string, bundles ...string) SNPRoots {
	t.Helper()
	roots := SNPRoots{}
	for _, b := range bundles {
		require.NoError(t, roots.AddPEM(productLine, readFixture(t, "amd-sev-snp", "go-sev-guest", b)))
	}
	return roots
}

func snpEvidenceFromFiles(t testing.TB, report, cert []string) []byte {
	t.Helper()
	return SNPEvidence{
		Report: readFixture(t, append([]string{"amd-sev-snp"}, report...)...),
		Cert:   readFixture(t, append([]string{"amd-sev-snp"}, cert...)...),
	}.Marshal()
}

func reportData32(prefix []byte) []byte {
	out := make([]byte, NonceSize)
	copy(out, prefix)
	return out
}

func TestSNPMilanGoSevGuest(t *testing.T) {
	ev := snpEvidenceFromFiles(t, []string{"go-sev-guest", "attestation.bin"}, []string{"go-sev-guest", "vcek.testcer"})
	opts := SNPOptions{
		Roots:      fixtureRoots(t, "Milan", "milan.testcer"),
		Now:        time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ReportData: reportData32([]byte{1, 2, 3, 4, 5}),
		Policy: SNPPolicy{
			MinTCB: TCB{BootLoader: 2, TEE: 0, SNP: 5, Microcode: 68},
			// The sample guest was launched with policy 0xB0000, which has the debug bit set.
			AllowDebug: true,
			AllowedMeasurements: [][]byte{mustHex(t,
				"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01")},
		},
	}
	res, err := VerifySNP(ev, 64*1024, opts)
	require.NoError(t, err)
	require.Equal(t, uint32(2), res.Version)
	require.Equal(t, "VCEK", res.Signer)
	require.Equal(t, "Milan", res.ProductLine)
	require.Equal(t, uint64(0xB0000), res.GuestPolicy)
	require.Equal(t, TCB{BootLoader: 2, TEE: 0, SNP: 5, Microcode: 68}, res.ReportedTCB)

	t.Run("debug policy rejected by default", func(t *testing.T) {
		o := opts
		o.Policy.AllowDebug = false
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPDebugAllowed)
	})
	t.Run("measurement not in the allow list", func(t *testing.T) {
		o := opts
		o.Policy.AllowedMeasurements = [][]byte{make([]byte, SNPMeasurementSize)}
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPMeasurementNotAllowed)
	})
	t.Run("other nonce", func(t *testing.T) {
		o := opts
		o.ReportData = reportData32([]byte{1, 2, 3, 4, 6})
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPReportDataMismatch)
	})
	t.Run("TCB below minimum", func(t *testing.T) {
		o := opts
		o.Policy.MinTCB.Microcode = 69
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPTCBTooLow)
	})
	t.Run("Genoa roots do not vouch for a Milan VCEK", func(t *testing.T) {
		o := opts
		o.Roots = fixtureRoots(t, "Genoa", "ask_ark_genoa.pem")
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPUntrustedChain)
	})
	t.Run("VCEK not yet valid", func(t *testing.T) {
		o := opts
		o.Now = time.Date(2022, 9, 24, 0, 0, 0, 0, time.UTC)
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPCertNotYetValid)
	})
}

func TestSNPGenoaV5(t *testing.T) {
	ev := snpEvidenceFromFiles(t, []string{"attestation-rs", "live-report-v5-genoa.bin"}, []string{"attestation-rs", "live-vcek-genoa.der"})
	res, err := VerifySNP(ev, 64*1024, SNPOptions{
		Roots:      fixtureRoots(t, "Genoa", "ask_ark_genoa.pem"),
		Now:        time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		ReportData: reportData32([]byte("hello-attestation")),
		Policy:     SNPPolicy{MinTCB: TCB{BootLoader: 10, SNP: 27, Microcode: 27}},
	})
	require.NoError(t, err)
	require.Equal(t, uint32(5), res.Version)
	require.Equal(t, "Genoa", res.ProductLine)
	require.Equal(t, uint64(0x30000), res.GuestPolicy)
	require.Equal(t, TCB{BootLoader: 10, SNP: 27, Microcode: 27}, res.ReportedTCB)
}

func TestSNPAttestationRSMilan(t *testing.T) {
	report := readFixture(t, "amd-sev-snp", "attestation-rs", "test-report.bin")
	ev := snpEvidenceFromFiles(t, []string{"attestation-rs", "test-report.bin"}, []string{"attestation-rs", "test-vcek.der"})
	opts := SNPOptions{
		Roots:      fixtureRoots(t, "Milan", "milan.testcer"),
		Now:        time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ReportData: report[0x50:0x70], // the README does not say what was bound; take it as given
		Policy: SNPPolicy{
			MinTCB: TCB{BootLoader: 3, SNP: 8, Microcode: 115},
			// CURRENT_TCB (ucode 206) is ahead of COMMITTED_TCB (ucode 115).
			PermitProvisionalFirmware: true,
		},
	}
	res, err := VerifySNP(ev, 64*1024, opts)
	require.NoError(t, err)
	require.Equal(t, uint32(4), res.GuestSVN)
	require.Equal(t, uint64(0x3001F), res.GuestPolicy)

	t.Run("provisional firmware refused unless permitted", func(t *testing.T) {
		o := opts
		o.Policy.PermitProvisionalFirmware = false
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPPolicyViolation)
	})
}

func TestSNPVLEK(t *testing.T) {
	ev := snpEvidenceFromFiles(t, []string{"attestation-rs", "test-vlek-report.bin"}, []string{"attestation-rs", "test-vlek.der"})
	report := readFixture(t, "amd-sev-snp", "attestation-rs", "test-vlek-report.bin")
	opts := SNPOptions{
		Roots:      fixtureRoots(t, "Milan", "milan.testcer", "ask_ark_milan_vlek.pem"),
		ReportData: report[0x50:0x70],
		// CURRENT_TCB (ucode 220) is ahead of COMMITTED_TCB (ucode 219).
		Policy: SNPPolicy{MinTCB: TCB{BootLoader: 4, SNP: 24, Microcode: 217}, PermitProvisionalFirmware: true},
	}
	t.Run("expired at the README check time", func(t *testing.T) {
		o := opts
		o.Now = readmeCheckTime
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPCertExpired)
	})
	t.Run("accepted inside the VLEK validity window", func(t *testing.T) {
		for _, now := range []time.Time{
			time.Date(2024, 12, 10, 22, 14, 21, 0, time.UTC),
			time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2025, 12, 10, 22, 14, 21, 0, time.UTC),
		} {
			o := opts
			o.Now = now
			res, err := VerifySNP(ev, 64*1024, o)
			require.NoError(t, err, "now=%s", now)
			require.Equal(t, "VLEK", res.Signer)
			require.Equal(t, uint32(3), res.Version)
			require.Equal(t, uint32(1), res.VMPL)
		}
	})
	t.Run("not yet valid just before the window", func(t *testing.T) {
		o := opts
		o.Now = time.Date(2024, 12, 10, 22, 14, 20, 0, time.UTC)
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPCertNotYetValid)
	})
	t.Run("VCEK-only roots cannot verify a VLEK", func(t *testing.T) {
		o := opts
		o.Now = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		o.Roots = fixtureRoots(t, "Milan", "milan.testcer")
		_, err := VerifySNP(ev, 64*1024, o)
		require.ErrorIs(t, err, ErrSNPUntrustedChain)
	})
}
