// Package ingress is the reverse proxy a provider runs in front of each lease's workload
// endpoint. It measures what the buyer experiences — per-request latency and status, and the
// endpoint's availability from a background health prober — and folds the measurements into
// SLA windows: an HDR histogram for P95/P99, counters, and the raw samples whose RFC 6962 root
// the provider reports on chain so a buyer holding the samples can check the figures.
//
// The proxy sits on the request path of every call, so recording is kept to a clock read, a
// mutex-protected histogram update and an append; nothing is logged per request.
package ingress
