package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/gpu"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// listen is the sidecar's listeners: the sockets a supervisor passed (systemd socket
// activation: LISTEN_FDS, LISTEN_PID; a unit may name several addresses), else addr. A
// supervisor that holds them across restarts keeps them taking connections while the sidecar
// is down, so a client's request waits in the kernel's queue for the restart instead of being
// refused. passed says which it was.
func listen(addr string) (lns []net.Listener, passed bool, err error) {
	got, err := activation.Listeners()
	if err != nil {
		return nil, false, fmt.Errorf("sockets passed by the supervisor: %w", err)
	}
	for i, ln := range got {
		if ln == nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, false, fmt.Errorf("socket %d passed by the supervisor is not a listening stream socket", i+3)
		}
		lns = append(lns, ln)
	}
	if len(lns) > 0 {
		return lns, true, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("listen %s: %w", addr, err)
	}
	return []net.Listener{ln}, false, nil
}

// shutdownDrain bounds how long a stopping sidecar waits for the requests in flight.
const shutdownDrain = 10 * time.Second

// serve answers on lns with h until ctx ends. Then it stops taking connections and lets the
// requests in flight finish, for up to drain, before it closes the rest: a sidecar stopped to
// be restarted (SIGTERM) should not cut off a buyer's request, which its journal then still
// counts. The channel closes when it is done.
func serve(ctx context.Context, lns []net.Listener, h http.Handler, drain time.Duration) <-chan struct{} {
	// Idle keep-alive connections are closed after a while: a client holding thousands open
	// would otherwise keep them, and their goroutines, for ever.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	done := make(chan struct{})
	for _, ln := range lns {
		go func() { _ = srv.Serve(ln) }()
	}
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()
	return done
}

// resumeWait: a restarted sidecar routes a lease again once its workload runs, in tens of
// milliseconds with the compiled module cached and about a second without; a request meanwhile
// waits this long before it is asked to retry.
const resumeWait = 2 * time.Second

// resuming says whether lease id is one a restarted sidecar has yet to route again: the store
// holds it as running and the restart's resume has not ended.
func (d *Daemon) resuming(id uint64) bool {
	if d.resumed.Load() {
		return false
	}
	rec, err := d.store.GetLease(id)
	return err == nil && rec.State == state.LeaseRunning
}

// awaitRouted waits up to d.resumeWait for lease id to be routed again after a restart; nil if
// it was not by then, or the restart's resume ended without it.
func (d *Daemon) awaitRouted(ctx context.Context, id uint64) *leaseRun {
	if d.resumeWait <= 0 {
		return nil
	}
	timer := time.NewTimer(d.resumeWait)
	defer timer.Stop()
	for {
		changed := d.routedChange() // taken before the check, so no change is missed
		if run := d.leaseRun(id); run != nil && run.proxy != nil {
			return run
		}
		if d.resumed.Load() {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// routedChange is closed the next time a lease is routed or the restart's resume ends.
func (d *Daemon) routedChange() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.routed == nil {
		d.routed = make(chan struct{})
	}
	return d.routed
}

// setResumed ends the restart's resume: leases not routed by now are not this sidecar's.
func (d *Daemon) setResumed() {
	d.resumed.Store(true)
	d.mu.Lock()
	d.routedChanged()
	d.mu.Unlock()
}

// routedChanged wakes awaitRouted's waiters (call with d.mu held).
func (d *Daemon) routedChanged() {
	if d.routed != nil {
		close(d.routed)
		d.routed = nil
	}
}

// routes is the sidecar's one listener: the leases' ingress under /leases/<id>/, receipt proofs
// under /receipts/<lease>/<seq>, and, for the operator's networks only (adminOnly), /status and
// /metrics.
func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", d.adminOnly(promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{})))
	mux.Handle("/receipts/", receipts.Handler(d.store))
	mux.Handle("/status", d.adminOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second) // its chain queries
		defer cancel()
		st := d.Status(ctx)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})))
	mux.HandleFunc("/leases/", func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/leases/")
		idStr, path, _ := strings.Cut(rest, "/")
		id, err := strconv.ParseUint(idStr, 10, 64)
		if err != nil {
			http.Error(w, "bad lease id", http.StatusBadRequest)
			return
		}
		run := d.leaseRun(id)
		if (run == nil || run.proxy == nil) && d.resuming(id) {
			// Its workload is starting again after a restart: usually a matter of
			// milliseconds, so the request waits for it a little; then the client should
			// retry, not conclude the lease is gone.
			if run = d.awaitRouted(r.Context(), id); run == nil && !d.resumed.Load() {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "lease resuming after a sidecar restart", http.StatusServiceUnavailable)
				return
			}
		}
		if run == nil || run.proxy == nil {
			http.Error(w, "no such lease here", http.StatusNotFound)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + path
		// The escaped form goes on as the client sent it: /leases/1/a%2Fb reaches the backend
		// as /a%2Fb, not /a/b (RawPath is used only where it encodes Path).
		_, rawRest, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/leases/"), "/")
		r2.URL.RawPath = "/" + rawRest
		run.proxy.ServeHTTP(w, r2)
	})
	return mux
}

// adminOnly answers h to clients on this host (loopback, a unix socket) or on the operator's
// networks (listen.admin_from), and 403 to others.
func (d *Daemon) adminOnly(h http.Handler) http.Handler {
	allowed, _ := d.cfg.Listen.AdminPrefixes() // validated when the config was loaded
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		// Not host:port: a unix socket the supervisor passed, whose clients are on this host.
		ok := err != nil
		if ip, perr := netip.ParseAddr(host); err == nil && perr == nil {
			ip = ip.Unmap()
			ok = ip.IsLoopback()
			for _, p := range allowed {
				ok = ok || p.Contains(ip)
			}
		}
		if !ok {
			http.Error(w, "forbidden: status and metrics are for the operator's networks (listen.admin_from)", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Status is what `computed provider status` prints.
type Status struct {
	Provider string `json:"provider"`
	Height   int64  `json:"height"`
	// Chain is "ok", or why the node could not be asked (the chain's figures are then unknown).
	Chain       string        `json:"chain"`
	GPUs        []GPUStatus   `json:"gpus"`
	Attestation string        `json:"attestation"`
	Bond        string        `json:"bond"`
	Locked      string        `json:"locked"`
	Reputation  uint32        `json:"reputation_bps"`
	OpenBids    []uint64      `json:"open_bids"`
	Leases      []LeaseStatus `json:"leases"`
}

// GPUStatus is one GPU.
type GPUStatus struct {
	UUID        string `json:"uuid"`
	SKU         string `json:"sku"`
	Utilisation uint32 `json:"utilisation_pct"`
	Reserved    bool   `json:"reserved"`
}

// LeaseStatus is one running lease.
type LeaseStatus struct {
	ID            uint64 `json:"id"`
	Order         uint64 `json:"order"`
	Executor      string `json:"executor"`
	Endpoint      string `json:"endpoint"`
	Ingress       string `json:"ingress"`
	RunwayBlocks  int64  `json:"runway_blocks"`
	WindowsMet    uint64 `json:"windows_met"`
	WindowsJudged uint64 `json:"windows_judged"`
	Breaches      uint32 `json:"breaches"`
	Anchored      uint64 `json:"receipts_anchored"`
}

// Status gathers the sidecar's and the chain's view of the provider.
func (d *Daemon) Status(ctx context.Context) Status {
	st := Status{Provider: d.provider, Height: d.height.Load()}
	if devs, err := gpu.Readable(d.gpus.Devices(ctx)); err == nil {
		held := map[string]bool{}
		d.mu.Lock()
		for _, r := range d.leases {
			for _, g := range r.rec.GPUs {
				held[g] = true
			}
		}
		d.mu.Unlock()
		for _, g := range devs {
			st.GPUs = append(st.GPUs, GPUStatus{UUID: g.UUID, SKU: g.SKU, Utilisation: g.UtilizationPct, Reserved: held[g.UUID]})
			d.metrics.GPUUtilisation.WithLabelValues(g.UUID, g.SKU).Set(float64(g.UtilizationPct))
		}
	}
	d.mu.Lock()
	for id := range d.bids {
		st.OpenBids = append(st.OpenBids, id)
	}
	runs := make([]*leaseRun, 0, len(d.leases))
	for _, r := range d.leases {
		runs = append(runs, r)
	}
	d.mu.Unlock()
	// Maps give no order; the status reads the same way every time.
	sort.Slice(st.OpenBids, func(i, j int) bool { return st.OpenBids[i] < st.OpenBids[j] })
	sort.Slice(runs, func(i, j int) bool { return runs[i].rec.LeaseID < runs[j].rec.LeaseID })
	leaseRow := func(r *leaseRun) LeaseStatus {
		return LeaseStatus{ID: r.rec.LeaseID, Order: r.rec.OrderID, Executor: r.rec.Executor, Endpoint: r.rec.Endpoint,
			Ingress: "/leases/" + strconv.FormatUint(r.rec.LeaseID, 10) + "/"}
	}

	sq := slatypes.NewQueryClient(d.chain.Context())
	b, err := sq.Bond(ctx, &slatypes.QueryBondRequest{Provider: d.provider})
	if err != nil && chain.Transient(err) {
		// Without a node, say so rather than print empty figures as if they were the chain's.
		st.Chain = "unreachable: " + err.Error()
		st.Attestation, st.Bond, st.Locked = "unknown", "unknown", "unknown"
		for _, r := range runs {
			st.Leases = append(st.Leases, leaseRow(r))
		}
		return st
	}
	st.Chain = "ok"
	if err == nil {
		st.Bond, st.Locked = b.Bond.Bonded.String(), b.Bond.Locked.String()
	}
	if r, err := sq.Reputation(ctx, &slatypes.QueryReputationRequest{Provider: d.provider}); err == nil {
		st.Reputation = r.ScoreBps
	}
	st.Attestation = "no valid record"
	if res, err := attesttypes.NewQueryClient(d.chain.Context()).Attestation(ctx, &attesttypes.QueryAttestationRequest{Provider: d.provider}); err == nil {
		for _, r := range res.Records {
			until := time.Unix(r.ValidUntil, 0).UTC()
			st.Attestation = fmt.Sprintf("%s, %d GPUs, valid until %s (%s left)", r.EvidenceType, len(r.Gpus),
				until.Format(time.RFC3339), time.Until(until).Round(time.Second))
		}
	}
	eq := escrowtypes.NewQueryClient(d.chain.Context())
	for _, r := range runs {
		ls := leaseRow(r)
		if a, err := eq.Account(ctx, &escrowtypes.QueryAccountRequest{Id: r.rec.OrderID}); err == nil && a.Account.DepletionHeight > 0 {
			ls.RunwayBlocks = a.Account.DepletionHeight - st.Height
		}
		if l, err := sq.LeaseSLA(ctx, &slatypes.QueryLeaseSLARequest{LeaseId: r.rec.LeaseID}); err == nil {
			ls.WindowsMet, ls.WindowsJudged, ls.Breaches, ls.Anchored = l.Lease.WindowsMet, l.Lease.WindowsJudged, l.Lease.Breaches, l.Lease.LastSequence
		}
		st.Leases = append(st.Leases, ls)
	}
	return st
}
