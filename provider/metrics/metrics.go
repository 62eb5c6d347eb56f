// Package metrics holds the sidecar's Prometheus metrics, served at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the sidecar's counters and gauges.
type Metrics struct {
	Registry        *prometheus.Registry
	Bids            prometheus.Counter
	BidsSkipped     prometheus.Counter
	Wins            prometheus.Counter
	Leases          prometheus.Gauge
	GPUUtilisation  *prometheus.GaugeVec
	ReceiptsPosted  prometheus.Counter
	BatchesPosted   prometheus.Counter
	Reports         prometheus.Counter
	ChainErrors     *prometheus.CounterVec
	Height          prometheus.Gauge
	AttestationLeft prometheus.Gauge
	// DowntimeProbes counts the health probes a restarted sidecar charged as failed for the
	// time it was down; LeasesGivenUp the won leases it closed because their workload could
	// not run on this host.
	DowntimeProbes prometheus.Counter
	LeasesGivenUp  prometheus.Counter
	// Stalls counts the times the sidecar found it had stood still without a restart;
	// JournalReplayed the requests and probes a restart took back from lease journals;
	// JournalErrors the journal writes that failed (those measurements are at risk until the
	// next block).
	Stalls          prometheus.Counter
	JournalReplayed prometheus.Counter
	JournalErrors   prometheus.Counter
	// TxInclusion is how long transactions took from the node's mempool to a block, by what
	// they carry; TxInFlight how many are broadcast and not yet in a block.
	TxInclusion *prometheus.HistogramVec
	TxInFlight  prometheus.Gauge
}

// New registers the metrics on a fresh registry (plus Go and process collectors).
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry:        r,
		Bids:            prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_bids_total", Help: "Bids placed."}),
		BidsSkipped:     prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_bids_skipped_total", Help: "Orders seen and not bid on."}),
		Wins:            prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_wins_total", Help: "Leases won."}),
		Leases:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "computed_provider_leases", Help: "Leases running."}),
		GPUUtilisation:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "computed_provider_gpu_utilisation_percent", Help: "GPU utilisation reported by the GPU backend."}, []string{"uuid", "sku"}),
		ReceiptsPosted:  prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_receipts_anchored_total", Help: "Receipts anchored on chain."}),
		BatchesPosted:   prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_receipt_batches_total", Help: "Receipt batches submitted."}),
		Reports:         prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_sla_reports_total", Help: "SLA window reports submitted."}),
		ChainErrors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "computed_provider_chain_errors_total", Help: "Failed chain operations."}, []string{"op"}),
		Height:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "computed_provider_chain_height", Help: "Last block processed."}),
		AttestationLeft: prometheus.NewGauge(prometheus.GaugeOpts{Name: "computed_provider_attestation_seconds_left", Help: "Seconds until the attestation record lapses."}),
		DowntimeProbes:  prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_downtime_probes_total", Help: "Health probes missed while the sidecar was down, counted as failed in their SLA windows."}),
		LeasesGivenUp:   prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_leases_given_up_total", Help: "Won leases closed because their workload cannot run on this host."}),
		Stalls:          prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_stalls_total", Help: "Times the sidecar stood still without a restart (a gap in its probes), charged as downtime."}),
		JournalReplayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_journal_replayed_total", Help: "Requests and probes taken back from lease journals after a restart."}),
		JournalErrors:   prometheus.NewCounter(prometheus.CounterOpts{Name: "computed_provider_journal_errors_total", Help: "Failed journal writes."}),
		TxInclusion: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "computed_provider_tx_inclusion_seconds", Help: "Time from a transaction's broadcast to its block.",
			Buckets: []float64{0.25, 0.5, 1, 2, 4, 8, 16, 32},
		}, []string{"op"}),
		TxInFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "computed_provider_tx_in_flight", Help: "Transactions broadcast and not yet in a block."}),
	}
	r.MustRegister(m.Bids, m.BidsSkipped, m.Wins, m.Leases, m.GPUUtilisation, m.ReceiptsPosted, m.BatchesPosted,
		m.Reports, m.ChainErrors, m.Height, m.AttestationLeft, m.DowntimeProbes, m.LeasesGivenUp,
		m.Stalls, m.JournalReplayed, m.JournalErrors, m.TxInclusion, m.TxInFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
