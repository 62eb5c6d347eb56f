package wasm

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/computed-network/computed/provider/exec"
)

// cacheFiles lists the compiled modules under dir (wazero keeps one file per module).
func cacheFiles(t testing.TB, dir string) map[string]os.FileInfo {
	t.Helper()
	files := map[string]os.FileInfo{}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		info, err := e.Info()
		files[path] = info
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// startService starts the echo module as service id on a fresh driver over cacheDir, as a
// restarted sidecar does, and checks it answers.
func startService(t *testing.T, cacheDir, id string) {
	t.Helper()
	_, echo := modules(t)
	d, err := New(Config{Timeout: 5 * time.Second, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: echo.path, Digest: echo.digest}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = d.Stop(ctx, id) }()
	url, err := d.Endpoint(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, url, "ping"); code != 200 || body != "ping" {
		t.Fatalf("POST = %d %q", code, body)
	}
}

// TestCompilationCacheAcrossRestarts: a second driver over the same CacheDir (the sidecar after a
// restart) runs the module from the file the first one wrote, without compiling and writing it
// again.
func TestCompilationCacheAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	startService(t, dir, "first")
	files := cacheFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("after the first start the cache holds %d files, want 1: %v", len(files), files)
	}
	startService(t, dir, "second")
	after := cacheFiles(t, dir)
	for path, info := range files {
		if now, ok := after[path]; !ok || !os.SameFile(info, now) || !now.ModTime().Equal(info.ModTime()) {
			t.Fatalf("the restarted driver compiled the module again: %s was rewritten", path)
		}
	}
}

// TestCorruptCacheEntry: an entry that no longer reads back (a power cut, a disk error) must not
// stop the module from running, and is written anew.
func TestCorruptCacheEntry(t *testing.T) {
	dir := t.TempDir()
	startService(t, dir, "first")
	files := cacheFiles(t, dir)
	if len(files) == 0 {
		t.Fatal("nothing cached")
	}
	for path := range files {
		if err := os.WriteFile(path, []byte(strings.Repeat("not a compiled module ", 8)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	startService(t, dir, "after-corruption")
	// The next start after the failed read writes the entry again, and it reads back.
	startService(t, dir, "rewritten")
	after := cacheFiles(t, dir)
	if len(after) != 1 {
		t.Fatalf("cache holds %d files after the rewrite, want 1", len(after))
	}
	for path, info := range after {
		if info.Size() < 1024 {
			t.Fatalf("%s is %d bytes: still the corrupt entry", path, info.Size())
		}
	}
}

// TestCacheDirRefused: a cache path that cannot be a directory is a configuration error.
func TestCacheDirRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{CacheDir: filepath.Join(file, "cache")}); err == nil {
		t.Fatal("New accepted a cache directory under a file")
	}
}

// BenchmarkStart: starting the echo service on a fresh driver, as the sidecar does for each
// lease at a restart, compiling the module (no cache) or reading it back (file cache).
func BenchmarkStart(b *testing.B) {
	_, echo := modules(b)
	for _, bc := range []struct {
		name string
		dir  string
	}{{"compile", ""}, {"file-cache", b.TempDir()}} {
		// startStop starts and stops the service on a fresh driver, as a restarted sidecar would.
		startStop := func(b *testing.B) {
			ctx := testCtx(b)
			d, err := New(Config{CacheDir: bc.dir})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := d.Start(ctx, exec.TaskConfig{ID: "svc", Workload: echo.path, Digest: echo.digest}); err != nil {
				b.Fatal(err)
			}
			_ = d.Stop(ctx, "svc")
		}
		b.Run(bc.name, func(b *testing.B) {
			if bc.dir != "" {
				startStop(b) // fills the cache
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				startStop(b)
			}
		})
	}
}

// TestCheckCompilesAhead: the check before a bid compiles the module in the background, so the
// lease the bid wins starts without compiling (the cached entry is not written again).
func TestCheckCompilesAhead(t *testing.T) {
	_, echo := modules(t)
	dir := t.TempDir()
	d, err := New(Config{Timeout: 5 * time.Second, CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for i := 0; i < 3; i++ { // orders for the same module: compiled once
		if err := d.Check(ctx, echo.path, echo.digest); err != nil {
			t.Fatal(err)
		}
	}
	d.warmMu.Lock()
	warming, n := d.warming[echo.digest], len(d.warming)
	d.warmMu.Unlock()
	if warming == nil || n != 1 {
		t.Fatalf("Check started %d background compiles, want 1 for %s", n, echo.digest)
	}
	select {
	case <-warming:
	case <-ctx.Done():
		t.Fatal("the background compile did not finish")
	}
	files := cacheFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("after Check the cache holds %d files, want 1", len(files))
	}
	if _, err := d.Start(ctx, exec.TaskConfig{ID: "svc", Workload: echo.path, Digest: echo.digest}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Stop(ctx, "svc") }()
	url, err := d.Endpoint(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, url, "ping"); code != 200 || body != "ping" {
		t.Fatalf("POST = %d %q", code, body)
	}
	for path, info := range files {
		if now := cacheFiles(t, dir)[path]; now == nil || !os.SameFile(info, now) {
			t.Fatalf("Start compiled the module again: %s was rewritten", path)
		}
	}
}
