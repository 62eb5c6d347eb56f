package ingress

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	metricNamespace = "computed"
	metricSubsystem = "ingress"
)

// codeClasses are the values of the requests counter's code label, indexed by classIndex.
var codeClasses = [...]string{"aborted", "1xx", "2xx", "3xx", "4xx", "5xx", "other"}

func classIndex(status int) int {
	switch {
	case status == 0:
		return 0
	case status >= 100 && status < 600:
		return status / 100
	default:
		return len(codeClasses) - 1
	}
}

// metrics holds one lease's series, bound once so the request path does no label lookups.
type metrics struct {
	lease    string
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	up       *prometheus.GaugeVec
	dropped  *prometheus.CounterVec

	byClass    [len(codeClasses)]prometheus.Counter
	observer   prometheus.Observer
	upGauge    prometheus.Gauge
	droppedCtr prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, leaseID uint64) (*metrics, error) {
	m := &metrics{lease: strconv.FormatUint(leaseID, 10)}
	var err error
	if m.requests, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricNamespace, Subsystem: metricSubsystem, Name: "requests_total",
		Help: "Proxied requests by lease and status class (aborted: response cut off mid-body).",
	}, []string{"lease", "code"})); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metricNamespace, Subsystem: metricSubsystem, Name: "request_duration_seconds",
		Help:    "Time from receipt of a request to the last byte of its response.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"lease"})); err != nil {
		return nil, err
	}
	if m.up, err = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metricNamespace, Subsystem: metricSubsystem, Name: "probe_up",
		Help: "1 if the last health probe of the lease's backend succeeded, else 0.",
	}, []string{"lease"})); err != nil {
		return nil, err
	}
	if m.dropped, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricNamespace, Subsystem: metricSubsystem, Name: "dropped_total",
		Help: "Requests and probes that arrived for an SLA window already closed.",
	}, []string{"lease"})); err != nil {
		return nil, err
	}
	for i, class := range codeClasses {
		m.byClass[i] = m.requests.WithLabelValues(m.lease, class)
	}
	m.observer = m.latency.WithLabelValues(m.lease)
	m.upGauge = m.up.WithLabelValues(m.lease)
	m.droppedCtr = m.dropped.WithLabelValues(m.lease)
	return m, nil
}

func (m *metrics) request(status int, elapsed time.Duration) {
	m.byClass[classIndex(status)].Inc()
	m.observer.Observe(elapsed.Seconds())
}

// forget removes the lease's series, so a finished lease does not linger in the registry.
func (m *metrics) forget() {
	for _, class := range codeClasses {
		m.requests.DeleteLabelValues(m.lease, class)
	}
	m.latency.DeleteLabelValues(m.lease)
	m.up.DeleteLabelValues(m.lease)
	m.dropped.DeleteLabelValues(m.lease)
}

// register registers c, or returns the collector already registered under the same
// description: every lease's proxy shares the sidecar's vectors.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}
