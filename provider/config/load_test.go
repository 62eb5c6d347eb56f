package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadRejects edits a written default the way an operator might get it wrong and expects
// Load to name the problem.
func TestLoadRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "provider.toml")
	if err := Write(path, Default(t.TempDir()), false); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		old, new string
		want     []string
		// at is the start of the line the error must point to, when go-toml knows it.
		at string
	}{
		// A typo must not silently fall back to a default.
		{"unknown top-level key", "data_dir =", "dta_dir = 'x'\ndata_dir =", []string{"unknown keys: dta_dir"}, "dta_dir"},
		{"unknown key in a section", "mock_count = 8", "mock_count = 8\ncount = 8", []string{"unknown keys: gpu.count"}, "count ="},
		{"unknown section", "[listen]", "[listn]\nhttp = 'x'\n\n[listen]", []string{"unknown keys: listn"}, "[listn]"},
		{"bad gpu backend", `backend = 'mock'`, `backend = "cuda"`, []string{`gpu.backend must be nvml or mock, got "cuda"`}, ""},
		{"bad attestation mode", `mode = 'command'`, `mode = "tpm"`, []string{`attestation.mode must be command or nras, got "tpm"`}, ""},
		{"negative journal sync", "journal_sync = '200ms'", "journal_sync = '-1s'", []string{"receipts.journal_sync must not be negative, got -1s"}, ""},
		{"negative receipt cap", "max_requests = 65536", "max_requests = -5", []string{"receipts.max_requests must not be negative, got -5"}, ""},
		{"bad admin network", "admin_from = []", `admin_from = ["10.0.0.0/33"]`, []string{"listen.admin_from"}, ""},
		{"GPUs for containers from mock GPUs", "docker_gpus = false", "docker_gpus = true", []string{"executors.docker_gpus needs gpu.backend = nvml"}, ""},
		// A negative price (with a negative floor) made the bid engine build a negative coin,
		// which panics in the watcher.
		{"negative price", "'H100-SXM-80GB' = 2000000", "'H100-SXM-80GB' = -5", []string{`pricing.base_per_gpu_hour["H100-SXM-80GB"] must be positive, got -5`}, ""},
		{"negative floor", "floor_per_block = 1", "floor_per_block = -1", []string{"pricing.floor_per_block must not be negative"}, ""},
		{"huge utilisation scaling", "utilisation_scaling_bps = 2000", "utilisation_scaling_bps = 9223372036854775807", []string{"pricing.utilisation_scaling_bps must be in 0..1000000"}, ""},
		{"negative multiplier", "metro_multiplier_bps = 10000", "metro_multiplier_bps = -1", []string{"pricing.metro_multiplier_bps"}, ""},
		{"block longer than an hour", "block_seconds = 1", "block_seconds = 7200", []string{"pricing.block_seconds"}, ""},
		{"missing metro", `metro = 'FRA'`, ``, []string{"provider.metro is required"}, ""},
		{"empty metro", `metro = 'FRA'`, `metro = ""`, []string{"provider.metro is required"}, ""},
		{"missing chain id", `chain_id = 'computed-local'`, ``, []string{"chain.chain_id"}, ""},
		{"no prices", "'H100-SXM-80GB' = 2000000\n'H200-SXM-141GB' = 3000000\n", ``, []string{"pricing.base_per_gpu_hour"}, ""},
		{"bad duration", `renew_before = '10m0s'`, `renew_before = "ten minutes"`, []string{"ten minutes"}, ""},
		{"wrong type", `gas = 500000`, `gas = "lots"`, []string{"provider.toml", "Chain.Gas"}, `gas = "lots"`},
		{"not TOML", `[chain]`, `[chain`, []string{"provider.toml"}, "[chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := string(orig)
			if !strings.Contains(text, tc.old) {
				t.Fatalf("written default lacks %q:\n%s", tc.old, text)
			}
			p := filepath.Join(t.TempDir(), "provider.toml")
			text = strings.Replace(text, tc.old, tc.new, 1)
			if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil {
				t.Fatal("Load accepted the file")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.at != "" {
				line := lineOf(t, text, tc.at)
				if !strings.Contains(err.Error(), fmt.Sprintf(":%d:", line)) && !strings.Contains(err.Error(), fmt.Sprintf("line %d)", line)) {
					t.Errorf("error %q does not point at line %d", err, line)
				}
			}
		})
	}
}

// lineOf is the 1-based number of the first line of text starting with prefix.
func lineOf(t *testing.T, text, prefix string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("no line starts with %q", prefix)
	return 0
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist so callers can suggest 'provider init'", err)
	}
}

// Relative directories are the config file's, whatever the sidecar's working directory: a
// relative wasm_dir was joined to itself on the way to the executor, and every WebAssembly
// order then looked "not on this host".
func TestLoadRelativeDirs(t *testing.T) {
	home := t.TempDir()
	c := Default(home)
	c.DataDir, c.Executors.WASMDir = "data", filepath.Join("mods", "wasm")
	path := filepath.Join(home, "provider.toml")
	if err := Write(path, c, false); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "data"); got.DataDir != want {
		t.Errorf("data_dir %q, want %q", got.DataDir, want)
	}
	if want := filepath.Join(home, "mods", "wasm"); got.Executors.WASMDir != want {
		t.Errorf("wasm_dir %q, want %q", got.Executors.WASMDir, want)
	}
}
