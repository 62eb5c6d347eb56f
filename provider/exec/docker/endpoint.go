package docker

import (
	"context"
	"fmt"
	"strconv"

	"github.com/docker/go-connections/nat"

	"github.com/computed-network/computed/provider/exec"
)

// Endpoint is the loopback URL of the task's published port.
func (d *Driver) Endpoint(ctx context.Context, id string) (string, error) {
	info, err := d.lookup(ctx, id)
	if err != nil {
		return "", err
	}
	if isOneShot(info) {
		return "", fmt.Errorf("docker: task %s is a one-shot job: %w", id, exec.ErrNoEndpoint)
	}
	if info.State == nil || !info.State.Running {
		state := "unknown"
		if info.State != nil {
			state = info.State.Status
		}
		return "", fmt.Errorf("docker: task %s is %s: %w", id, state, exec.ErrNoEndpoint)
	}
	// The container remembers which port it was created with, in case the config changed since.
	port := d.port
	if p := info.Config.Labels[labelPort]; p != "" {
		port = nat.Port(p)
	}
	if info.NetworkSettings != nil {
		for _, b := range info.NetworkSettings.Ports[port] {
			if b.HostPort == "" {
				continue
			}
			if _, err := strconv.ParseUint(b.HostPort, 10, 16); err != nil {
				continue
			}
			return "http://127.0.0.1:" + b.HostPort, nil
		}
	}
	return "", fmt.Errorf("docker: task %s has no published host port for %s: %w", id, port, exec.ErrNoEndpoint)
}
