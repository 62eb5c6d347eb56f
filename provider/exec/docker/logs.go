package docker

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/computed-network/computed/provider/exec"
)

// Logs returns up to the last maxBytes of the task's stdout and stderr, interleaved; maxBytes <= 0
// means exec.DefaultLogBytes, as for the other drivers.
func (d *Driver) Logs(ctx context.Context, id string, maxBytes int) ([]byte, error) {
	info, err := d.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	rc, err := d.cli.ContainerLogs(ctx, info.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return nil, fmt.Errorf("docker: logs of task %s: %w", id, err)
	}
	defer rc.Close()
	// The engine only tails by lines; a bounded buffer keeps memory at maxBytes whatever the
	// log's size.
	tail := exec.NewTailBuffer(maxBytes)
	if _, err := stdcopy.StdCopy(tail, tail, rc); err != nil {
		return nil, fmt.Errorf("docker: logs of task %s: %w", id, err)
	}
	return tail.Tail(0), nil
}
