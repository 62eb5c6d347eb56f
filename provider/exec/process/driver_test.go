package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/computed-network/computed/provider/exec"
)

// helperEnv makes the test binary act as a workload: an HTTP server on $PORT.
const helperEnv = "PROCESS_DRIVER_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "http" {
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello %s on %s", os.Getenv("GREETING"), os.Getenv("PORT"))
		})
		fmt.Println("helper listening on", os.Getenv("PORT"))
		err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newDriver(t *testing.T) *Driver {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d := New(Config{
		Allow: map[string][]string{
			"http":  {self},
			"shell": {"/bin/sh", "-c"},
			// Ignores SIGTERM (and so do its children, which inherit the ignored disposition),
			// forks a sleeper and records its pid in $1.
			"stubborn": {"/bin/sh", "-c", `trap '' TERM; sleep 300 & echo $! > "$1"; wait`, "stubborn"},
			"empty":    {},
		},
		WorkDir:      t.TempDir(),
		ReadyTimeout: 300 * time.Millisecond,
		StopGrace:    300 * time.Millisecond,
	})
	t.Cleanup(func() {
		d.mu.Lock()
		var ids []string
		for id := range d.tasks {
			ids = append(ids, id)
		}
		d.mu.Unlock()
		for _, id := range ids {
			d.Stop(context.Background(), id)
		}
	})
	return d
}

func TestRefused(t *testing.T) {
	d := newDriver(t)
	ctx := testCtx(t)
	for _, w := range []string{"rm", "/bin/sh", "", "empty"} {
		if _, err := d.Start(ctx, exec.TaskConfig{ID: "x", Workload: w}); !errors.Is(err, exec.ErrRefused) {
			t.Errorf("workload %q: err = %v, want ErrRefused", w, err)
		}
	}
	if _, err := d.Status(ctx, "x"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("a refused task was recorded: %v", err)
	}
}

func TestServiceEndpoint(t *testing.T) {
	d := newDriver(t)
	d.cfg.ReadyTimeout = 20 * time.Second
	ctx := testCtx(t)
	st, err := d.Start(ctx, exec.TaskConfig{ID: "web", Workload: "http",
		Env: map[string]string{helperEnv: "http", "GREETING": "lease-7", "PORT": "1"}})
	if err != nil || st.State != exec.TaskRunning {
		t.Fatalf("Start = %+v, %v", st, err)
	}
	url, err := d.Endpoint(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(url, "http://127.0.0.1:")
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// PORT is the driver's, whatever the task asked for.
	if want := "hello lease-7 on " + port; string(body) != want {
		t.Fatalf("GET = %q, want %q", body, want)
	}
	if logs, _ := d.Logs(ctx, "web", 0); !strings.Contains(string(logs), "helper listening on "+port) {
		t.Errorf("logs = %q", logs)
	}

	// A repeated Start re-attaches instead of launching a second server.
	if again, err := d.Start(ctx, exec.TaskConfig{ID: "web", Workload: "http"}); err != nil || !again.StartedAt.Equal(st.StartedAt) {
		t.Errorf("re-Start = %+v, %v", again, err)
	}

	if err := d.Stop(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if st, _ := d.Status(ctx, "web"); st.State != exec.TaskStopped {
		t.Errorf("status after Stop = %+v", st)
	}
	if _, err := http.Get(url + "/"); err == nil {
		t.Error("request after Stop succeeded")
	}
	if _, err := d.Endpoint(ctx, "web"); !errors.Is(err, exec.ErrNoEndpoint) {
		t.Errorf("Endpoint after Stop: %v", err)
	}
}

func TestExitStatusAndLogs(t *testing.T) {
	d := newDriver(t)
	ctx := testCtx(t)
	d.cfg.ReadyTimeout = 20 * time.Second
	// Exiting non-zero while Start waits for the port is a failed start.
	_, err := d.Start(ctx, exec.TaskConfig{ID: "fail", Workload: "shell",
		Args: []string{`echo "out $FOO $PORT"; echo err >&2; exit 7`}, Env: map[string]string{"FOO": "bar"}})
	if err == nil || !strings.Contains(err.Error(), "exited during start: exit status 7") {
		t.Fatalf("Start of a task exiting 7: %v", err)
	}
	st, err := d.Wait(ctx, "fail")
	if err != nil || st.State != exec.TaskFailed || st.ExitCode != 7 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	logs, _ := d.Logs(ctx, "fail", 0)
	if !strings.Contains(string(logs), "out bar ") || !strings.Contains(string(logs), "err\n") {
		t.Errorf("logs = %q", logs)
	}
	if tail, _ := d.Logs(ctx, "fail", 4); string(tail) != "err\n" {
		t.Errorf("last 4 bytes = %q", tail)
	}

	if _, err := d.Start(ctx, exec.TaskConfig{ID: "ok", Workload: "shell", Args: []string{"pwd"}}); err != nil {
		t.Fatal(err)
	}
	st, _ = d.Wait(ctx, "ok")
	logs, _ = d.Logs(ctx, "ok", 0)
	if st.State != exec.TaskExited || st.ExitCode != 0 || strings.TrimSpace(string(logs)) != d.cfg.WorkDir {
		t.Errorf("status %+v, logs %q (want WorkDir %s)", st, logs, d.cfg.WorkDir)
	}
	if _, err := d.Endpoint(ctx, "ok"); !errors.Is(err, exec.ErrNoEndpoint) {
		t.Errorf("Endpoint of an exited task: %v", err)
	}
}

func TestStopKillsGroup(t *testing.T) {
	d := newDriver(t)
	ctx := testCtx(t)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	st, err := d.Start(ctx, exec.TaskConfig{ID: "s", Workload: "stubborn", Args: []string{pidFile}})
	if err != nil || st.State != exec.TaskRunning {
		t.Fatalf("Start = %+v, %v", st, err)
	}
	if _, err := d.Endpoint(ctx, "s"); !errors.Is(err, exec.ErrNoEndpoint) {
		t.Errorf("Endpoint of a task that does not listen: %v", err)
	}
	child := readPid(t, pidFile)
	leader := d.tasks["s"].proc.Pid

	begin := time.Now()
	if err := d.Stop(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop of a SIGTERM-ignoring group took %s", time.Since(begin))
	if st, _ := d.Status(ctx, "s"); st.State != exec.TaskStopped {
		t.Errorf("status after Stop = %+v", st)
	}
	for _, pid := range []int{leader, child} {
		if !gone(pid) {
			t.Errorf("pid %d survived Stop", pid)
		}
	}
}

func TestUnknownTask(t *testing.T) {
	d := newDriver(t)
	ctx := testCtx(t)
	if _, err := d.Status(ctx, "nope"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Status: %v", err)
	}
	if _, err := d.Logs(ctx, "nope", 1); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Logs: %v", err)
	}
	if _, err := d.Endpoint(ctx, "nope"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Endpoint: %v", err)
	}
	if err := d.Stop(ctx, "nope"); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if d.Name() != "process" {
		t.Errorf("Name = %q", d.Name())
	}
}

func TestTaskEnv(t *testing.T) {
	t.Setenv("SECRET_KEY", "do-not-leak")
	env, err := taskEnv(map[string]string{"B": "2", "A": "1", "PORT": "80"}, 1234)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(env, "\n")
	if strings.Contains(joined, "SECRET_KEY") || !strings.Contains(joined, "A=1\nB=2\nPORT=1234") || strings.Contains(joined, "PORT=80") {
		t.Errorf("env = %q", env)
	}
	if _, err := taskEnv(map[string]string{"A=B": "x"}, 1); err == nil {
		t.Error("a key with '=' was accepted")
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("pid file %q: %v", b, err)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the task never wrote its child's pid")
	return 0
}

// gone reports whether pid has exited within a few seconds. A zombie counts as gone: in a
// container nothing may reap a reparented child.
func gone(pid int) bool {
	for i := 0; i < 300; i++ {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
