package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

const (
	roleBackend = "backend"
	roleProxy   = "proxy"
	// controlPrefix routes the driver's control calls; everything else is load.
	controlPrefix = "/__load/"
	listenPrefix  = "LISTEN "
)

// child is a backend or proxy process started by the driver.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

// startChild re-executes this binary in a role and waits for the URL it listens on.
func startChild(o options, role string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, childArgs(o, role)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", role, err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, listenPrefix) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s did not report its address (%q, %v)", role, line, err)
	}
	return &child{cmd: cmd, stdin: stdin, url: strings.TrimSpace(strings.TrimPrefix(line, listenPrefix))}, nil
}

// stop asks the child to exit (closing its stdin) and waits, so it can write its profile.
func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() {
		c.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// control calls a control endpoint of the child and decodes its JSON answer into out.
func (c *child) control(path string, out any) error {
	resp, err := http.Get(c.url + controlPrefix + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// cpu is the CPU time the child has used so far.
func (c *child) cpu() time.Duration { return processCPU(c.cmd.Process.Pid) }

// serveChild listens on loopback, reports the address to the driver and serves h until the
// driver closes stdin.
func serveChild(h http.Handler, onExit func()) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("%shttp://%s\n", listenPrefix, ln.Addr())
	io.Copy(io.Discard, os.Stdin) // returns when the driver closes the pipe or exits
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	if onExit != nil {
		onExit()
	}
	return nil
}

// processCPU reads a process's user+system CPU time from /proc (Linux; 0 elsewhere). The
// kernel reports it in USER_HZ ticks, which Linux fixes at 100 per second.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0
	}
	return time.Duration(utime+stime) * (time.Second / 100)
}
