package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/computed-network/computed/provider/exec"
)

// testCache lets the tests' drivers share compiled modules; compiling the Go-built test module
// takes about a second.
var testCache = wazero.NewCompilationCache()

func newDriver(cfg Config) *Driver {
	d, err := New(cfg)
	if err != nil {
		panic(err)
	}
	d.cache, d.memCache = testCache, testCache
	return d
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// runJob starts a one-shot task and waits for it.
func runJob(t *testing.T, d *Driver, cfg exec.TaskConfig) exec.TaskStatus {
	t.Helper()
	ctx := testCtx(t)
	if _, err := d.Start(ctx, cfg); err != nil {
		t.Fatalf("Start %s: %v", cfg.ID, err)
	}
	st, err := d.Wait(ctx, cfg.ID)
	if err != nil {
		t.Fatalf("Wait %s: %v", cfg.ID, err)
	}
	return st
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(mod, []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("something else"))
	d := newDriver(Config{ModuleDir: dir})
	ctx := testCtx(t)
	for name, cfg := range map[string]exec.TaskConfig{
		"digest mismatch":   {ID: "a", Workload: "m.wasm", Digest: hex.EncodeToString(other[:]), Input: []byte{}},
		"prefixed mismatch": {ID: "b", Workload: "m.wasm", Digest: "sha256:" + hex.EncodeToString(other[:])},
		"not a digest":      {ID: "c", Workload: "m.wasm", Digest: "latest"},
		"no digest":         {ID: "d", Workload: "m.wasm"},
		"escapes dir":       {ID: "e", Workload: "../m.wasm", Digest: hex.EncodeToString(other[:])},
		"absolute outside":  {ID: "f", Workload: "/etc/passwd", Digest: hex.EncodeToString(other[:])},
	} {
		if _, err := d.Start(ctx, cfg); !errors.Is(err, exec.ErrRefused) {
			t.Errorf("%s: err = %v, want ErrRefused", name, err)
		}
	}
	if st, err := d.Status(ctx, "a"); err != nil || st.State != exec.TaskFailed || !strings.Contains(st.Error, "sha256") {
		t.Errorf("refused task status = %+v, %v", st, err)
	}
}

// Check, asked before a bid, refuses what Start would and tells a module that is not here.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	bin := []byte("\x00asm\x01\x00\x00\x00")
	sum := sha256.Sum256(bin)
	hash := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(dir, hash+".wasm"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("something else"))
	d := newDriver(Config{ModuleDir: dir})
	ctx := testCtx(t)
	if err := d.Check(ctx, filepath.Join(dir, hash+".wasm"), hash); err != nil {
		t.Errorf("the module that is here: %v", err)
	}
	if err := d.Check(ctx, hash+".wasm", "sha256:"+hash); err != nil {
		t.Errorf("by name, prefixed digest: %v", err)
	}
	for name, c := range map[string]struct {
		workload, digest string
		want             error
	}{
		"not here":        {hex.EncodeToString(other[:]) + ".wasm", hex.EncodeToString(other[:]), exec.ErrUnavailable},
		"digest mismatch": {hash + ".wasm", hex.EncodeToString(other[:]), exec.ErrRefused},
		"not a digest":    {hash + ".wasm", "latest", exec.ErrRefused},
		"escapes dir":     {"../" + hash + ".wasm", hash, exec.ErrRefused},
	} {
		if err := d.Check(ctx, c.workload, c.digest); !errors.Is(err, c.want) {
			t.Errorf("%s: Check = %v, want %v", name, err, c.want)
		}
	}
}

func TestJobIsDeterministic(t *testing.T) {
	mod, _ := modules(t)
	d := newDriver(Config{})
	job := func(id, mode, input, digest string) exec.TaskStatus {
		return runJob(t, d, exec.TaskConfig{ID: id, Workload: mod.path, Digest: digest, Args: []string{mode}, Input: []byte(input)})
	}

	a := job("a", "hash", "hello", mod.digest)
	b := job("b", "hash", "hello", "sha256:"+strings.ToUpper(mod.digest))
	c := job("c", "hash", "world", mod.digest)
	for _, st := range []exec.TaskStatus{a, b, c} {
		if st.State != exec.TaskExited || st.ExitCode != 0 || len(st.ResultDigest) != 64 {
			t.Fatalf("job status = %+v", st)
		}
	}
	if a.ResultDigest != b.ResultDigest {
		t.Errorf("same input, different results: %s vs %s", a.ResultDigest, b.ResultDigest)
	}
	if a.ResultDigest == c.ResultDigest {
		t.Errorf("different inputs, same result %s", a.ResultDigest)
	}
	out, err := d.Output("a")
	if err != nil {
		t.Fatal(err)
	}
	in := sha256.Sum256([]byte("hello"))
	if want := "sha256:" + hex.EncodeToString(in[:]); string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if sum := sha256.Sum256(out); hex.EncodeToString(sum[:]) != a.ResultDigest {
		t.Errorf("ResultDigest %s is not the SHA-256 of the output", a.ResultDigest)
	}

	// Clocks, randomness and map order are all fixed inside the sandbox.
	e1, e2 := job("e1", "entropy", "x", mod.digest), job("e2", "entropy", "x", mod.digest)
	o1, _ := d.Output("e1")
	if e1.State != exec.TaskExited || e1.ResultDigest != e2.ResultDigest {
		o2, _ := d.Output("e2")
		t.Errorf("entropy runs differ:\n%s\n%s", o1, o2)
	}
	t.Logf("entropy output: %.120s", o1)

	// A repeated Start of a finished job returns it rather than running it again.
	st, err := d.Start(testCtx(t), exec.TaskConfig{ID: "a", Workload: mod.path, Digest: mod.digest, Args: []string{"hash"}, Input: []byte("hello")})
	if err != nil || st.ResultDigest != a.ResultDigest || !st.EndedAt.Equal(a.EndedAt) {
		t.Errorf("restart of a finished job = %+v, %v", st, err)
	}
}

func TestJobFailureAndLogs(t *testing.T) {
	mod, _ := modules(t)
	d := newDriver(Config{})
	st := runJob(t, d, exec.TaskConfig{ID: "f", Workload: mod.path, Digest: mod.digest, Args: []string{"fail"}, Input: []byte("bad input")})
	if st.State != exec.TaskFailed || st.ExitCode != 3 || st.ResultDigest != "" {
		t.Fatalf("status = %+v", st)
	}
	logs, err := d.Logs(testCtx(t), "f", 0)
	if err != nil || !strings.Contains(string(logs), "boom: bad input") {
		t.Fatalf("logs = %q, %v", logs, err)
	}
	if tail, _ := d.Logs(testCtx(t), "f", 6); string(tail) != "input\n" {
		t.Fatalf("last 6 bytes of logs = %q", tail)
	}
}

func TestMemoryLimit(t *testing.T) {
	mod, _ := modules(t)
	alloc := func(d *Driver, id string, mib int, capMiB int64) exec.TaskStatus {
		return runJob(t, d, exec.TaskConfig{ID: id, Workload: mod.path, Digest: mod.digest,
			Args: []string{"alloc"}, Input: []byte(strconv.Itoa(mib)), MemoryMiB: capMiB})
	}

	// Tasks of one driver share compiled code but not memory caps.
	d := newDriver(Config{})
	if st := alloc(d, "uncapped", 96, 0); st.State != exec.TaskExited {
		t.Fatalf("96 MiB without a cap: status = %+v", st)
	}
	if st := alloc(d, "small", 8, 64); st.State != exec.TaskExited {
		t.Fatalf("8 MiB under MemoryMiB 64: status = %+v", st)
	}
	if st := alloc(d, "capped", 96, 64); st.State != exec.TaskFailed {
		t.Fatalf("96 MiB under MemoryMiB 64: status = %+v", st)
	}

	d = newDriver(Config{MaxMemoryPages: 64 * wasmPageMiB})
	if st := alloc(d, "driver-capped", 96, 0); st.State != exec.TaskFailed {
		t.Fatalf("96 MiB under a 64 MiB driver cap: status = %+v", st)
	}
	if logs, _ := d.Logs(testCtx(t), "driver-capped", 0); !strings.Contains(string(logs), "out of memory") {
		t.Errorf("logs of the capped run: %q", logs)
	}
}

func TestTimeoutKillsLoop(t *testing.T) {
	mod, _ := modules(t)
	d := newDriver(Config{Timeout: 500 * time.Millisecond})
	begin := time.Now()
	st := runJob(t, d, exec.TaskConfig{ID: "loop", Workload: mod.path, Digest: mod.digest, Args: []string{"loop"}, Input: []byte{}})
	if st.State != exec.TaskFailed || !strings.Contains(st.Error, "timed out") {
		t.Fatalf("status = %+v", st)
	}
	if took := time.Since(begin); took > 30*time.Second {
		t.Fatalf("loop ran for %s", took)
	}

	// Stop ends a running job early.
	d = newDriver(Config{Timeout: time.Hour})
	ctx := testCtx(t)
	if _, err := d.Start(ctx, exec.TaskConfig{ID: "loop", Workload: mod.path, Digest: mod.digest, Args: []string{"loop"}, Input: []byte{}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := d.Status(ctx, "loop"); st.State != exec.TaskRunning {
		t.Fatalf("looping job status = %+v", st)
	}
	if _, err := d.Output("loop"); err == nil {
		t.Fatal("Output of a running job succeeded")
	}
	if err := d.Stop(ctx, "loop"); err != nil {
		t.Fatal(err)
	}
	// Stopped is forgotten, as docker's Stop removes the container: its input and output would
	// otherwise stay in memory for every job the sidecar ever ran.
	if st, err := d.Status(ctx, "loop"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Fatalf("stopped job status = %+v, %v; want forgotten", st, err)
	}
}

func TestService(t *testing.T) {
	mod, _ := modules(t)
	d := newDriver(Config{Timeout: 2 * time.Second})
	ctx := testCtx(t)
	st, err := d.Start(ctx, exec.TaskConfig{ID: "svc", Workload: mod.path, Digest: mod.digest, Args: []string{"upper"}})
	if err != nil || st.State != exec.TaskRunning {
		t.Fatalf("Start = %+v, %v", st, err)
	}
	url, err := d.Endpoint(ctx, "svc")
	if err != nil || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, %v", url, err)
	}
	if code, body := post(t, url+"/anything", "make me loud"); code != 200 || body != "MAKE ME LOUD" {
		t.Fatalf("POST = %d %q", code, body)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz = %v, %v", resp, err)
	}
	resp.Body.Close()

	if err := d.Stop(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Post(url, "text/plain", strings.NewReader("x")); err == nil {
		t.Fatal("request after Stop succeeded")
	}
	if st, err := d.Status(ctx, "svc"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Fatalf("status after Stop = %+v, %v; want forgotten", st, err)
	}
	if _, err := d.Endpoint(ctx, "svc"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Fatalf("Endpoint after Stop: %v", err)
	}
	if err := d.Stop(ctx, "svc"); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestServiceErrorsAndMetadata(t *testing.T) {
	mod, _ := modules(t)
	d := newDriver(Config{Timeout: 500 * time.Millisecond})
	ctx := testCtx(t)
	start := func(id, mode string) string {
		if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: mod.path, Digest: mod.digest, Args: []string{mode}, Env: map[string]string{"GREETING": "hi"}}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Stop(context.Background(), id) })
		url, err := d.Endpoint(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return url
	}
	if code, body := post(t, start("env", "env")+"/v1/run?x=1", ""); code != 200 || body != "main.wasm POST /v1/run?x=1 hi" {
		t.Errorf("env service = %d %q", code, body)
	}
	if code, body := post(t, start("fail", "fail"), "oops"); code != 500 || !strings.Contains(body, "exit code 3") {
		t.Errorf("failing module = %d %q", code, body)
	}
	if code, body := post(t, start("loop", "loop"), ""); code != 500 || !strings.Contains(body, "timed out") {
		t.Errorf("looping module = %d %q", code, body)
	}
	// The service survives its failed requests.
	if st, _ := d.Status(ctx, "loop"); st.State != exec.TaskRunning {
		t.Errorf("status after a timed-out request = %+v", st)
	}
	if _, err := d.Endpoint(ctx, "nope"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Endpoint unknown: %v", err)
	}
}

// Stop does not wait for a request whose module never returns.
func TestStopDuringRequest(t *testing.T) {
	mod, _ := modules(t)
	d := newDriver(Config{Timeout: time.Hour})
	ctx := testCtx(t)
	if _, err := d.Start(ctx, exec.TaskConfig{ID: "busy", Workload: mod.path, Digest: mod.digest, Args: []string{"loop"}}); err != nil {
		t.Fatal(err)
	}
	url, _ := d.Endpoint(ctx, "busy")
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Post(url, "text/plain", strings.NewReader(""))
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	time.Sleep(300 * time.Millisecond)
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.Stop(stopCtx, "busy"); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-answered:
		if code == 200 {
			t.Fatal("a looping request succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request outlived Stop")
	}
}

func TestEchoExample(t *testing.T) {
	_, echo := modules(t)
	d := newDriver(Config{ModuleDir: filepath.Dir(echo.path)})
	st := runJob(t, d, exec.TaskConfig{ID: "echo", Workload: filepath.Base(echo.path), Digest: echo.digest, Input: []byte("ping")})
	out, err := d.Output("echo")
	if err != nil || st.State != exec.TaskExited || string(out) != "ping" {
		t.Fatalf("echo: %+v, output %q, %v", st, out, err)
	}
	if _, err := d.Endpoint(testCtx(t), "echo"); !errors.Is(err, exec.ErrNoEndpoint) {
		t.Fatalf("Endpoint of a job: %v", err)
	}
}

func TestUnknownTask(t *testing.T) {
	d := newDriver(Config{})
	ctx := testCtx(t)
	if _, err := d.Status(ctx, "nope"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Status: %v", err)
	}
	if _, err := d.Logs(ctx, "nope", 10); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Logs: %v", err)
	}
	if _, err := d.Output("nope"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Output: %v", err)
	}
	if err := d.Stop(ctx, "nope"); err != nil {
		t.Errorf("Stop of an unknown task: %v", err)
	}
	if d.Name() != "wasm" {
		t.Errorf("Name = %q", d.Name())
	}
}

func post(t testing.TB, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Clients trickling their uploads give up their body slots after bodyReadTimeout: holding them
// all, they kept every other request to the lease waiting.
func TestSlowUploadsDoNotHoldTheService(t *testing.T) {
	mod, _ := modules(t)
	defer func(old time.Duration) { bodyReadTimeout = old }(bodyReadTimeout)
	bodyReadTimeout = 300 * time.Millisecond
	d := newDriver(Config{Timeout: 2 * time.Second})
	ctx := testCtx(t)
	if _, err := d.Start(ctx, exec.TaskConfig{ID: "svc", Workload: mod.path, Digest: mod.digest, Args: []string{"upper"}}); err != nil {
		t.Fatal(err)
	}
	defer d.Stop(ctx, "svc") //nolint:errcheck
	url, err := d.Endpoint(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(url, "http://")
	// More slow uploads than there are body slots, each promising 1 MB and sending 10 bytes.
	for range 4*runtime.NumCPU() + 8 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /x HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000\r\n\r\n0123456789", host)
	}
	time.Sleep(100 * time.Millisecond) // the slow ones take the slots first
	done := make(chan string, 1)
	go func() {
		_, body := post(t, url+"/y", "still served")
		done <- body
	}()
	select {
	case body := <-done:
		if body != "STILL SERVED" {
			t.Fatalf("answer %q", body)
		}
	case <-time.After(20 * time.Second): // without the deadline, never
		t.Fatal("a request waited behind slow uploads")
	}
}
