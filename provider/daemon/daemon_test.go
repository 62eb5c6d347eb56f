package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	osexec "os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/metrics"
	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// The daemon against a real node is tested in app/sidecar_test.go (TestSidecarAgainstNode) and
// by scripts/provider-demo.sh and provider-crash.sh; these are the parts that need no chain.

// windowOf numbers windows from 1: requests served while block h is the latest count in the
// window that holds block h+1, matching the chain's WindowEnd.
func TestWindowOf(t *testing.T) {
	d := &Daemon{}
	run := &leaseRun{rec: state.LeaseRecord{StartHeight: 100, WindowBlocks: 10}}
	win := d.windowOf(run)
	for _, tc := range []struct {
		latest int64
		want   uint64
	}{{90, 1}, {99, 1}, {100, 1}, {109, 1}, {110, 2}, {119, 2}, {120, 3}} {
		d.head.Store(tc.latest)
		d.height.Store(tc.latest)
		if got := win(time.Time{}); got != tc.want {
			t.Errorf("latest height %d: window %d, want %d", tc.latest, got, tc.want)
		}
		// The chain's own rule: window w ends at StartHeight + w*WindowBlocks.
		if next := tc.latest + 1; next > 100 && slatypes.WindowEnd(100, 10, tc.want) < next {
			t.Errorf("latest height %d: block %d is past window %d's end", tc.latest, next, tc.want)
		}
	}
	// While the watcher replays older blocks after a restart, requests served now count in the
	// chain's current window, not in one that a replayed block ends and reports.
	d.head.Store(125)
	d.height.Store(104)
	if got := win(time.Time{}); got != 3 {
		t.Errorf("head 125, replaying 104: window %d, want 3", got)
	}
	noWindows := d.windowOf(&leaseRun{rec: state.LeaseRecord{StartHeight: 100}})
	if got := noWindows(time.Time{}); got != 1 {
		t.Errorf("a lease without windows: window %d, want 1", got)
	}
}

func TestRoutes(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d := &Daemon{store: store, metrics: metrics.New(), leases: map[uint64]*leaseRun{}}
	srv := httptest.NewServer(d.routes())
	defer srv.Close()
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/leases/notanumber/", http.StatusBadRequest},
		{"/leases/7/", http.StatusNotFound}, // not a lease this sidecar runs
		{"/receipts/7/1", http.StatusNotFound},
		{"/metrics", http.StatusOK},
	} {
		res, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.path, res.StatusCode, tc.code)
		}
	}
}

// /status and /metrics answer the operator's networks only (loopback unless listen.admin_from
// says more): they tell GPU UUIDs, bids and each lease's backend address, which the buyers the
// ingress serves are not to read. Receipts and the ingress answer anyone.
func TestAdminRoutesForOperatorOnly(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	get := func(d *Daemon, path, from string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = from
		w := httptest.NewRecorder()
		d.routes().ServeHTTP(w, req)
		return w.Code
	}
	d := &Daemon{store: store, metrics: metrics.New(), leases: map[uint64]*leaseRun{}}
	for _, tc := range []struct {
		path, from string
		code       int
	}{
		{"/metrics", "127.0.0.1:5000", http.StatusOK},
		{"/metrics", "[::1]:5000", http.StatusOK},
		{"/metrics", "203.0.113.9:5000", http.StatusForbidden},
		{"/status", "203.0.113.9:5000", http.StatusForbidden},
		{"/receipts/7/1", "203.0.113.9:5000", http.StatusNotFound}, // answered: no such receipt
		{"/leases/7/", "203.0.113.9:5000", http.StatusNotFound},
	} {
		if got := get(d, tc.path, tc.from); got != tc.code {
			t.Errorf("GET %s from %s: %d, want %d", tc.path, tc.from, got, tc.code)
		}
	}
	d.cfg.Listen.AdminFrom = []string{"203.0.113.0/24"}
	if got := get(d, "/metrics", "203.0.113.9:5000"); got != http.StatusOK {
		t.Errorf("metrics from an admin_from network: %d", got)
	}
	if got := get(d, "/metrics", "198.51.100.1:5000"); got != http.StatusForbidden {
		t.Errorf("metrics from elsewhere: %d", got)
	}
	if got := get(d, "/metrics", "127.0.0.1:5000"); got != http.StatusOK {
		t.Errorf("metrics from loopback with admin_from set: %d", got)
	}
	if got := get(d, "/metrics", "@"); got != http.StatusOK {
		t.Errorf("metrics over a unix socket: %d", got)
	}
}

// The lease's part of the path reaches its backend escaped as the client sent it: /a%2Fb is one
// path segment, not two.
func TestEscapedPathReachesBackend(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.EscapedPath())
	}))
	defer backend.Close()
	store, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d := &Daemon{store: store, metrics: metrics.New(), leases: map[uint64]*leaseRun{}}
	run := lease7()
	if run.proxy, err = ingress.New(d.ingressConfig(run, backend.URL)); err != nil {
		t.Fatal(err)
	}
	defer run.proxy.Release()
	d.leases[7] = run
	srv := httptest.NewServer(d.routes())
	defer srv.Close()
	for path, want := range map[string]string{"/leases/7/models/a%2Fb": "/models/a%2Fb", "/leases/7/plain/x": "/plain/x", "/leases/7/": "/"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != want {
			t.Errorf("GET %s reached the backend as %q, want %q", path, body, want)
		}
	}
}

// TestRoutesWhileResuming: after a restart, a lease the store holds as running but whose workload
// is not routed yet is asked for again (503, Retry-After), not reported missing (404); a lease
// the sidecar does not run is 404 throughout, and so is a running one it failed to resume.
func TestRoutesWhileResuming(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.PutLease(state.LeaseRecord{LeaseID: 3, State: state.LeaseRunning}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutLease(state.LeaseRecord{LeaseID: 4, State: state.LeaseClosed}); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{store: store, metrics: metrics.New(), leases: map[uint64]*leaseRun{}}
	srv := httptest.NewServer(d.routes())
	defer srv.Close()
	get := func(path string) *http.Response {
		res, err := http.Post(srv.URL+path, "text/plain", strings.NewReader("ping"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := get("/leases/3/x"); res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" {
		t.Errorf("running lease while resuming: %d, Retry-After %q; want 503, 1", res.StatusCode, res.Header.Get("Retry-After"))
	}
	for _, path := range []string{"/leases/4/", "/leases/9/"} {
		if res := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s while resuming: %d, want 404", path, res.StatusCode)
		}
	}
	d.resumed.Store(true)
	if res := get("/leases/3/x"); res.StatusCode != http.StatusNotFound {
		t.Errorf("running lease not routed after resuming: %d, want 404", res.StatusCode)
	}
}

// TestRoutesAwaitResume: a request for a lease still resuming after a restart waits for it to
// be routed and is answered (before, it was refused with 503 while the workload started); once
// the resume ends without the lease, it is 404 at once; a lease that stays unrouted past
// resumeWait is 503.
func TestRoutesAwaitResume(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") }))
	defer backend.Close()
	store, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, id := range []uint64{3, 5, 6} {
		if err := store.PutLease(state.LeaseRecord{LeaseID: id, State: state.LeaseRunning}); err != nil {
			t.Fatal(err)
		}
	}
	d := &Daemon{store: store, metrics: metrics.New(), leases: map[uint64]*leaseRun{}, resumeWait: 10 * time.Second}
	srv := httptest.NewServer(d.routes())
	defer srv.Close()
	type answer struct {
		code int
		body string
		took time.Duration
	}
	post := func(path string) <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			start := time.Now()
			res, err := http.Post(srv.URL+path, "text/plain", strings.NewReader("ping"))
			if err != nil {
				ch <- answer{code: -1, body: err.Error()}
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			ch <- answer{res.StatusCode, string(b), time.Since(start)}
		}()
		return ch
	}
	waiting := post("/leases/3/x")
	time.Sleep(100 * time.Millisecond) // the request waits
	run := &leaseRun{rec: state.LeaseRecord{LeaseID: 3}}
	run.proxy, err = ingress.New(ingress.Config{LeaseID: 3, Backend: backend.URL, WindowOf: d.windowOf(run)})
	if err != nil {
		t.Fatal(err)
	}
	defer run.proxy.Release()
	d.mu.Lock()
	d.leases[3] = run
	d.routedChanged()
	d.mu.Unlock()
	if a := <-waiting; a.code != http.StatusOK || a.body != "pong" || a.took > 5*time.Second {
		t.Fatalf("request made while lease 3 resumed: %d %q after %v, want 200 pong once it is routed", a.code, a.body, a.took)
	}

	waiting = post("/leases/5/x")
	time.Sleep(100 * time.Millisecond)
	d.resumed.Store(true) // lease 5 failed to resume
	d.mu.Lock()
	d.routedChanged()
	d.mu.Unlock()
	if a := <-waiting; a.code != http.StatusNotFound || a.took > 5*time.Second {
		t.Fatalf("request for a lease the resume left out: %d after %v, want 404 at the resume's end", a.code, a.took)
	}

	d.resumed.Store(false)
	d.resumeWait = 50 * time.Millisecond
	if a := <-post("/leases/6/x"); a.code != http.StatusServiceUnavailable {
		t.Fatalf("lease still resuming after resumeWait: %d, want 503", a.code)
	}
}

func TestContainsErr(t *testing.T) {
	chainErr := fmt.Errorf("tx failed: failed to execute message; message index: 0: lease 4: %s", slatypes.ErrAlreadyCommitted.Error())
	if !containsErr(chainErr, slatypes.ErrAlreadyCommitted) {
		t.Error("a DeliverTx log naming the error must match")
	}
	if containsErr(errors.New("out of gas"), slatypes.ErrAlreadyCommitted) || containsErr(nil, slatypes.ErrAlreadyCommitted) {
		t.Error("matched an unrelated error")
	}
	if !strings.Contains(chainErr.Error(), "replica already committed") {
		t.Fatal("the registered message changed; update the sidecar's matching")
	}
}

func TestWindowsToKeep(t *testing.T) {
	var samples []windowSample
	var in []byte
	for i, w := range []uint64{3, 3, 4, 4, 4, 5} {
		s := ingress.Sample{UnixMillis: int64(i), Micros: 1, Status: 200}
		samples = append(samples, windowSample{w, s})
		in = append(in, ingress.EncodeSample(s)...)
	}
	var probes []state.WindowData
	for _, p := range []struct {
		w  uint64
		ok bool
	}{{3, true}, {4, true}, {4, false}, {4, true}, {6, false}} {
		probes = addProbe(probes, p.w, p.ok)
	}
	if want := []state.WindowData{{Window: 3, Probes: 1, ProbesOK: 1}, {Window: 4, Probes: 3, ProbesOK: 2}, {Window: 6, Probes: 1}}; !reflect.DeepEqual(probes, want) {
		t.Fatalf("addProbe counted %v, want %v", probes, want)
	}
	enc := func(from, to int) []byte { return in[from*ingress.SampleSize : to*ingress.SampleSize] }
	got := windowsToKeep(samples, in, probes, 3) // window 3 is already reported
	want := []state.WindowData{
		{Window: 4, Encoded: enc(2, 5), Probes: 3, ProbesOK: 2},
		{Window: 5, Encoded: enc(5, 6)},
		{Window: 6, Probes: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("windowsToKeep = %v, want %v", got, want)
	}
	if got := windowsToKeep(nil, nil, nil, 0); len(got) != 0 {
		t.Fatalf("nothing recorded: %v", got)
	}
}

// TestServeDrains: a stopping sidecar takes no new connection but answers the request in
// flight, and gives up on one that outlasts the drain.
func TestServeDrains(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte("answered"))
	})
	for _, tc := range []struct {
		name   string
		drain  time.Duration
		answer bool
	}{{"drained", 5 * time.Second, true}, {"drain runs out", 100 * time.Millisecond, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := serve(ctx, []net.Listener{ln}, h, tc.drain)
			type result struct {
				body string
				err  error
			}
			res := make(chan result, 1)
			go func() {
				r, err := http.Get("http://" + ln.Addr().String() + "/")
				if err != nil {
					res <- result{err: err}
					return
				}
				defer r.Body.Close()
				b, err := io.ReadAll(r.Body)
				res <- result{string(b), err}
			}()
			<-entered
			cancel()
			// The listener closes at once: a restarted sidecar can bind it while this drains.
			deadline := time.Now().Add(2 * time.Second)
			for {
				c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("still taking connections after the stop")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if tc.answer {
				select {
				case <-done:
					t.Fatal("done before the request in flight was answered")
				default:
				}
				release <- struct{}{}
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("serve did not finish")
			}
			r := <-res
			if tc.answer && (r.err != nil || r.body != "answered") {
				t.Fatalf("request in flight: %q, %v; want it answered", r.body, r.err)
			}
			if !tc.answer && r.err == nil && r.body == "answered" {
				t.Fatal("a request outlasting the drain was answered")
			}
		})
	}
}

// TestListenPassedSocket: started with sockets passed the systemd way (fds 3 and 4, LISTEN_FDS,
// LISTEN_PID), the sidecar serves on both instead of binding its configured address, and does
// not hand the variables on to what it starts.
func TestListenPassedSocket(t *testing.T) {
	if _, err := osexec.LookPath("sh"); err != nil {
		t.Skip("no sh to set LISTEN_PID to the child's pid")
	}
	var addrs []string
	var files []*os.File
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		addrs, files = append(addrs, ln.Addr().String()), append(files, f)
		defer ln.Close()
		defer f.Close()
	}
	// sh's $$ is the pid the test binary keeps through exec.
	cmd := osexec.Command("sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, os.Args[0], "-test.run=^TestListenChild$")
	cmd.Env = append(os.Environ(), "LISTEN_FDS=2", "DAEMON_TEST_LISTEN_CHILD=1")
	cmd.ExtraFiles = files
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	c := &http.Client{Timeout: 10 * time.Second}
	for _, addr := range addrs {
		res, err := c.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("request on the passed socket %s: %v (child: %s)", addr, err, out.String())
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if want := "passed=true sockets=2 env="; string(body) != want {
			t.Fatalf("child answered %q on %s, want %q (child: %s)", body, addr, want, out.String())
		}
	}
}

// TestListenChild is TestListenPassedSocket's child; it does nothing when run on its own.
func TestListenChild(t *testing.T) {
	if os.Getenv("DAEMON_TEST_LISTEN_CHILD") != "1" {
		return
	}
	// An address it cannot bind: only the passed sockets can serve.
	lns, passed, err := listen("192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	env := os.Getenv("LISTEN_FDS") + os.Getenv("LISTEN_PID")
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "passed=%v sockets=%d env=%s", passed, len(lns), env)
	})
	<-serve(context.Background(), lns, h, 0)
}
