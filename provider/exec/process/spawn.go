package process

import (
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// inheritedEnv is all a workload gets of the sidecar's environment: enough to find programs and
// a temp dir, and none of the sidecar's secrets.
var inheritedEnv = []string{"PATH", "HOME", "LANG", "TMPDIR"}

// taskEnv is the inherited basics, then the task's variables (sorted), then PORT, which the
// driver owns because Endpoint must point where the workload listens.
func taskEnv(env map[string]string, port int) ([]string, error) {
	var out []string
	for _, k := range inheritedEnv {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	keys := make([]string, 0, len(env))
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("process: invalid environment variable %q", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "PORT" {
			out = append(out, k+"="+env[k])
		}
	}
	return append(out, "PORT="+strconv.Itoa(port)), nil
}

// freePort asks the kernel for an unused loopback port. Another process could take it before the
// workload binds it; this driver is for development, where that race is acceptable.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("process: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// listening reports whether something accepts connections on the port within timeout.
func listening(ctx context.Context, port int, timeout time.Duration) bool {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
