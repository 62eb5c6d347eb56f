package docker

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/errdefs"
)

// iccOption is the bridge driver's option for traffic between its containers.
const iccOption = "com.docker.network.bridge.enable_icc"

// EngineNetwork reports whether name is one of the engine's own networks (or the default),
// which the driver cannot isolate.
func EngineNetwork(name string) bool {
	switch name {
	case "", "bridge", "default", "host", "none":
		return true
	}
	return false
}

// ensureNetwork creates the isolated network once, if it is asked for and missing: a bridge
// with inter-container traffic off, so a lease's container reaches neither another lease's nor
// anything but the outside through the host. One that exists is used as the operator made it.
func (d *Driver) ensureNetwork(ctx context.Context) error {
	if !d.cfg.IsolateNetwork {
		return nil
	}
	d.mu.Lock()
	ready := d.networkReady
	d.mu.Unlock()
	if ready {
		return nil
	}
	_, err := d.cli.NetworkInspect(ctx, d.cfg.Network, network.InspectOptions{})
	if errdefs.IsNotFound(err) {
		_, err = d.cli.NetworkCreate(ctx, d.cfg.Network, network.CreateOptions{
			Driver:  "bridge",
			Options: map[string]string{iccOption: "false"},
			Labels:  map[string]string{"computed.network": "leases"},
		})
		if errdefs.IsConflict(err) {
			err = nil // created meanwhile by another start
		}
	}
	if err != nil {
		return fmt.Errorf("docker: network %s: %w", d.cfg.Network, err)
	}
	d.mu.Lock()
	d.networkReady = true
	d.mu.Unlock()
	return nil
}
