package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/computed-network/computed/provider/exec"
)

// maxModuleBytes bounds what a workload reference can make the driver read.
const maxModuleBytes = 256 << 20

// normalizeDigest accepts "<64 hex>" or "sha256:<64 hex>" and returns the lower-case hex.
func normalizeDigest(d string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(d))
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) != sha256.Size*2 {
		return "", fmt.Errorf("%w: digest %q is not a SHA-256 (64 hex, optionally sha256:-prefixed)", exec.ErrRefused, d)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("%w: digest %q is not hex", exec.ErrRefused, d)
	}
	return h, nil
}

// modulePath resolves a workload to a file. With a module directory, the workload must stay
// inside it, so an order cannot point the driver at arbitrary files on the provider.
func modulePath(dir, workload string) (string, error) {
	if workload == "" {
		return "", fmt.Errorf("%w: empty module reference", exec.ErrRefused)
	}
	if dir == "" {
		return workload, nil
	}
	rel := workload
	if filepath.IsAbs(workload) {
		r, err := filepath.Rel(dir, workload)
		if err != nil {
			return "", fmt.Errorf("%w: module %q is outside %s", exec.ErrRefused, workload, dir)
		}
		rel = r
	}
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%w: module %q is outside %s", exec.ErrRefused, workload, dir)
	}
	return filepath.Join(dir, rel), nil
}

// loadModule reads the module and refuses it unless its SHA-256 is the pinned digest.
func loadModule(dir, workload, digest string) ([]byte, error) {
	want, err := normalizeDigest(digest)
	if err != nil {
		return nil, err
	}
	path, err := modulePath(dir, workload)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("wasm: module %s: %w", path, exec.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("wasm: open module: %w", err)
	}
	defer f.Close()
	bin, err := io.ReadAll(io.LimitReader(f, maxModuleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("wasm: read module %s: %w", path, err)
	}
	if len(bin) > maxModuleBytes {
		return nil, fmt.Errorf("%w: module %s is larger than %d bytes", exec.ErrRefused, path, maxModuleBytes)
	}
	sum := sha256.Sum256(bin)
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("%w: module %s has sha256 %s, order pins %s", exec.ErrRefused, path, got, want)
	}
	return bin, nil
}

// Check says whether the module is here, inside the module directory, and has the pinned
// SHA-256: what Start would refuse is refused before a bid. A module that passes is compiled
// in the background meanwhile, so the lease starts at once if the bid wins.
func (d *Driver) Check(_ context.Context, workload, digest string) error {
	bin, err := loadModule(d.cfg.ModuleDir, workload, digest)
	if err != nil {
		return err
	}
	h, _ := normalizeDigest(digest) // loadModule accepted it
	d.warm(h, bin)
	return nil
}
