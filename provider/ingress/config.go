package ingress

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultHealthPath    = "/healthz"
	DefaultProbeInterval = time.Second
	DefaultWindowLength  = time.Minute
)

// Config configures the proxy of one lease.
type Config struct {
	// LeaseID labels the metrics; the proxy itself does not interpret it.
	LeaseID uint64
	// Backend is the workload's base URL ("http://127.0.0.1:8080"); request paths are joined
	// onto its path.
	Backend string
	// HealthPath is probed on Backend (default DefaultHealthPath). Any 2xx answer is healthy.
	HealthPath string
	// ProbeInterval is the time between probes (default DefaultProbeInterval).
	ProbeInterval time.Duration
	// ProbeTimeout bounds one probe (default ProbeInterval). A probe that times out failed.
	ProbeTimeout time.Duration

	// WindowOf maps the time a request was received (or a probe started) to its SLA window.
	// The sidecar derives it from block heights. When nil, the proxy uses fixed windows of
	// WindowLength counted from Start: [Start, Start+WindowLength) is window 1, matching the
	// chain's numbering, and anything before Start falls in window 0.
	WindowOf func(t time.Time) uint64
	// WindowLength and Start define the default WindowOf (WindowLength defaults to
	// DefaultWindowLength, Start to the Unix epoch). Ignored when WindowOf is set.
	WindowLength time.Duration
	Start        time.Time

	// OnRequest, when set, is called synchronously once per proxied request after it is
	// recorded in window (for per-request receipts). It runs on the request path: keep it cheap.
	OnRequest func(window uint64, s Sample)
	// OnProbe, when set, is called once per health probe recorded in window, with its outcome.
	OnProbe func(window uint64, ok bool)
	// Registerer, when set, receives the proxy's metrics. Several proxies may share one
	// registerer; their series differ by the lease label.
	Registerer prometheus.Registerer
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, *url.URL, error) {
	if c.Backend == "" {
		return c, nil, errors.New("ingress: Backend is required")
	}
	u, err := url.Parse(c.Backend)
	if err != nil {
		return c, nil, fmt.Errorf("ingress: Backend %q: %w", c.Backend, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return c, nil, fmt.Errorf("ingress: Backend %q: scheme must be http or https", c.Backend)
	}
	if u.Host == "" {
		return c, nil, fmt.Errorf("ingress: Backend %q has no host", c.Backend)
	}
	if c.HealthPath == "" {
		c.HealthPath = DefaultHealthPath
	}
	if !strings.HasPrefix(c.HealthPath, "/") {
		return c, nil, fmt.Errorf("ingress: HealthPath %q must start with /", c.HealthPath)
	}
	if c.ProbeInterval < 0 || c.ProbeTimeout < 0 || c.WindowLength < 0 {
		return c, nil, errors.New("ingress: ProbeInterval, ProbeTimeout and WindowLength must not be negative")
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = c.ProbeInterval
	}
	if c.WindowOf == nil {
		if c.WindowLength == 0 {
			c.WindowLength = DefaultWindowLength
		}
		if c.Start.IsZero() {
			c.Start = time.Unix(0, 0)
		}
		c.WindowOf = FixedWindows(c.Start, c.WindowLength)
	}
	return c, u, nil
}

// FixedWindows returns the default WindowOf: window 1 is [start, start+length), window 2 the
// next, and so on; times before start map to window 0. length must be positive.
func FixedWindows(start time.Time, length time.Duration) func(time.Time) uint64 {
	return func(t time.Time) uint64 {
		d := t.Sub(start)
		if d < 0 {
			return 0
		}
		return uint64(d/length) + 1
	}
}
