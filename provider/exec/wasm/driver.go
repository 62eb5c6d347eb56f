// Package wasm runs WebAssembly (WASI preview 1) workloads in-process with wazero. Modules see
// no filesystem, no network, fake clocks and a deterministic random source, so a one-shot job
// gives byte-identical output on every provider: replicated orders compare ResultDigest.
//
// A task with Input is a one-shot job: the module's _start runs once with Input on stdin and its
// stdout is the result. A task without Input is a service: each HTTP request to Endpoint runs a
// fresh instance with the request body on stdin and answers with its stdout.
package wasm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/computed-network/computed/provider/exec"
)

// Config configures the driver.
type Config struct {
	// ModuleDir is where modules are looked up; a task's Workload is a file name or a path
	// inside it. Empty means Workload is used as given.
	ModuleDir string
	// MaxMemoryPages caps each instance's memory in 64 KiB pages (0: wazero's 4 GiB). A task's
	// MemoryMiB can lower it further.
	MaxMemoryPages uint32
	// Timeout bounds a one-shot job's whole run and each service request (0: DefaultTimeout).
	Timeout time.Duration
	// CacheDir keeps compiled modules on disk, so a restarted sidecar resumes its leases without
	// compiling their modules again (a Go-built module takes about a second). Empty: in memory.
	CacheDir string
}

// DefaultTimeout applies when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Per-task bounds, so one task cannot exhaust the sidecar's memory.
const (
	maxOutputBytes  = 64 << 20
	maxRequestBytes = 16 << 20
	logBytes        = exec.DefaultLogBytes
)

// Driver runs wasm tasks. It is safe for concurrent use.
type Driver struct {
	cfg Config
	// cache shares compiled code across tasks, so leases of the same module compile it once;
	// with CacheDir, across restarts too. memCache is the fallback when the files fail.
	cache    wazero.CompilationCache
	memCache wazero.CompilationCache

	// warming holds, per module digest, a channel closed once Check's background compile of the
	// module has finished: a lease won meanwhile waits for it rather than compile it twice.
	warmMu  sync.Mutex
	warming map[string]chan struct{}

	mu    sync.Mutex
	tasks map[string]*task
}

var _ exec.Driver = (*Driver)(nil)

// New returns a driver; it starts nothing until Start. It fails only when CacheDir cannot be
// created.
func New(cfg Config) (*Driver, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	d := &Driver{cfg: cfg, memCache: wazero.NewCompilationCache(), tasks: map[string]*task{}, warming: map[string]chan struct{}{}}
	d.cache = d.memCache
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm: compilation cache %s: %w", cfg.CacheDir, err)
		}
		d.cache = c
	}
	return d, nil
}

// Name implements exec.Driver.
func (d *Driver) Name() string { return "wasm" }

// task is one job or service.
type task struct {
	cfg    exec.TaskConfig
	digest string
	stderr *exec.TailBuffer
	// done is closed once the task has ended and released its runtime.
	done chan struct{}
	// stop cancels whatever the task is running.
	stop context.CancelFunc

	// rtMu is held shared by every run of the module and exclusively to close the runtime, so
	// the runtime is never closed under a request still instantiating it.
	rtMu     sync.RWMutex
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	srv      *http.Server
	url      string
	sem      chan struct{}
	bodies   chan struct{} // request bodies being read (handler)

	mu       sync.Mutex
	status   exec.TaskStatus
	output   []byte
	stopping bool
}

func (t *task) oneShot() bool { return t.cfg.Input != nil }

func (t *task) snapshot() exec.TaskStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// Start implements exec.Driver. A task already known under cfg.ID and not failed or stopped is
// returned as is, so a repeated Start does not rerun a job.
func (d *Driver) Start(ctx context.Context, cfg exec.TaskConfig) (exec.TaskStatus, error) {
	if cfg.ID == "" {
		return exec.TaskStatus{}, errors.New("wasm: task id is empty")
	}
	digest, err := normalizeDigest(cfg.Digest)
	if err != nil {
		return exec.TaskStatus{}, err
	}
	if err := checkEnv(cfg.Env); err != nil {
		return exec.TaskStatus{}, err
	}

	d.mu.Lock()
	if old, ok := d.tasks[cfg.ID]; ok {
		st := old.snapshot()
		if st.State != exec.TaskFailed && st.State != exec.TaskStopped {
			d.mu.Unlock()
			if old.digest != digest || old.cfg.Workload != cfg.Workload {
				return st, fmt.Errorf("wasm: task %s already runs %s (sha256 %s)", cfg.ID, old.cfg.Workload, old.digest)
			}
			return st, nil
		}
	}
	ctx0, cancel := context.WithCancel(context.Background())
	t := &task{
		cfg:    cfg,
		digest: digest,
		stderr: exec.NewTailBuffer(logBytes),
		done:   make(chan struct{}),
		stop:   cancel,
		status: exec.TaskStatus{ID: cfg.ID, State: exec.TaskPending, StartedAt: time.Now()},
	}
	d.tasks[cfg.ID] = t
	d.mu.Unlock()

	if err := d.prepare(ctx, t); err != nil {
		cancel()
		t.finish(exec.TaskFailed, -1, err.Error())
		close(t.done)
		return t.snapshot(), err
	}
	if t.oneShot() {
		t.setRunning()
		go d.runJob(ctx0, t)
	} else if err := d.serve(ctx0, t); err != nil {
		cancel()
		t.release()
		t.finish(exec.TaskFailed, -1, err.Error())
		close(t.done)
		return t.snapshot(), err
	}
	return t.snapshot(), nil
}

// prepare verifies and compiles the module into the task's own runtime.
func (d *Driver) prepare(ctx context.Context, t *task) error {
	bin, err := loadModule(d.cfg.ModuleDir, t.cfg.Workload, t.cfg.Digest)
	if err != nil {
		return err
	}
	d.warmMu.Lock()
	warming := d.warming[t.digest]
	d.warmMu.Unlock()
	if warming != nil {
		select {
		case <-warming:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	rt, compiled, err := d.compileCached(ctx, memoryPages(d.cfg.MaxMemoryPages, t.cfg.MemoryMiB), bin)
	if err != nil {
		return fmt.Errorf("wasm: compile %s: %w", t.cfg.Workload, err)
	}
	t.rt, t.compiled = rt, compiled
	return nil
}

// warm compiles bin into the driver's cache in the background, once per module, so the lease a
// bid wins starts without compiling (about a second for a Go-built module, more on a busy host).
func (d *Driver) warm(digest string, bin []byte) {
	d.warmMu.Lock()
	defer d.warmMu.Unlock()
	if _, ok := d.warming[digest]; ok {
		return
	}
	done := make(chan struct{})
	d.warming[digest] = done
	go func() {
		defer close(done)
		ctx := context.Background()
		// A module that does not compile is refused by Start, with the error, if a bid wins.
		if rt, _, err := d.compileCached(ctx, 0, bin); err == nil {
			// The compiled code stays in the cache: only closing it would drop it.
			_ = rt.Close(ctx)
		}
	}()
}

// compileCached builds a runtime and compiles bin in it through the driver's cache.
func (d *Driver) compileCached(ctx context.Context, pages uint32, bin []byte) (wazero.Runtime, wazero.CompiledModule, error) {
	rt, compiled, err := compile(ctx, d.cache, pages, bin)
	if err != nil && d.cache != d.memCache && cacheFailed(err) {
		// wazero refuses a cached entry that a power cut left short (it fails its checksum)
		// instead of compiling again, and a full disk fails the write: compile in memory, and
		// drop an unreadable entry so the next start writes it anew.
		if strings.Contains(err.Error(), cacheErrPrefix) {
			clearCache(d.cfg.CacheDir)
		}
		rt, compiled, err = compile(ctx, d.memCache, pages, bin)
	}
	return rt, compiled, err
}

// compile builds a runtime on cache and compiles bin in it.
func compile(ctx context.Context, cache wazero.CompilationCache, pages uint32, bin []byte) (wazero.Runtime, wazero.CompiledModule, error) {
	rt, err := newRuntime(ctx, cache, pages)
	if err != nil {
		return nil, nil, err
	}
	compiled, err := rt.CompileModule(ctx, bin)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, nil, err
	}
	return rt, compiled, nil
}

// cacheErrPrefix starts wazero's errors reading a cached entry.
const cacheErrPrefix = "compilationcache:"

// cacheFailed tells the file cache's failures (reading an entry, writing one) from the module's.
func cacheFailed(err error) bool {
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	return strings.Contains(err.Error(), cacheErrPrefix) || errors.As(err, &pathErr) || errors.As(err, &linkErr)
}

// clearCache removes the compiled modules under dir, keeping the directories wazero writes into.
func clearCache(dir string) {
	_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			_ = os.Remove(path)
		}
		return nil
	})
}

func (t *task) setRunning() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.State = exec.TaskRunning
}

func (t *task) finish(state exec.TaskState, code int, msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.State, t.status.ExitCode, t.status.Error = state, code, msg
	t.status.EndedAt = time.Now()
}

// release frees the task's runtime and compiled code.
func (t *task) release() {
	t.rtMu.Lock()
	defer t.rtMu.Unlock()
	if t.rt != nil {
		_ = t.rt.Close(context.Background())
		t.rt, t.compiled = nil, nil
	}
}

// errReleased is what a run gets once Stop has closed the runtime.
var errReleased = errors.New("task stopped")

// run instantiates the module once, running _start to completion.
func (t *task) run(ctx context.Context, mc wazero.ModuleConfig) error {
	t.rtMu.RLock()
	defer t.rtMu.RUnlock()
	if t.rt == nil {
		return errReleased
	}
	mod, err := t.rt.InstantiateModule(withMemory(ctx), t.compiled, mc)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	return err
}

func (d *Driver) task(id string) (*task, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tasks[id]
	if !ok {
		return nil, fmt.Errorf("wasm: task %q: %w", id, exec.ErrUnknownTask)
	}
	return t, nil
}

// Stop implements exec.Driver: it cancels a running job or request, closes the listener and
// runtime, and forgets the task. It waits for the task to wind down or ctx to end.
func (d *Driver) Stop(ctx context.Context, id string) error {
	t, err := d.task(id)
	if err != nil {
		return nil
	}
	t.mu.Lock()
	t.stopping = true
	t.mu.Unlock()
	t.stop()
	select {
	case <-t.done:
		// Forgotten, as docker's Stop removes the container: a job's input and output, and a
		// service's logs, would otherwise stay in memory for every task this sidecar ever ran.
		d.mu.Lock()
		if d.tasks[id] == t {
			delete(d.tasks, id)
		}
		d.mu.Unlock()
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wasm: stop %s: %w", id, ctx.Err())
	}
}

// Status implements exec.Driver.
func (d *Driver) Status(_ context.Context, id string) (exec.TaskStatus, error) {
	t, err := d.task(id)
	if err != nil {
		return exec.TaskStatus{}, err
	}
	return t.snapshot(), nil
}

// Wait blocks until the task has ended (a job finished, a service stopped) or ctx ends, and
// returns its status.
func (d *Driver) Wait(ctx context.Context, id string) (exec.TaskStatus, error) {
	t, err := d.task(id)
	if err != nil {
		return exec.TaskStatus{}, err
	}
	select {
	case <-t.done:
		return t.snapshot(), nil
	case <-ctx.Done():
		return t.snapshot(), ctx.Err()
	}
}

// Logs implements exec.Driver: the last maxBytes of what the module wrote to stderr (all
// requests' for a service).
func (d *Driver) Logs(_ context.Context, id string, maxBytes int) ([]byte, error) {
	t, err := d.task(id)
	if err != nil {
		return nil, err
	}
	return t.stderr.Tail(maxBytes), nil
}

// Endpoint implements exec.Driver: the base URL of a running service.
func (d *Driver) Endpoint(_ context.Context, id string) (string, error) {
	t, err := d.task(id)
	if err != nil {
		return "", err
	}
	if t.oneShot() {
		return "", fmt.Errorf("wasm: task %s is a one-shot job: %w", id, exec.ErrNoEndpoint)
	}
	if st := t.snapshot(); st.State != exec.TaskRunning {
		return "", fmt.Errorf("wasm: task %s is %s: %w", id, st.State, exec.ErrNoEndpoint)
	}
	return t.url, nil
}

// Output returns a finished one-shot job's stdout, the bytes ResultDigest hashes (what it wrote
// before failing, for a failed job).
func (d *Driver) Output(id string) ([]byte, error) {
	t, err := d.task(id)
	if err != nil {
		return nil, err
	}
	if !t.oneShot() {
		return nil, fmt.Errorf("wasm: task %s is a service and has no output", id)
	}
	select {
	case <-t.done:
	default:
		return nil, fmt.Errorf("wasm: task %s has not finished", id)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.output...), nil
}

// argv0 is the module's argv[0]. It is fixed rather than the file name, which differs between
// providers and would make replicated jobs that print it disagree.
const argv0 = "main.wasm"
