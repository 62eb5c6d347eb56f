package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/computed-network/computed/provider/exec"
)

// runJob runs a one-shot task to completion and records its result.
func (d *Driver) runJob(ctx context.Context, t *task) {
	defer close(t.done)
	defer t.release()
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()

	out := &cappedBuffer{max: maxOutputBytes}
	err := t.run(ctx, moduleConfig(t.cfg.Args, t.cfg.Env, bytes.NewReader(t.cfg.Input), out, t.stderr))

	t.mu.Lock()
	defer t.mu.Unlock()
	t.output = out.buf
	t.status.EndedAt = time.Now()
	t.status.State, t.status.ExitCode, t.status.Error = outcome(err, out, d.cfg.Timeout, t.stopping)
	if t.status.State == exec.TaskExited {
		sum := sha256.Sum256(out.buf)
		t.status.ResultDigest = hex.EncodeToString(sum[:])
	}
}

// outcome maps how a run ended onto task state. Only a clean exit 0 is "exited" and gets a
// result digest: a trap, a timeout or a non-zero exit has no result to agree on.
func outcome(err error, out *cappedBuffer, timeout time.Duration, stopping bool) (exec.TaskState, int, string) {
	var exit *sys.ExitError
	switch {
	case out.overflow:
		return exec.TaskFailed, -1, fmt.Sprintf("stdout exceeds %d bytes", out.max)
	case err == nil:
		return exec.TaskExited, 0, ""
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded:
		return exec.TaskFailed, -1, fmt.Sprintf("timed out after %s", timeout)
	case stopping:
		return exec.TaskStopped, -1, "stopped"
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeContextCanceled:
		return exec.TaskFailed, -1, "cancelled"
	case errors.As(err, &exit):
		return exec.TaskFailed, int(exit.ExitCode()), fmt.Sprintf("exit code %d", exit.ExitCode())
	default:
		return exec.TaskFailed, -1, err.Error()
	}
}
