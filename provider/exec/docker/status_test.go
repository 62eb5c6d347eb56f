package docker

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types"

	"github.com/computed-network/computed/provider/exec"
)

func TestStatusOfMapsEngineStates(t *testing.T) {
	d := newTestDriver(t, Config{})
	for _, tc := range []struct {
		state     types.ContainerState
		want      exec.TaskState
		exit      int
		withError bool
	}{
		{types.ContainerState{Status: "created"}, exec.TaskPending, 0, false},
		{types.ContainerState{Status: "running", Running: true, StartedAt: "2024-05-01T10:00:00.5Z"}, exec.TaskRunning, 0, false},
		{types.ContainerState{Status: "paused", Running: true, Paused: true}, exec.TaskRunning, 0, false},
		{types.ContainerState{Status: "exited"}, exec.TaskExited, 0, false},
		{types.ContainerState{Status: "exited", ExitCode: 2}, exec.TaskFailed, 2, true},
		{types.ContainerState{Status: "exited", ExitCode: 137, OOMKilled: true}, exec.TaskFailed, 137, true},
		{types.ContainerState{Status: "exited", ExitCode: 127, Error: "exec: not found"}, exec.TaskFailed, 127, true},
		{types.ContainerState{Status: "dead", Dead: true}, exec.TaskFailed, 0, true},
		{types.ContainerState{Status: "removing"}, exec.TaskStopped, 0, false},
		{types.ContainerState{Status: "bogus"}, exec.TaskFailed, 0, true},
	} {
		state := tc.state
		info := types.ContainerJSON{ContainerJSONBase: &types.ContainerJSONBase{ID: "c", State: &state}}
		st, err := d.statusOf(context.Background(), "task", info)
		if err != nil {
			t.Errorf("%s: %v", state.Status, err)
			continue
		}
		if st.State != tc.want || st.ExitCode != tc.exit || (st.Error != "") != tc.withError || st.ID != "task" {
			t.Errorf("%+v -> %+v, want %s exit %d error %v", state, st, tc.want, tc.exit, tc.withError)
		}
	}
	running := types.ContainerState{Status: "running", StartedAt: "2024-05-01T10:00:00.5Z", FinishedAt: "0001-01-01T00:00:00Z"}
	st, _ := d.statusOf(context.Background(), "task", types.ContainerJSON{ContainerJSONBase: &types.ContainerJSONBase{State: &running}})
	if st.StartedAt.IsZero() || !st.EndedAt.IsZero() {
		t.Errorf("times: started %v ended %v", st.StartedAt, st.EndedAt)
	}
}
