package wasm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// wasmPageMiB is how many 64 KiB WebAssembly pages make a MiB.
const wasmPageMiB = 16

// newRuntime builds one task's runtime. Each task gets its own so its memory cap is its own and
// Stop can close everything it instantiated at once.
func newRuntime(ctx context.Context, cache wazero.CompilationCache, maxPages uint32) (wazero.Runtime, error) {
	rc := wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		// Without this a module that never returns pins a goroutine forever: cancellation and
		// timeouts are only honoured when the runtime checks the context.
		WithCloseOnContextDone(true)
	if maxPages > 0 {
		rc = rc.WithMemoryLimitPages(maxPages)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("wasm: instantiate WASI: %w", err)
	}
	return r, nil
}

// memoryPages is the tighter of the driver's cap and the task's own.
func memoryPages(driverMax uint32, taskMiB int64) uint32 {
	pages := driverMax
	if taskMiB > 0 {
		const limit = 65536 // 4 GiB, the most a 32-bit memory can address
		p := uint32(min(taskMiB*wasmPageMiB, limit))
		if pages == 0 || p < pages {
			pages = p
		}
	}
	return pages
}

// moduleConfig is the module's whole view of the outside: argv, env and the three standard
// streams. It deliberately keeps wazero's defaults for everything else: no filesystem, a fake
// wall and monotonic clock that advance 1ms per reading, sleeps that return at once, and a
// deterministic random source. So a module sees the same world on every provider, and replicated
// jobs that read the clock or ask for randomness still agree on their output. Do not add
// WithSysWalltime, WithSysNanotime, WithSysNanosleep or WithRandSource here.
func moduleConfig(args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) wazero.ModuleConfig {
	mc := wazero.NewModuleConfig().
		// An empty name lets one compiled module be instantiated many times concurrently.
		WithName("").
		WithArgs(append([]string{argv0}, args...)...).
		WithStdin(stdin).
		WithStdout(stdout).
		WithStderr(stderr)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	// Sorted, so the environment block is byte-identical everywhere.
	sort.Strings(keys)
	for _, k := range keys {
		mc = mc.WithEnv(k, env[k])
	}
	return mc
}

func checkEnv(env map[string]string) error {
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("wasm: invalid environment variable %q", k)
		}
	}
	return nil
}

// errOutputTooLarge is what a module's write fails with once its output exceeds the cap.
var errOutputTooLarge = errors.New("output too large")

// cappedBuffer collects a module's stdout up to max bytes; beyond that writes fail, and the
// run is failed rather than its output silently truncated.
type cappedBuffer struct {
	max      int
	buf      []byte
	overflow bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if len(c.buf)+len(p) > c.max {
		c.overflow = true
		return 0, errOutputTooLarge
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}
