package docker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/computed-network/computed/provider/exec"
)

// testTask returns a task ID unique to this run, and removes its container when the test ends
// whatever the driver did.
func testTask(t *testing.T, cli *client.Client) string {
	t.Helper()
	id := "test-" + randomHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := cli.ContainerRemove(ctx, namePrefix+id, container.RemoveOptions{Force: true})
		if err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("cleanup container %s: %v", id, err)
		}
	})
	return id
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func containerID(t *testing.T, cli *client.Client, task string) string {
	t.Helper()
	info, err := cli.ContainerInspect(context.Background(), namePrefix+task)
	if err != nil {
		t.Fatalf("inspect container of %s: %v", task, err)
	}
	return info.ID
}

// waitExit polls until the task is neither pending nor running, or the deadline passes.
func waitExit(t *testing.T, ctx context.Context, d *Driver, id string) exec.TaskStatus {
	t.Helper()
	for {
		st, err := d.Status(ctx, id)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		if st.State != exec.TaskRunning && st.State != exec.TaskPending {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("task %s still %s", id, st.State)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// get fetches url, retrying while the server inside the container starts up.
func get(t *testing.T, url string) string {
	t.Helper()
	var lastErr error
	for i := 0; i < 50; i++ {
		resp, err := http.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(body)
			}
			lastErr = fmt.Errorf("status %d, body %q, read error %v", resp.StatusCode, body, rerr)
		} else {
			lastErr = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return ""
}

func TestRefusedBeforeTouchingTheEngine(t *testing.T) {
	// The host points nowhere: a refusal must not depend on the engine answering.
	d := newTestDriver(t, Config{Host: "unix:///nonexistent/docker.sock"})
	ctx := context.Background()
	for name, task := range map[string]exec.TaskConfig{
		"tag only":          {ID: "t1", Workload: "computed-test/echo:latest"},
		"wrong digest":      {ID: "t2", Workload: "sha256:" + hexA, Digest: "sha256:" + hexB},
		"gpu without rt":    {ID: "t3", Workload: "sha256:" + hexA, GPUs: []string{"0"}},
		"repo wrong digest": {ID: "t4", Workload: "echo@sha256:" + hexA, Digest: "sha256:" + hexB},
	} {
		_, err := d.Start(ctx, task)
		if !errors.Is(err, exec.ErrRefused) {
			t.Errorf("%s: Start = %v, want ErrRefused", name, err)
		}
	}
	if err := d.Ping(ctx); err == nil {
		t.Error("Ping of a missing engine succeeded")
	}
}

func TestStartMissingImage(t *testing.T) {
	cli := engine(t)
	d := newTestDriver(t, Config{})
	id := testTask(t, cli)
	for _, workload := range []string{"sha256:" + hexA, "computed-test/absent@sha256:" + hexA} {
		_, err := d.Start(testContext(t), exec.TaskConfig{ID: id, Workload: workload})
		if !errors.Is(err, ErrImageNotLoaded) || !strings.Contains(err.Error(), "pulling is disabled") {
			t.Errorf("Start(%s) = %v, want ErrImageNotLoaded", workload, err)
		}
	}
}

// Check, asked before a bid, accepts a loaded image by ID and refuses one that is not loaded
// (ErrUnavailable), an unpinned reference or a digest that is not the image's (ErrRefused).
func TestCheck(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	d := newTestDriver(t, Config{})
	ctx := testContext(t)
	if err := d.Check(ctx, img, img); err != nil {
		t.Errorf("Check(loaded image %s) = %v", img, err)
	}
	for _, c := range []struct {
		workload, digest string
		want             error
	}{
		{"sha256:" + hexA, "", exec.ErrUnavailable},
		{"computed-test/absent@sha256:" + hexA, "", exec.ErrUnavailable},
		{"computed-test/echo:latest", "", exec.ErrRefused},
		{img, "sha256:" + hexA, exec.ErrRefused},
	} {
		if err := d.Check(ctx, c.workload, c.digest); !errors.Is(err, c.want) {
			t.Errorf("Check(%s, %q) = %v, want %v", c.workload, c.digest, err, c.want)
		}
	}
}

func TestServiceLifecycle(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	d := newTestDriver(t, Config{})
	if err := d.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	ctx := testContext(t)
	id := testTask(t, cli)
	task := exec.TaskConfig{ID: id, LeaseID: 42, Workload: img, Digest: img, Env: map[string]string{"GREETING": "hi"}}

	st, err := d.Start(ctx, task)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if st.State != exec.TaskRunning || st.ID != id || st.StartedAt.IsZero() {
		t.Fatalf("Start status %+v, want running", st)
	}
	first := containerID(t, cli, id)

	url, err := d.Endpoint(ctx, id)
	if err != nil {
		t.Fatalf("Endpoint: %v", err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("Endpoint %q is not on loopback", url)
	}
	if body := get(t, url+"/hello"); body != "echo hi /hello" {
		t.Errorf("GET / = %q", body)
	}
	if body := get(t, url+"/healthz"); body != "ok" {
		t.Errorf("GET /healthz = %q", body)
	}

	logs, err := d.Logs(ctx, id, 1<<20)
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if !bytes.Contains(logs, []byte("echo server listening on :8080")) {
		t.Errorf("Logs = %q, want the server's greeting", logs)
	}
	tail, err := d.Logs(ctx, id, 5)
	if err != nil || len(tail) != 5 || !bytes.HasSuffix(logs, tail) {
		t.Errorf("Logs(5) = %q, %v; want the last 5 bytes of %q", tail, err, logs)
	}
	if all, err := d.Logs(ctx, id, 0); err != nil || !bytes.Equal(all, logs) {
		t.Errorf("Logs(0) = %q, %v; want the default window, here all of %q", all, err, logs)
	}

	// A restarted sidecar starts the same task again and must adopt the running container.
	again, err := newTestDriver(t, Config{}).Start(ctx, task)
	if err != nil || again.State != exec.TaskRunning {
		t.Fatalf("re-Start = %+v, %v", again, err)
	}
	if second := containerID(t, cli, id); second != first {
		t.Errorf("re-Start replaced container %s with %s", first, second)
	}

	info, err := cli.ContainerInspect(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Labels[labelLease] != "42" || info.Config.Labels[labelTask] != id {
		t.Errorf("labels %v", info.Config.Labels)
	}

	if err := d.Stop(ctx, id); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := cli.ContainerInspect(ctx, first); !errdefs.IsNotFound(err) {
		t.Errorf("container still there after Stop: %v", err)
	}
	if _, err := d.Status(ctx, id); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Status after Stop = %v, want ErrUnknownTask", err)
	}
	if _, err := d.Endpoint(ctx, id); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Endpoint after Stop = %v, want ErrUnknownTask", err)
	}
	if _, err := d.Logs(ctx, id, 100); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Logs after Stop = %v, want ErrUnknownTask", err)
	}
	if err := d.Stop(ctx, id); err != nil {
		t.Errorf("second Stop = %v, want nil", err)
	}
	if _, err := d.Status(ctx, "never-started"); !errors.Is(err, exec.ErrUnknownTask) {
		t.Errorf("Status of unknown = %v, want ErrUnknownTask", err)
	}
}

func TestLimitsAndHardeningReachTheEngine(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	d := newTestDriver(t, Config{DefaultCPUMillis: 500, DefaultMemoryMiB: 64})
	ctx := testContext(t)
	id := testTask(t, cli)

	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: img, CPUMillis: 250}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	info, err := cli.ContainerInspect(ctx, namePrefix+id)
	if err != nil {
		t.Fatal(err)
	}
	hc := info.HostConfig
	if hc.NanoCPUs != 250_000_000 {
		t.Errorf("NanoCPUs = %d, want 250000000", hc.NanoCPUs)
	}
	if hc.Memory != 64<<20 {
		t.Errorf("Memory = %d, want the 64 MiB default", hc.Memory)
	}
	if !hc.ReadonlyRootfs || hc.Privileged || hc.AutoRemove {
		t.Errorf("ReadonlyRootfs %v Privileged %v AutoRemove %v", hc.ReadonlyRootfs, hc.Privileged, hc.AutoRemove)
	}
	if !slices.Equal(hc.CapDrop, []string{"ALL"}) || !slices.Contains(hc.SecurityOpt, "no-new-privileges") {
		t.Errorf("CapDrop %v SecurityOpt %v", hc.CapDrop, hc.SecurityOpt)
	}
	for _, b := range info.NetworkSettings.Ports["8080/tcp"] {
		if b.HostIP != "127.0.0.1" {
			t.Errorf("port published on %s, want loopback only", b.HostIP)
		}
	}
}

// With IsolateNetwork, containers join a bridge the driver creates with inter-container traffic
// off, so one lease's container cannot reach another's service behind the ingress's back; the
// pids cap reaches the engine.
func TestIsolatedNetwork(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	ctx := testContext(t)
	name := fmt.Sprintf("computed-test-%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = cli.NetworkRemove(context.Background(), name) })
	d := newTestDriver(t, Config{Network: name, IsolateNetwork: true, PidsLimit: 64})
	id := testTask(t, cli)
	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: img}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = d.Stop(context.Background(), id) })
	nw, err := cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil {
		t.Fatalf("the isolated network was not created: %v", err)
	}
	if nw.Driver != "bridge" || nw.Options[iccOption] != "false" {
		t.Errorf("network %s: driver %s, options %v; want a bridge with ICC off", name, nw.Driver, nw.Options)
	}
	info, err := cli.ContainerInspect(ctx, namePrefix+id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info.NetworkSettings.Networks[name]; !ok || len(info.NetworkSettings.Networks) != 1 {
		t.Errorf("container networks %v, want only %s", info.NetworkSettings.Networks, name)
	}
	if info.HostConfig.PidsLimit == nil || *info.HostConfig.PidsLimit != 64 {
		t.Errorf("PidsLimit %v, want 64", info.HostConfig.PidsLimit)
	}
	st, err := d.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != exec.TaskRunning {
		t.Fatalf("state %s", st.State)
	}
	ep, err := d.Endpoint(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_ = get(t, ep+"/") // still served through loopback, where the ingress reaches it
}

func TestReadOnlyRootWithWritableTmp(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	d := newTestDriver(t, Config{})
	ctx := testContext(t)
	id := testTask(t, cli)

	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: img, Args: []string{"fs"}}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if st := waitExit(t, ctx, d, id); st.State != exec.TaskExited || st.ExitCode != 0 {
		t.Fatalf("status %+v, want a clean exit", st)
	}
	logs, err := d.Logs(ctx, id, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if string(logs) != "tmp writable\nroot read-only\n" {
		t.Errorf("Logs = %q", logs)
	}
	if _, err := d.Endpoint(ctx, id); !errors.Is(err, exec.ErrNoEndpoint) {
		t.Errorf("Endpoint of an exited service = %v, want ErrNoEndpoint", err)
	}
}

func TestFailedTask(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	d := newTestDriver(t, Config{})
	ctx := testContext(t)
	id := testTask(t, cli)

	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: img, Args: []string{"fail"}}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitExit(t, ctx, d, id)
	if st.State != exec.TaskFailed || st.ExitCode != 3 || st.Error == "" || st.EndedAt.IsZero() {
		t.Errorf("status %+v, want failed with exit code 3", st)
	}
	if st.ResultDigest != "" {
		t.Errorf("a service has result digest %q", st.ResultDigest)
	}
	logs, err := d.Logs(ctx, id, 1024)
	if err != nil || !bytes.Contains(logs, []byte("failing on purpose")) {
		t.Errorf("Logs = %q, %v", logs, err)
	}
}

func TestOneShotResultDigestIsExactForBinaryOutput(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	d := newTestDriver(t, Config{})
	ctx := testContext(t)
	id := testTask(t, cli)

	// Bytes that are not valid UTF-8 and more than one write's worth: the digest must cover
	// exactly what the job wrote.
	input := bytes.Repeat([]byte{0xff, 0x00, 'a', 0xfe, '\n'}, 50<<10)
	want := sha256.Sum256(input)
	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: img, Args: []string{"cat"}, Input: input}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitExit(t, ctx, d, id)
	if st.State != exec.TaskExited || st.ResultDigest != hex.EncodeToString(want[:]) {
		t.Errorf("status %+v, want exited with digest %x", st, want)
	}

	// After a sidecar restart only the log store is left, and json-file mangles these bytes:
	// better no digest than a wrong one.
	info, err := cli.ContainerInspect(ctx, namePrefix+id)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := newTestDriver(t, Config{}).Status(ctx, id)
	switch info.HostConfig.LogConfig.Type {
	case "local":
		if err != nil || st2.ResultDigest != st.ResultDigest {
			t.Errorf("Status after restart = %+v, %v; want digest %s", st2, err, st.ResultDigest)
		}
	default:
		if !errors.Is(err, errResultLost) {
			t.Errorf("Status after restart with %s logs = %+v, %v; want errResultLost", info.HostConfig.LogConfig.Type, st2, err)
		}
	}
}

func TestOneShotResultDigest(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	d := newTestDriver(t, Config{})
	ctx := testContext(t)
	id := testTask(t, cli)

	input := []byte("the job's input\n")
	sum := sha256.Sum256(input)
	stdout := hex.EncodeToString(sum[:]) + "\n"
	want := sha256.Sum256([]byte(stdout))
	task := exec.TaskConfig{ID: id, LeaseID: 9, Workload: img, Digest: img, Args: []string{"hash"}, Input: input}

	if _, err := d.Start(ctx, task); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := waitExit(t, ctx, d, id)
	if st.State != exec.TaskExited || st.ExitCode != 0 {
		t.Fatalf("status %+v, want exited", st)
	}
	if st.ResultDigest != hex.EncodeToString(want[:]) {
		t.Errorf("ResultDigest = %s, want sha256(%q) = %x", st.ResultDigest, stdout, want)
	}
	if _, err := d.Endpoint(ctx, id); !errors.Is(err, exec.ErrNoEndpoint) {
		t.Errorf("Endpoint of a one-shot = %v, want ErrNoEndpoint", err)
	}

	// A restarted sidecar has lost the attached stream and must read the result back.
	restarted := newTestDriver(t, Config{})
	st2, err := restarted.Status(ctx, id)
	if err != nil || st2.ResultDigest != st.ResultDigest {
		t.Errorf("Status after restart = %+v, %v; want digest %s", st2, err, st.ResultDigest)
	}

	// Starting an exited task runs it afresh in a new container.
	before := containerID(t, cli, id)
	if _, err := restarted.Start(ctx, task); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if after := containerID(t, cli, id); after == before {
		t.Errorf("exited container %s was reused", before)
	}
	if st3 := waitExit(t, ctx, restarted, id); st3.ResultDigest != st.ResultDigest {
		t.Errorf("second run digest %s, want %s", st3.ResultDigest, st.ResultDigest)
	}
}

func TestStartByRepoDigest(t *testing.T) {
	cli := engine(t)
	img := echoImage(t, cli)
	ctx := testContext(t)

	reg := newMemRegistry()
	defer reg.Close()
	repo := strings.TrimPrefix(reg.URL, "http://") + "/computed-test/echo"
	tag := repo + ":" + randomHex(4)
	if err := cli.ImageTag(ctx, img, tag); err != nil {
		t.Fatalf("tag: %v", err)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), tag, image.RemoveOptions{}) })
	rc, err := cli.ImagePush(ctx, tag, image.PushOptions{RegistryAuth: anonymousAuth})
	if err == nil {
		err = readJSONMessages(rc)
		rc.Close()
	}
	if err != nil {
		t.Fatalf("push to the in-process registry: %v", err)
	}
	info, _, err := cli.ImageInspectWithRaw(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	var pinned string
	for _, rd := range info.RepoDigests {
		if strings.HasPrefix(rd, repo+"@") {
			pinned = rd
		}
	}
	if pinned == "" {
		t.Fatalf("push left no repo digest for %s: %v", repo, info.RepoDigests)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), pinned, image.RemoveOptions{}) })
	manifestDigest := pinned[len(repo)+1:]

	d := newTestDriver(t, Config{})
	id := testTask(t, cli)
	// The tag is no pin: even though it names this very image, it is refused.
	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: tag}); !errors.Is(err, exec.ErrRefused) {
		t.Errorf("Start by tag = %v, want ErrRefused", err)
	}
	other := strings.TrimPrefix(reg.URL, "http://") + "/computed-test/other@" + manifestDigest
	if _, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: other}); !errors.Is(err, ErrImageNotLoaded) {
		t.Errorf("Start of another repository with the same digest = %v, want ErrImageNotLoaded", err)
	}
	st, err := d.Start(ctx, exec.TaskConfig{ID: id, Workload: pinned, Digest: manifestDigest})
	if err != nil || st.State != exec.TaskRunning {
		t.Fatalf("Start(%s) = %+v, %v", pinned, st, err)
	}
	c, err := cli.ContainerInspect(ctx, namePrefix+id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Image != img {
		t.Errorf("container runs %s, want %s", c.Image, img)
	}
	url, err := d.Endpoint(ctx, id)
	if err != nil {
		t.Fatalf("Endpoint: %v", err)
	}
	if body := get(t, url+"/healthz"); body != "ok" {
		t.Errorf("GET /healthz = %q", body)
	}
}
