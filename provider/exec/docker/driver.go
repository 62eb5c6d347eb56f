// Package docker runs leased workloads as containers on a Docker engine. Images must be pinned
// by digest and already loaded on the host: the driver never pulls, so what runs is exactly what
// the order names.
package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"

	"github.com/computed-network/computed/provider/exec"
)

// Config configures the docker executor.
type Config struct {
	// Host is the engine address ("unix:///var/run/docker.sock"); empty means DOCKER_HOST and
	// the other DOCKER_* variables, as the docker CLI reads them.
	Host string
	// Network is the network containers join; empty means the engine's default bridge, where
	// containers can reach one another. With IsolateNetwork, a missing Network is created as a
	// bridge whose containers cannot (ICC off): one lease cannot reach another's service behind
	// the ingress's back.
	Network        string
	IsolateNetwork bool
	// PidsLimit caps each container's processes (4096 if zero): a fork bomb in one lease must
	// not exhaust the host's, and with them the sidecar and every other lease.
	PidsLimit int64
	// ContainerPort is the port service containers listen on ("8080/tcp" if empty).
	ContainerPort string
	// DefaultCPUMillis and DefaultMemoryMiB cap tasks that name no limit (0 means no cap).
	DefaultCPUMillis int64
	DefaultMemoryMiB int64
	// GPURuntime says the engine has the NVIDIA container toolkit, so GPUs can be requested.
	GPURuntime bool
	// StopTimeout is how long Stop waits for a graceful exit before killing (10s if zero).
	StopTimeout time.Duration
}

// Driver runs tasks as Docker containers named "computed-<task id>".
type Driver struct {
	cli  *client.Client
	cfg  Config
	port nat.Port

	mu   sync.Mutex
	runs map[string]*oneShotRun // by container ID
	// networkReady: the isolated network exists (ensureNetwork).
	networkReady bool
}

var _ exec.Driver = (*Driver)(nil)

// New builds a driver; it does not contact the engine (see Ping).
func New(cfg Config) (*Driver, error) {
	if cfg.ContainerPort == "" {
		cfg.ContainerPort = "8080/tcp"
	}
	port, err := parseContainerPort(cfg.ContainerPort)
	if err != nil {
		return nil, err
	}
	if cfg.DefaultCPUMillis < 0 || cfg.DefaultMemoryMiB < 0 {
		return nil, fmt.Errorf("docker: negative default limits (cpu %d millis, memory %d MiB)", cfg.DefaultCPUMillis, cfg.DefaultMemoryMiB)
	}
	if cfg.StopTimeout < 0 {
		return nil, fmt.Errorf("docker: negative stop timeout %s", cfg.StopTimeout)
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	if cfg.PidsLimit < 0 {
		return nil, fmt.Errorf("docker: negative pids limit %d", cfg.PidsLimit)
	}
	if cfg.PidsLimit == 0 {
		cfg.PidsLimit = 4096
	}
	if cfg.IsolateNetwork && EngineNetwork(cfg.Network) {
		return nil, fmt.Errorf("docker: network %q is the engine's own and cannot be isolated; name another", cfg.Network)
	}
	// Host networking would expose the workload on every host interface, bypassing the
	// loopback-only binding the ingress relies on.
	if cfg.Network == "host" {
		return nil, errors.New("docker: network \"host\" is not allowed: service ports must stay on loopback behind the ingress")
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker: client: %w", err)
	}
	return &Driver{cli: cli, cfg: cfg, port: port, runs: map[string]*oneShotRun{}}, nil
}

// Name is the executor's name in config.
func (d *Driver) Name() string { return "docker" }

// Ping reports whether the engine answers.
func (d *Driver) Ping(ctx context.Context) error {
	if _, err := d.cli.Ping(ctx); err != nil {
		return fmt.Errorf("docker: engine at %s: %w", d.cli.DaemonHost(), err)
	}
	return nil
}

// Close releases the client's connections; running containers are left alone.
func (d *Driver) Close() error { return d.cli.Close() }

// Check says whether the image is pinned, loaded on this host and the one the digest names:
// what Start would refuse is refused before a bid.
func (d *Driver) Check(ctx context.Context, workload, digest string) error {
	pin, err := parseWorkload(workload, digest)
	if err != nil {
		return err
	}
	img, _, err := d.cli.ImageInspectWithRaw(ctx, pin.String())
	if errdefs.IsNotFound(err) {
		return fmt.Errorf("docker: image %s: %w; load it on this host first (docker load)", workload, ErrImageNotLoaded)
	}
	if err != nil {
		return fmt.Errorf("docker: inspect image %s: %w", workload, err)
	}
	return pin.checkLocal(img)
}

// Start runs the task's image, or re-attaches to its container if it is already running.
func (d *Driver) Start(ctx context.Context, cfg exec.TaskConfig) (exec.TaskStatus, error) {
	name, err := containerName(cfg.ID)
	if err != nil {
		return exec.TaskStatus{}, err
	}
	pin, err := parseWorkload(cfg.Workload, cfg.Digest)
	if err != nil {
		return exec.TaskStatus{}, err
	}
	// Build the container spec before touching the engine so every refusal is cheap.
	cc, hc, err := d.containerSpec(cfg, pin.String())
	if err != nil {
		return exec.TaskStatus{}, err
	}
	img, _, err := d.cli.ImageInspectWithRaw(ctx, pin.String())
	if errdefs.IsNotFound(err) {
		return exec.TaskStatus{}, fmt.Errorf("docker: image %s: %w; load it on this host first (docker load)", cfg.Workload, ErrImageNotLoaded)
	}
	if err != nil {
		return exec.TaskStatus{}, fmt.Errorf("docker: inspect image %s: %w", cfg.Workload, err)
	}
	if err := pin.checkLocal(img); err != nil {
		return exec.TaskStatus{}, err
	}
	// Run the image ID that was checked, not a reference the engine would resolve again.
	cc.Image = img.ID

	existing, err := d.cli.ContainerInspect(ctx, name)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return exec.TaskStatus{}, fmt.Errorf("docker: inspect container %s: %w", name, err)
	default:
		if existing.Config == nil || existing.Config.Labels[labelTask] != cfg.ID {
			return exec.TaskStatus{}, fmt.Errorf("docker: container %s exists but was not created for task %s; remove it by hand", name, cfg.ID)
		}
		if existing.State != nil && (existing.State.Running || existing.State.Restarting) {
			// The sidecar restarted while its task kept running: adopt the container, unless it
			// runs something other than what the task now names.
			if existing.Image != img.ID {
				return exec.TaskStatus{}, fmt.Errorf("docker: task %s already runs image %s, not %s; stop it first", cfg.ID, existing.Image, img.ID)
			}
			// Adopted only on the GPUs the task now names (after a restart the lease may have
			// moved to others, and the old ones may be another lease's now) and on the network
			// the driver now gives (a container from before isolation is recreated on it).
			if sameGPUs(existing.HostConfig, hc) && sameNetwork(existing.HostConfig, hc) {
				return d.statusOf(ctx, cfg.ID, existing)
			}
		}
		if err := d.remove(ctx, existing.ID); err != nil {
			return exec.TaskStatus{}, err
		}
	}

	if err := d.ensureNetwork(ctx); err != nil {
		return exec.TaskStatus{}, err
	}
	created, err := d.cli.ContainerCreate(ctx, cc, hc, nil, nil, name)
	if err != nil {
		return exec.TaskStatus{}, fmt.Errorf("docker: create container %s: %w", name, err)
	}
	if cfg.Input != nil {
		run, err := d.attachOneShot(ctx, created.ID, cfg.Input)
		if err != nil {
			_ = d.remove(context.WithoutCancel(ctx), created.ID)
			return exec.TaskStatus{}, err
		}
		d.trackRun(created.ID, run)
	}
	if err := d.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		// A container that never started holds nothing worth keeping, and leaving it would make
		// the next Start look like a restart.
		_ = d.remove(context.WithoutCancel(ctx), created.ID)
		err = fmt.Errorf("docker: start container %s: %w", name, err)
		return exec.TaskStatus{ID: cfg.ID, State: exec.TaskFailed, Error: err.Error()}, err
	}
	info, err := d.cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		// The caller frees the task's GPUs on this error: the container must not keep them.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_ = d.remove(rctx, created.ID)
		cancel()
		return exec.TaskStatus{}, fmt.Errorf("docker: inspect container %s: %w", name, err)
	}
	return d.statusOf(ctx, cfg.ID, info)
}

// Stop stops and removes the task's container; an unknown task is already stopped.
func (d *Driver) Stop(ctx context.Context, id string) error {
	// Its own bounded context, not only the caller's: one that has run out (a sidecar shutting
	// down) would leave the container running while the caller frees its GPUs.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.StopTimeout+30*time.Second)
	defer cancel()
	info, err := d.lookup(ctx, id)
	if errors.Is(err, exec.ErrUnknownTask) {
		return nil
	}
	if err != nil {
		return err
	}
	timeout := int(d.cfg.StopTimeout / time.Second)
	stopErr := d.cli.ContainerStop(ctx, info.ID, container.StopOptions{Timeout: &timeout})
	if errdefs.IsNotFound(stopErr) {
		d.forgetRun(info.ID)
		return nil
	}
	// Remove forcibly even if the graceful stop failed: the lease is over either way, and a
	// container left running keeps GPUs the sidecar frees.
	if err := d.remove(ctx, info.ID); err != nil {
		if stopErr != nil {
			return fmt.Errorf("docker: stop task %s: %w (remove: %v)", id, stopErr, err)
		}
		return err
	}
	return nil
}

// lookup finds the task's container, treating a container of that name that the driver did not
// label as someone else's.
func (d *Driver) lookup(ctx context.Context, id string) (types.ContainerJSON, error) {
	name, err := containerName(id)
	if err != nil {
		return types.ContainerJSON{}, fmt.Errorf("docker: task %q: %w", id, exec.ErrUnknownTask)
	}
	info, err := d.cli.ContainerInspect(ctx, name)
	if errdefs.IsNotFound(err) {
		return types.ContainerJSON{}, fmt.Errorf("docker: task %q: %w", id, exec.ErrUnknownTask)
	}
	if err != nil {
		return types.ContainerJSON{}, fmt.Errorf("docker: inspect container %s: %w", name, err)
	}
	if info.ContainerJSONBase == nil || info.Config == nil || info.Config.Labels[labelTask] != id {
		return types.ContainerJSON{}, fmt.Errorf("docker: task %q: %w", id, exec.ErrUnknownTask)
	}
	return info, nil
}

// remove deletes a container, killing it if it still runs.
func (d *Driver) remove(ctx context.Context, containerID string) error {
	d.forgetRun(containerID)
	err := d.cli.ContainerRemove(ctx, containerID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("docker: remove container %s: %w", shortID(containerID), err)
	}
	return nil
}

// sameGPUs reports whether a container created with have runs on the GPUs want asks for.
func sameGPUs(have *container.HostConfig, want *container.HostConfig) bool {
	ids := func(hc *container.HostConfig) []string {
		if hc == nil {
			return nil
		}
		var out []string
		for _, r := range hc.DeviceRequests {
			out = append(out, r.DeviceIDs...)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(ids(have), ids(want))
}

// sameNetwork reports whether a container created with have is on the network want names.
func sameNetwork(have, want *container.HostConfig) bool {
	norm := func(hc *container.HostConfig) container.NetworkMode {
		if hc == nil || hc.NetworkMode == "" || hc.NetworkMode == "default" {
			return "bridge"
		}
		return hc.NetworkMode
	}
	return norm(have) == norm(want)
}
