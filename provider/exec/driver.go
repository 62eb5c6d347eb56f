// Package exec runs leased workloads. Every executor (wasm, docker, process) implements Driver,
// shaped after HashiCorp Nomad's task-driver interface: the sidecar starts a task for a lease,
// fronts its endpoint with the ingress, and stops it when the lease closes.
package exec

import (
	"context"
	"errors"
	"time"
)

// TaskConfig is what the sidecar asks a driver to run for one lease.
type TaskConfig struct {
	// ID names the task; the sidecar uses "lease-<id>" and reuses it after a restart.
	ID string
	// LeaseID is the chain lease the task serves.
	LeaseID uint64
	// Workload is the driver-specific reference: an OCI image pinned by digest
	// ("repo@sha256:<hex>" or "sha256:<hex>"), a WASM module path whose SHA-256 must equal
	// Digest, or an allow-listed process name.
	Workload string
	// Digest is the content hash the order names ("sha256:<hex>" for OCI, 64 hex for WASM);
	// drivers refuse to run anything else.
	Digest string
	// Args and Env are passed to the workload.
	Args []string
	Env  map[string]string
	// GPUs are the device UUIDs (or indexes) reserved for the lease.
	GPUs []string
	// CPUMillis and MemoryMiB cap the task's resources (0 means driver default).
	CPUMillis int64
	MemoryMiB int64
	// Input is the job input for one-shot tasks (replicated WASM jobs read it on stdin).
	Input []byte
}

// TaskState is where a task is in its life.
type TaskState string

const (
	TaskPending TaskState = "pending"
	TaskRunning TaskState = "running"
	TaskExited  TaskState = "exited"
	TaskFailed  TaskState = "failed"
	TaskStopped TaskState = "stopped"
)

// TaskStatus is a snapshot of a task.
type TaskStatus struct {
	ID        string
	State     TaskState
	ExitCode  int
	StartedAt time.Time
	EndedAt   time.Time
	// ResultDigest is the SHA-256 of a one-shot task's output (hex); empty for services.
	// Replicated orders commit to it.
	ResultDigest string
	Error        string
}

// Driver is one way of running workloads.
type Driver interface {
	// Name is the executor's name in config ("wasm", "docker", "process").
	Name() string
	// Start launches the task, or re-attaches to it if a task with cfg.ID is already running
	// (after a sidecar restart). It returns once the task is running or has failed to start.
	Start(ctx context.Context, cfg TaskConfig) (TaskStatus, error)
	// Stop ends the task; stopping an unknown or finished task is not an error.
	Stop(ctx context.Context, id string) error
	// Status reports the task's state.
	Status(ctx context.Context, id string) (TaskStatus, error)
	// Logs returns up to the last maxBytes of the task's combined output.
	Logs(ctx context.Context, id string, maxBytes int) ([]byte, error)
	// Endpoint is the base URL ("http://127.0.0.1:port") the ingress proxies to for a service
	// task; ErrNoEndpoint for tasks that serve nothing.
	Endpoint(ctx context.Context, id string) (string, error)
}

var (
	// ErrUnknownTask is returned for an id the driver never started.
	ErrUnknownTask = errors.New("unknown task")
	// ErrNoEndpoint is returned by Endpoint for tasks that serve nothing.
	ErrNoEndpoint = errors.New("task has no endpoint")
	// ErrRefused is wrapped by every refusal to run a workload (unpinned image, digest mismatch,
	// command not allow-listed).
	ErrRefused = errors.New("workload refused")
	// ErrUnavailable is wrapped when the workload is not on this host (a WASM module not in the
	// module directory, an image not loaded): drivers never fetch one.
	ErrUnavailable = errors.New("workload not on this host")
)

// Checker is implemented by drivers that can tell, before the provider bids, whether they could
// run a workload here: it is on this host and passes the driver's pinning rules. Its errors
// wrap ErrRefused or ErrUnavailable when the answer is no.
type Checker interface {
	Check(ctx context.Context, workload, digest string) error
}
