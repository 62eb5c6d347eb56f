package wasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/computed-network/computed/provider/exec"
)

// serve starts the task's HTTP front: each request runs one instance of the compiled module.
func (d *Driver) serve(ctx context.Context, t *task) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("wasm: listen: %w", err)
	}
	// Instances run on request goroutines; the cap keeps a burst from holding more instance
	// memory than the machine has cores to use.
	t.sem = make(chan struct{}, max(2, runtime.NumCPU()))
	t.bodies = make(chan struct{}, 4*cap(t.sem))
	t.url = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("/", d.handler(ctx, t))
	t.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	t.setRunning()
	serveErr := make(chan error, 1)
	go func() { serveErr <- t.srv.Serve(ln) }()
	go func() {
		defer close(t.done)
		var err error
		select {
		case <-ctx.Done():
			err = t.srv.Close()
			<-serveErr
		case err = <-serveErr:
		}
		t.release()
		t.mu.Lock()
		defer t.mu.Unlock()
		t.status.EndedAt = time.Now()
		switch {
		case t.stopping:
			t.status.State, t.status.ExitCode = exec.TaskStopped, 0
		default:
			t.status.State, t.status.ExitCode = exec.TaskFailed, -1
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.status.Error = err.Error()
			}
		}
	}()
	return nil
}

// bodyReadTimeout bounds reading one request's body.
var bodyReadTimeout = 30 * time.Second

func (d *Driver) handler(taskCtx context.Context, t *task) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Bodies are read a few at a time: each may take maxRequestBytes, and hundreds read at
		// once before waiting for a run would hold gigabytes.
		select {
		case t.bodies <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		// Bounded in time too: clients trickling their uploads would otherwise hold every slot
		// and keep the lease's other requests waiting.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		<-t.bodies
		if err != nil {
			http.Error(w, "request body: "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		select {
		case t.sem <- struct{}{}:
			defer func() { <-t.sem }()
		case <-r.Context().Done():
			return
		}
		// The request's own context ends on Stop too (BaseContext), and this one also on timeout.
		ctx, cancel := context.WithTimeout(r.Context(), d.cfg.Timeout)
		defer cancel()

		env := make(map[string]string, len(t.cfg.Env)+2)
		for k, v := range t.cfg.Env {
			env[k] = v
		}
		// CGI-style request metadata, so one module can route on method and path.
		env["REQUEST_METHOD"] = r.Method
		env["REQUEST_URI"] = r.URL.RequestURI()

		out := &cappedBuffer{max: maxOutputBytes}
		err = t.run(ctx, moduleConfig(t.cfg.Args, env, bytes.NewReader(body), out, t.stderr))
		if state, _, msg := outcome(err, out, d.cfg.Timeout, false); state != exec.TaskExited {
			http.Error(w, "module failed: "+msg, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(out.buf)
	})
}
