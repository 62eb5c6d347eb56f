package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types"

	"github.com/computed-network/computed/provider/exec"
)

// Status reports the task's state; one-shot tasks that exited cleanly carry the SHA-256 of their
// stdout.
func (d *Driver) Status(ctx context.Context, id string) (exec.TaskStatus, error) {
	info, err := d.lookup(ctx, id)
	if err != nil {
		return exec.TaskStatus{}, err
	}
	return d.statusOf(ctx, id, info)
}

// statusOf maps the engine's view of a container onto the driver's task states.
func (d *Driver) statusOf(ctx context.Context, id string, info types.ContainerJSON) (exec.TaskStatus, error) {
	st := exec.TaskStatus{ID: id, State: exec.TaskPending}
	s := info.State
	if s == nil {
		return st, fmt.Errorf("docker: task %s: engine reported no container state", id)
	}
	st.StartedAt = parseEngineTime(s.StartedAt)
	st.EndedAt = parseEngineTime(s.FinishedAt)
	st.ExitCode = s.ExitCode
	switch s.Status {
	case "created":
		st.State = exec.TaskPending
	case "running", "paused", "restarting":
		st.State = exec.TaskRunning
		st.EndedAt = time.Time{}
	case "removing":
		st.State = exec.TaskStopped
	case "exited", "dead":
		st.State = exec.TaskExited
		switch {
		case s.OOMKilled:
			st.State, st.Error = exec.TaskFailed, "killed: out of memory"
		case s.Error != "":
			st.State, st.Error = exec.TaskFailed, s.Error
		case s.Dead:
			st.State, st.Error = exec.TaskFailed, "container is dead"
		case s.ExitCode != 0:
			st.State, st.Error = exec.TaskFailed, fmt.Sprintf("exited with code %d", s.ExitCode)
		}
	default:
		st.State, st.Error = exec.TaskFailed, fmt.Sprintf("unknown container state %q", s.Status)
	}
	// Only a clean exit has a result worth committing to.
	if st.State == exec.TaskExited && isOneShot(info) {
		digest, err := d.resultDigest(ctx, info)
		if err != nil {
			return st, fmt.Errorf("docker: task %s: %w", id, err)
		}
		st.ResultDigest = digest
	}
	return st, nil
}

func isOneShot(info types.ContainerJSON) bool {
	return info.Config != nil && info.Config.Labels[labelOneShot] == "true"
}

// parseEngineTime reads the engine's RFC 3339 timestamps; it reports "0001-01-01T00:00:00Z" for
// events that have not happened, which maps to the zero time.
func parseEngineTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
