package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// full sets every field to a value unlike Default's, so a field the template forgets cannot
// round-trip by luck.
func full(home string) Config {
	return Config{
		Chain: Chain{
			RPC: "tcp://node:26657", GRPC: "node:9090", ChainID: "computed-1", KeyName: "hot",
			KeyringBackend: "file", KeyringDir: filepath.Join(home, "keys"), Fees: "7ucmpt", Gas: 123_456,
			FeeGranter: "cmpt1granter",
		},
		Provider: Provider{
			Operator: "cmpt1operator", Metro: "AMS", Endpoint: "https://gpu.example:8443",
			Bond: "5uusdc", WithdrawEveryBlocks: 77,
		},
		GPU: GPU{Backend: "nvml", MockCount: 3},
		Pricing: Pricing{
			Denom: "ucmpt",
			// A key with characters TOML needs quoted, and one that sorts first.
			BasePerGPUHour:     map[string]int64{"H100-SXM-80GB": 1, "A.B \"c\"": 42, "L40S-PCIE-45GB": 9_000_000_000},
			MetroMultiplierBps: 12_345, UtilisationScalingBps: 678, FloorPerBlock: 9, BlockSeconds: 6,
		},
		Attest: Attest{
			Mode: "nras", NRASURL: "https://nras.example/v3",
			TokenCommand:  []string{"issuer", "--nonce", "{nonce}", `quote"d`, "it's"},
			ClaimsCommand: []string{"claims"},
			RenewBefore:   Duration{90 * time.Minute},
		},
		Executors: Executors{
			WASMDir: `/srv/C:\wasm "dir"`, Docker: true, DockerGPUs: true, DockerNetwork: "lease-net",
			ProcessAllow: map[string][]string{"echo": {"/bin/echo", "hi"}, "true": {"/bin/true"}},
			JobTimeout:   Duration{1500 * time.Millisecond}, DefaultMemMiB: 2048,
		},
		Listen:   Listen{HTTP: "0.0.0.0:9999", AdminFrom: []string{"10.0.0.0/8", "::1/128"}},
		Receipts: Receipts{MaxBatch: 5, MaxAge: Duration{250 * time.Millisecond}, JournalSync: Duration{300 * time.Millisecond}, MaxRequests: 4096},
		DataDir:  filepath.Join(home, "data"),
		Extra:    map[string]string{"note": "kept"},
	}
}

// assertAllSet fails on any zero field of v, so adding a field to Config without adding it to
// full (and so to the round-trip) does not go unnoticed.
func assertAllSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.Kind() == reflect.Struct && v.Type() != reflect.TypeOf(Duration{}) {
		for i := range v.NumField() {
			assertAllSet(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
		return
	}
	if v.IsZero() {
		t.Errorf("%s is zero in full(): set it so the round-trip covers it", path)
	}
}

func TestDefaultValidates(t *testing.T) {
	home := t.TempDir()
	c := Default(home)
	if err := c.Validate(); err != nil {
		t.Fatalf("Default does not validate: %v", err)
	}
	// Everything the sidecar writes lives under the home it was initialised with.
	for _, p := range []string{c.Chain.KeyringDir, c.DataDir, c.Executors.WASMDir} {
		if !strings.HasPrefix(p, home) {
			t.Errorf("%q is outside home %q", p, home)
		}
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	home := t.TempDir()
	assertAllSet(t, reflect.ValueOf(full(home)), "Config")
	for name, c := range map[string]Config{"default": Default(home), "full": full(home)} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nested", "provider.toml")
			if err := Write(path, c, false); err != nil {
				t.Fatal(err)
			}
			got, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("round trip changed the config:\n got %+v\nwant %+v", got, c)
			}
		})
	}
}

// TestWriteIsCommented: operators edit this file by hand; every section explains itself.
func TestWriteIsCommented(t *testing.T) {
	path := filepath.Join(t.TempDir(), "provider.toml")
	if err := Write(path, Default(t.TempDir()), false); err != nil {
		t.Fatal(err)
	}
	bz, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(bz)
	if !strings.HasPrefix(text, "# ") {
		t.Errorf("file does not open with a comment:\n%s", text)
	}
	// Each section header is followed (before the next header) by at least one comment line.
	sections := strings.Split(text, "\n[")
	for _, s := range sections[1:] {
		header, body, _ := strings.Cut(s, "\n")
		if header == "pricing.base_per_gpu_hour]" {
			continue // the pricing comment above covers it
		}
		if !strings.Contains(body, "\n#") && !strings.HasPrefix(body, "#") {
			t.Errorf("section [%s has no comment", header)
		}
	}
	for _, want := range []string{"[chain]", "[provider]", "[gpu]", "[pricing]", "[pricing.base_per_gpu_hour]",
		"[attestation]", "[executors]", "[executors.process_allow]", "[listen]", "[receipts]",
		`renew_before = '10m0s'`, `job_timeout = '30s'`, `max_age = '5s'`, `journal_sync = '200ms'`, `max_requests = 65536`} {
		if !strings.Contains(text, want) {
			t.Errorf("file lacks %q:\n%s", want, text)
		}
	}
}

func TestWriteRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "provider.toml")
	first := Default(t.TempDir())
	if err := Write(path, first, false); err != nil {
		t.Fatal(err)
	}
	second := first
	second.Provider.Metro = "AMS"
	err := Write(path, second, false)
	if err == nil || !strings.Contains(err.Error(), "exists") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second Write without force: err = %v, want an 'exists (use --force ...)' error", err)
	}
	if c, err := Load(path); err != nil || c.Provider.Metro != "FRA" {
		t.Fatalf("refused Write changed the file: metro %q, err %v", c.Provider.Metro, err)
	}
	if err := Write(path, second, true); err != nil {
		t.Fatalf("Write with force: %v", err)
	}
	if c, err := Load(path); err != nil || c.Provider.Metro != "AMS" {
		t.Fatalf("forced Write did not replace the file: metro %q, err %v", c.Provider.Metro, err)
	}
}
