package docker

import (
	"errors"
	"reflect"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/computed-network/computed/provider/exec"
)

func newTestDriver(t *testing.T, cfg Config) *Driver {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestNewValidatesConfig(t *testing.T) {
	for _, cfg := range []Config{
		{ContainerPort: "80-90/tcp"},
		{ContainerPort: "http"},
		{ContainerPort: "8080/quic"},
		{DefaultCPUMillis: -1},
		{DefaultMemoryMiB: -1},
		{StopTimeout: -1},
		{Network: "host"},
		{PidsLimit: -1},
		{Network: "bridge", IsolateNetwork: true}, // the engine's own: its ICC cannot be turned off
		{IsolateNetwork: true},
	} {
		if d, err := New(cfg); err == nil {
			d.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	d := newTestDriver(t, Config{})
	if d.port != "8080/tcp" || d.Name() != "docker" {
		t.Errorf("defaults: port %q name %q", d.port, d.Name())
	}
}

func TestContainerSpecService(t *testing.T) {
	d := newTestDriver(t, Config{Network: "leases", DefaultCPUMillis: 1000, DefaultMemoryMiB: 256})
	cc, hc, err := d.containerSpec(exec.TaskConfig{
		ID: "lease-1", LeaseID: 1, Args: []string{"serve"},
		Env:       map[string]string{"B": "2", "A": "1"},
		CPUMillis: 1500,
	}, "sha256:"+hexA)
	if err != nil {
		t.Fatal(err)
	}
	// No GPUs: none visible, whatever the image's env says.
	if want := []string{"A=1", "B=2", "NVIDIA_VISIBLE_DEVICES=void"}; !reflect.DeepEqual(cc.Env, want) {
		t.Errorf("env %v, want %v", cc.Env, want)
	}
	if !reflect.DeepEqual([]string(cc.Cmd), []string{"serve"}) {
		t.Errorf("cmd %v", cc.Cmd)
	}
	if cc.Labels[labelLease] != "1" || cc.Labels[labelTask] != "lease-1" || cc.Labels[labelOneShot] != "" {
		t.Errorf("labels %v", cc.Labels)
	}
	// The task's CPU limit wins; memory falls back to the default.
	if hc.NanoCPUs != 1_500_000_000 || hc.Memory != 256<<20 || hc.MemorySwap != hc.Memory || hc.PidsLimit == nil || *hc.PidsLimit != 4096 {
		t.Errorf("limits: %d nano CPUs, %d bytes, swap %d, pids %v", hc.NanoCPUs, hc.Memory, hc.MemorySwap, hc.PidsLimit)
	}
	if !hc.ReadonlyRootfs || hc.Privileged || hc.AutoRemove ||
		!reflect.DeepEqual([]string(hc.CapDrop), []string{"ALL"}) ||
		!reflect.DeepEqual(hc.SecurityOpt, []string{"no-new-privileges"}) {
		t.Errorf("hardening: %+v", hc)
	}
	if string(hc.NetworkMode) != "leases" {
		t.Errorf("network %q", hc.NetworkMode)
	}
	want := nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}
	if !reflect.DeepEqual(hc.PortBindings, want) {
		t.Errorf("port bindings %v, want %v", hc.PortBindings, want)
	}
	if len(hc.DeviceRequests) != 0 {
		t.Errorf("device requests without GPUs: %v", hc.DeviceRequests)
	}
}

func TestContainerSpecOneShot(t *testing.T) {
	d := newTestDriver(t, Config{})
	cc, hc, err := d.containerSpec(exec.TaskConfig{ID: "job", Input: []byte{}}, "sha256:"+hexA)
	if err != nil {
		t.Fatal(err)
	}
	if !cc.OpenStdin || !cc.StdinOnce || !cc.AttachStdin || cc.Labels[labelOneShot] != "true" {
		t.Errorf("one-shot stdin not wired: %+v", cc)
	}
	if len(hc.PortBindings) != 0 || len(cc.ExposedPorts) != 0 {
		t.Errorf("one-shot publishes ports: %v", hc.PortBindings)
	}
	if hc.NanoCPUs != 0 || hc.Memory != 0 {
		t.Errorf("limits without defaults: %d, %d", hc.NanoCPUs, hc.Memory)
	}
}

func TestContainerSpecGPUs(t *testing.T) {
	task := exec.TaskConfig{ID: "gpu", GPUs: []string{"GPU-1234", "1"}, Env: map[string]string{"NVIDIA_VISIBLE_DEVICES": "all"}}
	_, _, err := newTestDriver(t, Config{}).containerSpec(task, "sha256:"+hexA)
	if !errors.Is(err, exec.ErrRefused) {
		t.Fatalf("GPUs without runtime = %v, want ErrRefused", err)
	}
	cc, hc, err := newTestDriver(t, Config{GPURuntime: true}).containerSpec(task, "sha256:"+hexA)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"NVIDIA_VISIBLE_DEVICES=GPU-1234,1"}; !reflect.DeepEqual(cc.Env, want) {
		t.Errorf("env %v, want %v: the task's GPUs only", cc.Env, want)
	}
	if len(hc.DeviceRequests) != 1 {
		t.Fatalf("device requests %v", hc.DeviceRequests)
	}
	r := hc.DeviceRequests[0]
	if r.Driver != "nvidia" || !reflect.DeepEqual(r.DeviceIDs, task.GPUs) || !reflect.DeepEqual(r.Capabilities, [][]string{{"gpu"}}) {
		t.Errorf("device request %+v", r)
	}
}

func TestContainerSpecRejectsBadInput(t *testing.T) {
	d := newTestDriver(t, Config{})
	for _, task := range []exec.TaskConfig{
		{ID: "x", Env: map[string]string{"A=B": "1"}},
		{ID: "x", Env: map[string]string{"": "1"}},
		{ID: "x", Env: map[string]string{"A": "nul\x00"}},
		{ID: "x", CPUMillis: -5},
		{ID: "x", MemoryMiB: 1 << 50},
	} {
		if _, _, err := d.containerSpec(task, "sha256:"+hexA); err == nil {
			t.Errorf("containerSpec(%+v) accepted", task)
		}
	}
	for _, id := range []string{"", "-x", "a/b", "a b", "../x"} {
		if _, err := containerName(id); err == nil {
			t.Errorf("containerName(%q) accepted", id)
		}
	}
}

// A running container is adopted after a restart only on the GPUs its task now names: the lease
// may have moved to others, and its old ones may be another lease's.
func TestSameGPUs(t *testing.T) {
	hc := func(ids ...string) *container.HostConfig {
		if len(ids) == 0 {
			return &container.HostConfig{}
		}
		return &container.HostConfig{Resources: container.Resources{DeviceRequests: []container.DeviceRequest{{Driver: "nvidia", DeviceIDs: ids}}}}
	}
	for _, tc := range []struct {
		have, want *container.HostConfig
		same       bool
	}{
		{hc(), hc(), true},
		{nil, hc(), true},
		{hc("GPU-a", "GPU-b"), hc("GPU-b", "GPU-a"), true},
		{hc("GPU-a"), hc("GPU-b"), false},
		{hc("GPU-a"), hc(), false},
		{hc("GPU-a"), hc("GPU-a", "GPU-b"), false},
	} {
		if got := sameGPUs(tc.have, tc.want); got != tc.same {
			t.Errorf("sameGPUs(%v, %v) = %v", tc.have, tc.want, got)
		}
	}
}

// A container from before the driver isolated its leases is recreated on the isolated network,
// not adopted on the shared bridge.
func TestSameNetwork(t *testing.T) {
	hc := func(mode string) *container.HostConfig {
		return &container.HostConfig{NetworkMode: container.NetworkMode(mode)}
	}
	for _, tc := range []struct {
		have, want *container.HostConfig
		same       bool
	}{
		{hc(""), hc(""), true},
		{hc("default"), hc(""), true},
		{hc("bridge"), hc(""), true},
		{hc("bridge"), hc("computed-leases"), false},
		{hc("computed-leases"), hc("computed-leases"), true},
		{nil, hc("computed-leases"), false},
	} {
		if got := sameNetwork(tc.have, tc.want); got != tc.same {
			t.Errorf("sameNetwork(%v, %v) = %v", tc.have, tc.want, got)
		}
	}
}
