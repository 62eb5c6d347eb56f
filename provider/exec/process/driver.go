// Package process runs allow-listed local programs as tasks. It is for development and demos:
// it isolates nothing beyond a process group and a trimmed environment, so production
// providers use the docker or wasm drivers.
package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/computed-network/computed/provider/exec"
)

// Config configures the driver.
type Config struct {
	// Allow maps a workload name to the argv prefix it runs, e.g.
	// "echo-server": {"/usr/bin/python3", "-m", "http.server"}; the task's Args are appended.
	// Nothing else can be run.
	Allow map[string][]string
	// WorkDir is the tasks' working directory (empty: the sidecar's).
	WorkDir string
	// ReadyTimeout is how long Start waits for a service to accept connections on $PORT
	// (0: DefaultReadyTimeout). A task that never listens is left running as a job.
	ReadyTimeout time.Duration
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL (0: DefaultStopGrace).
	StopGrace time.Duration
}

// Defaults for Config's zero durations.
const (
	DefaultReadyTimeout = 5 * time.Second
	DefaultStopGrace    = 5 * time.Second
)

// Driver runs allow-listed processes. It is safe for concurrent use.
type Driver struct {
	cfg Config

	mu    sync.Mutex
	tasks map[string]*task
}

var _ exec.Driver = (*Driver)(nil)

// New returns a driver; it starts nothing until Start.
func New(cfg Config) *Driver {
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	return &Driver{cfg: cfg, tasks: map[string]*task{}}
}

// Name implements exec.Driver.
func (d *Driver) Name() string { return "process" }

type task struct {
	cfg  exec.TaskConfig
	port int
	proc *os.Process
	logs *exec.TailBuffer
	// done is closed once the process has exited and its group has been killed.
	done chan struct{}

	mu       sync.Mutex
	status   exec.TaskStatus
	ready    bool
	stopping bool
}

func (t *task) snapshot() exec.TaskStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

func (t *task) exited() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// Start implements exec.Driver. A task still running under cfg.ID is returned as is.
func (d *Driver) Start(ctx context.Context, cfg exec.TaskConfig) (exec.TaskStatus, error) {
	if cfg.ID == "" {
		return exec.TaskStatus{}, errors.New("process: task id is empty")
	}
	prefix, ok := d.cfg.Allow[cfg.Workload]
	if !ok || len(prefix) == 0 || prefix[0] == "" {
		return exec.TaskStatus{}, fmt.Errorf("%w: %q is not an allow-listed process", exec.ErrRefused, cfg.Workload)
	}

	d.mu.Lock()
	if old, ok := d.tasks[cfg.ID]; ok && !old.exited() {
		d.mu.Unlock()
		if old.cfg.Workload != cfg.Workload {
			return old.snapshot(), fmt.Errorf("process: task %s already runs %s", cfg.ID, old.cfg.Workload)
		}
		return old.snapshot(), nil
	}
	t, err := d.spawn(cfg, prefix)
	if err != nil {
		d.mu.Unlock()
		return exec.TaskStatus{}, err
	}
	d.tasks[cfg.ID] = t
	d.mu.Unlock()

	if err := d.awaitReady(ctx, t); err != nil {
		return t.snapshot(), err
	}
	return t.snapshot(), nil
}

// spawn starts the process and a goroutine that records how it ends.
func (d *Driver) spawn(cfg exec.TaskConfig, prefix []string) (*task, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	env, err := taskEnv(cfg.Env, port)
	if err != nil {
		return nil, err
	}
	args := append(append([]string(nil), prefix[1:]...), cfg.Args...)
	cmd := osexec.Command(prefix[0], args...)
	cmd.Dir = d.cfg.WorkDir
	cmd.Env = env
	ownGroup(cmd)

	// An *os.File, not the buffer itself: os/exec would then wait for every process holding the
	// pipe, and a forked child could keep the task "running" after its leader exited.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("process: start %s: %w", cfg.Workload, err)
	}
	pw.Close()

	t := &task{
		cfg:    cfg,
		port:   port,
		proc:   cmd.Process,
		logs:   exec.NewTailBuffer(exec.DefaultLogBytes),
		done:   make(chan struct{}),
		status: exec.TaskStatus{ID: cfg.ID, State: exec.TaskRunning, StartedAt: time.Now()},
	}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(t.logs, pr)
		close(copied)
	}()
	go func() {
		err := cmd.Wait()
		// The task's processes end with its leader: nothing it forked outlives the lease.
		_ = signalGroup(cmd.Process, syscall.SIGKILL)
		// The logs are complete when the task is seen to end: the pipe drains to EOF once the group
		// is dead. A process that left the group could hold it open, so the wait is bounded.
		select {
		case <-copied:
		case <-time.After(logDrainTimeout):
		}
		pr.Close()
		t.mu.Lock()
		t.status.EndedAt = time.Now()
		t.status.ExitCode = cmd.ProcessState.ExitCode()
		switch {
		case t.stopping:
			t.status.State = exec.TaskStopped
		case err == nil:
			t.status.State = exec.TaskExited
		default:
			t.status.State = exec.TaskFailed
			t.status.Error = err.Error()
		}
		t.mu.Unlock()
		close(t.done)
	}()
	return t, nil
}

// logDrainTimeout bounds how long an ended task waits for its output pipe to drain.
const logDrainTimeout = 2 * time.Second

// awaitReady waits until the task listens on its port, exits, or ReadyTimeout passes (then it is
// taken to be a job that serves nothing). If ctx ends first the task is stopped, so an abandoned
// Start leaves nothing behind.
func (d *Driver) awaitReady(ctx context.Context, t *task) error {
	deadline := time.NewTimer(d.cfg.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if listening(ctx, t.port, 100*time.Millisecond) {
			t.mu.Lock()
			t.ready = true
			t.mu.Unlock()
			return nil
		}
		select {
		case <-t.done:
			if st := t.snapshot(); st.State == exec.TaskFailed {
				return fmt.Errorf("process: %s exited during start: %s", t.cfg.Workload, st.Error)
			}
			return nil
		case <-deadline.C:
			return nil
		case <-ctx.Done():
			_ = d.Stop(context.Background(), t.cfg.ID)
			return fmt.Errorf("process: start %s: %w", t.cfg.ID, ctx.Err())
		case <-tick.C:
		}
	}
}

func (d *Driver) task(id string) (*task, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tasks[id]
	if !ok {
		return nil, fmt.Errorf("process: task %q: %w", id, exec.ErrUnknownTask)
	}
	return t, nil
}

// Stop implements exec.Driver: SIGTERM to the task's process group, SIGKILL after StopGrace.
func (d *Driver) Stop(ctx context.Context, id string) error {
	t, err := d.task(id)
	if err != nil || t.exited() {
		return nil
	}
	t.mu.Lock()
	t.stopping = true
	t.mu.Unlock()
	if err := signalGroup(t.proc, syscall.SIGTERM); err != nil {
		return fmt.Errorf("process: stop %s: %w", id, err)
	}
	grace := time.NewTimer(d.cfg.StopGrace)
	defer grace.Stop()
	select {
	case <-t.done:
		return nil
	case <-grace.C:
	case <-ctx.Done():
	}
	if err := signalGroup(t.proc, syscall.SIGKILL); err != nil {
		return fmt.Errorf("process: kill %s: %w", id, err)
	}
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("process: stop %s: %w", id, ctx.Err())
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

// Wait blocks until the task's process has exited or ctx ends, and returns its status.
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

// Logs implements exec.Driver: the last maxBytes of the task's combined stdout and stderr.
func (d *Driver) Logs(_ context.Context, id string, maxBytes int) ([]byte, error) {
	t, err := d.task(id)
	if err != nil {
		return nil, err
	}
	return t.logs.Tail(maxBytes), nil
}

// Endpoint implements exec.Driver: http://127.0.0.1:$PORT once the task accepts connections
// there; ErrNoEndpoint for a task that has exited or does not listen.
func (d *Driver) Endpoint(ctx context.Context, id string) (string, error) {
	t, err := d.task(id)
	if err != nil {
		return "", err
	}
	if t.exited() {
		return "", fmt.Errorf("process: task %s is %s: %w", id, t.snapshot().State, exec.ErrNoEndpoint)
	}
	t.mu.Lock()
	ready := t.ready
	t.mu.Unlock()
	if !ready {
		// It may have started listening after Start gave up waiting.
		if !listening(ctx, t.port, 200*time.Millisecond) {
			return "", fmt.Errorf("process: task %s is not listening on port %d: %w", id, t.port, exec.ErrNoEndpoint)
		}
		t.mu.Lock()
		t.ready = true
		t.mu.Unlock()
	}
	return "http://127.0.0.1:" + strconv.Itoa(t.port), nil
}
