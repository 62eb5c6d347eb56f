package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/computed-network/computed/provider/config"
)

// `provider init --home` with a relative home writes absolute paths: relative ones are read as
// the config file's (config.Load), so "p/provider-data" under home "p" became p/p/provider-data.
func TestInitRelativeHome(t *testing.T) {
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.Chdir(wd) }()

	root := Command()
	root.PersistentFlags().String(flags.FlagHome, "", "home")
	root.SetArgs([]string{"init", "--home", "p"})
	root.SetOut(new(nopWriter))
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(filepath.Join(dir, "p", "provider.toml"))
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "p")
	if c.DataDir != filepath.Join(home, "provider-data") || c.Executors.WASMDir != filepath.Join(home, "wasm") || c.Chain.KeyringDir != home {
		t.Fatalf("paths: data %q, wasm %q, keyring %q; want them under %q", c.DataDir, c.Executors.WASMDir, c.Chain.KeyringDir, home)
	}
	if _, err := os.Stat(c.Executors.WASMDir); err != nil {
		t.Fatalf("wasm dir: %v", err)
	}
}

type nopWriter struct{}

func (*nopWriter) Write(p []byte) (int, error) { return len(p), nil }
