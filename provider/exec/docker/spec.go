package docker

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/computed-network/computed/provider/exec"
)

// Labels the driver puts on its containers, so an operator (or a later sidecar) can tell which
// lease a container serves.
const (
	labelLease   = "computed.lease"
	labelTask    = "computed.task"
	labelOneShot = "computed.oneshot"
	labelPort    = "computed.port"

	namePrefix = "computed-"
)

// Container names are a subset of what the engine accepts, so a task ID maps to exactly one
// name and never smuggles a path or a second argument through.
var taskIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)

func containerName(id string) (string, error) {
	if !taskIDPattern.MatchString(id) {
		return "", fmt.Errorf("docker: invalid task id %q (want [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters)", id)
	}
	return namePrefix + id, nil
}

// parseContainerPort accepts "8080/tcp", "8080" (tcp) or "53/udp"; ranges are refused because
// Endpoint hands out exactly one URL.
func parseContainerPort(s string) (nat.Port, error) {
	proto, port := nat.SplitProtoPort(s)
	p, err := nat.NewPort(proto, port)
	if err != nil {
		return "", fmt.Errorf("docker: container port %q: %w", s, err)
	}
	lo, hi, err := p.Range()
	if err != nil || lo != hi || lo <= 0 {
		return "", fmt.Errorf("docker: container port %q must be a single port", s)
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return "", fmt.Errorf("docker: container port %q: unknown protocol %q", s, proto)
	}
	return p, nil
}

// containerSpec turns a task into the engine's create request. Everything the container may do
// beyond computing is taken away: no capabilities, no privilege escalation, a read-only root
// and the port reachable only from the host's loopback, where the ingress fronts it.
func (d *Driver) containerSpec(cfg exec.TaskConfig, image string) (*container.Config, *container.HostConfig, error) {
	env, err := envList(cfg.Env)
	if err != nil {
		return nil, nil, err
	}
	cpu, mem := cfg.CPUMillis, cfg.MemoryMiB
	if cpu == 0 {
		cpu = d.cfg.DefaultCPUMillis
	}
	if mem == 0 {
		mem = d.cfg.DefaultMemoryMiB
	}
	if cpu < 0 || mem < 0 {
		return nil, nil, fmt.Errorf("docker: negative resource limit (cpu %d millis, memory %d MiB)", cpu, mem)
	}
	// Guard the conversions below against overflow rather than wrap into a bogus limit.
	if cpu > 1<<40 || mem > 1<<40 {
		return nil, nil, fmt.Errorf("docker: resource limit out of range (cpu %d millis, memory %d MiB)", cpu, mem)
	}

	pids := d.cfg.PidsLimit
	oneShot := cfg.Input != nil
	cc := &container.Config{
		Image: image,
		Env:   env,
		Cmd:   cfg.Args,
		Labels: map[string]string{
			labelLease: strconv.FormatUint(cfg.LeaseID, 10),
			labelTask:  cfg.ID,
		},
	}
	hc := &container.HostConfig{
		ReadonlyRootfs: true,
		Privileged:     false,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		AutoRemove:     false, // Status and Logs must outlive the process.
		// Many programs expect a writable /tmp; a small tmpfs keeps the image root read-only.
		Tmpfs: map[string]string{"/tmp": "rw,nosuid,nodev,noexec,size=64m"},
		Resources: container.Resources{
			NanoCPUs:  cpu * 1_000_000,
			Memory:    mem << 20,
			PidsLimit: &pids,
		},
	}
	if hc.Memory > 0 {
		hc.MemorySwap = hc.Memory // no swap beyond the memory limit
	}
	// The GPUs the container sees are the task's, whatever its image or env says: an image built
	// on nvidia/cuda names "all", which an engine whose default runtime is nvidia would honour.
	cc.Env = slices.DeleteFunc(cc.Env, func(e string) bool { return strings.HasPrefix(e, "NVIDIA_VISIBLE_DEVICES=") })
	visible := "void"
	if len(cfg.GPUs) > 0 {
		visible = strings.Join(cfg.GPUs, ",")
	}
	cc.Env = append(cc.Env, "NVIDIA_VISIBLE_DEVICES="+visible)
	if d.cfg.Network != "" {
		hc.NetworkMode = container.NetworkMode(d.cfg.Network)
	}
	if len(cfg.GPUs) > 0 {
		if !d.cfg.GPURuntime {
			return nil, nil, fmt.Errorf("%w: task asks for GPUs %v but the docker executor has no GPU runtime configured", exec.ErrRefused, cfg.GPUs)
		}
		hc.DeviceRequests = []container.DeviceRequest{{
			Driver:       "nvidia",
			DeviceIDs:    append([]string(nil), cfg.GPUs...),
			Capabilities: [][]string{{"gpu"}},
		}}
	}
	if oneShot {
		// One-shot jobs read their input on stdin and answer on stdout; they serve nothing, so
		// no port is published.
		cc.Labels[labelOneShot] = "true"
		cc.AttachStdin, cc.AttachStdout, cc.AttachStderr = true, true, true
		cc.OpenStdin, cc.StdinOnce = true, true
	} else {
		cc.Labels[labelPort] = string(d.port)
		cc.ExposedPorts = nat.PortSet{d.port: struct{}{}}
		// An empty host port lets the engine pick a free ephemeral one.
		hc.PortBindings = nat.PortMap{d.port: {{HostIP: "127.0.0.1", HostPort: ""}}}
	}
	return cc, hc, nil
}

// envList renders the environment in a stable order so identical tasks create identical
// containers.
func envList(env map[string]string) ([]string, error) {
	if len(env) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, fmt.Errorf("docker: invalid environment variable name %q", k)
		}
		if strings.ContainsRune(env[k], 0) {
			return nil, fmt.Errorf("docker: environment variable %q contains a NUL byte", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + env[k]
	}
	return out, nil
}
