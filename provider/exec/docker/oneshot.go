package docker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// oneShotRun follows a one-shot container's attached streams. Hashing the attached stdout is
// exact for any bytes, whereas the engine's log store may re-encode output (json-file turns
// invalid UTF-8 into U+FFFD), so the log store is only the fallback after a sidecar restart.
type oneShotRun struct {
	done   chan struct{}
	digest string
	err    error
}

// attachOneShot attaches to a created (not yet started) container, so no output can be missed,
// feeds it input on stdin and hashes its stdout until the container exits.
func (d *Driver) attachOneShot(ctx context.Context, containerID string, input []byte) (*oneShotRun, error) {
	hj, err := d.cli.ContainerAttach(ctx, containerID, container.AttachOptions{
		Stream: true, Stdin: true, Stdout: true, Stderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("docker: attach to %s: %w", shortID(containerID), err)
	}
	run := &oneShotRun{done: make(chan struct{})}
	go func() {
		// A job may exit without reading all of its input; that is its choice, and the write
		// error it causes says nothing about the result, so it is dropped.
		_, _ = hj.Conn.Write(input)
		_ = hj.CloseWrite()
	}()
	go func() {
		defer close(run.done)
		defer hj.Close()
		h := sha256.New()
		if _, err := stdcopy.StdCopy(h, io.Discard, hj.Reader); err != nil {
			run.err = fmt.Errorf("docker: read output of %s: %w", shortID(containerID), err)
			return
		}
		run.digest = hex.EncodeToString(h.Sum(nil))
	}()
	return run, nil
}

// errResultLost is returned when a one-shot result can only be read back from a log store that
// may have altered it; a wrong digest would be committed on chain, a missing one is just retried.
var errResultLost = errors.New("result not recoverable exactly: the output was not followed by this driver and the log store re-encodes invalid UTF-8")

// resultDigest is the hex SHA-256 of an exited one-shot container's stdout.
func (d *Driver) resultDigest(ctx context.Context, info types.ContainerJSON) (string, error) {
	d.mu.Lock()
	run := d.runs[info.ID]
	d.mu.Unlock()
	if run != nil {
		// The stream ends right after the container exits; wait for the last bytes.
		select {
		case <-run.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if run.err == nil {
			return run.digest, nil
		}
	}
	rc, err := d.cli.ContainerLogs(ctx, info.ID, container.LogsOptions{ShowStdout: true})
	if err != nil {
		return "", fmt.Errorf("docker: read output of %s: %w", shortID(info.ID), err)
	}
	defer rc.Close()
	h := sha256.New()
	w := io.Writer(h)
	// The "local" log driver keeps raw bytes; the others store strings, so a replacement
	// character in what they return may stand for bytes the job never wrote.
	var lossy *replacementDetector
	if info.HostConfig == nil || info.HostConfig.LogConfig.Type != "local" {
		lossy = &replacementDetector{}
		w = io.MultiWriter(h, lossy)
	}
	if _, err := stdcopy.StdCopy(w, io.Discard, rc); err != nil {
		return "", fmt.Errorf("docker: read output of %s: %w", shortID(info.ID), err)
	}
	if lossy != nil && lossy.found {
		return "", fmt.Errorf("docker: container %s: %w", shortID(info.ID), errResultLost)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// replacementDetector notes whether U+FFFD appears in a stream, even split across writes.
type replacementDetector struct {
	tail  []byte // the stream's last two bytes
	found bool
}

var replacementChar = []byte("\uFFFD")

func (r *replacementDetector) Write(p []byte) (int, error) {
	if r.found || len(p) == 0 {
		return len(p), nil
	}
	edge := append(append([]byte{}, r.tail...), p[:min(len(p), 2)]...)
	r.found = bytes.Contains(edge, replacementChar) || bytes.Contains(p, replacementChar)
	if len(p) >= 2 {
		r.tail = append(r.tail[:0], p[len(p)-2:]...)
	} else {
		r.tail = append(r.tail, p...)
		r.tail = r.tail[max(len(r.tail)-2, 0):]
	}
	return len(p), nil
}

func (d *Driver) trackRun(containerID string, run *oneShotRun) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.runs[containerID] = run
}

func (d *Driver) forgetRun(containerID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.runs, containerID)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
