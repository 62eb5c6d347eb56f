package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/testutil/network"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/docker/docker/errdefs"

	"github.com/computed-network/computed/provider/attest"
	"github.com/computed-network/computed/provider/chain"
	providercli "github.com/computed-network/computed/provider/cli"
	"github.com/computed-network/computed/provider/config"
	"github.com/computed-network/computed/provider/daemon"
	"github.com/computed-network/computed/provider/exec/docker/dockertest"
	"github.com/computed-network/computed/provider/receipts"
	computednet "github.com/computed-network/computed/testutil/network"
	attesttest "github.com/computed-network/computed/x/attest/testutil"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// devCollector signs evidence in process with the development NRAS issuer the default genesis
// trusts (the CLI's dev mode runs build/devattest for the same tokens).
type devCollector struct{}

func (devCollector) Collect(_ context.Context, nonce []byte) (attest.Evidence, error) {
	tok, err := attesttest.DevIssuer().ValidEAT(nonce, time.Now(), 8)
	return attest.Evidence{Token: tok, GPUs: attesttest.Claims(8)}, err
}

// lockedBuffer collects the daemon's log for a failure report (t.Log after the test ends panics).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// flakyNode drops the first query for each market order and lease the sidecar asks about, as a
// node behind a dropped connection would: the sidecar must ask again, not lose the order or the
// lease it won.
type flakyNode struct {
	*rpchttp.HTTP
	mu      sync.Mutex
	asked   map[string]bool
	dropped []string
}

func (f *flakyNode) ABCIQueryWithOptions(ctx context.Context, path string, data cmtbytes.HexBytes, opts rpcclient.ABCIQueryOptions) (*ctypes.ResultABCIQuery, error) {
	if path == "/computed.market.v1.Query/Order" || path == "/computed.market.v1.Query/Lease" {
		f.mu.Lock()
		first := !f.asked[path+data.String()]
		f.asked[path+data.String()] = true
		if first {
			f.dropped = append(f.dropped, path)
		}
		f.mu.Unlock()
		if first {
			return nil, errors.New(`post failed: Post "http://node": connection reset by peer (injected)`)
		}
	}
	return f.HTTP.ABCIQueryWithOptions(ctx, path, data, opts)
}

func (f *flakyNode) droppedOf(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, p := range f.dropped {
		if p == path {
			n++
		}
	}
	return n
}

// pruningNode is the watcher's view of the node, which can stand still (hold: block results
// wait until release) and prune (heights below earliest are gone, answered as a pruning node
// answers them).
type pruningNode struct {
	*rpchttp.HTTP
	mu       sync.Mutex
	earliest int64
	held     chan struct{}
}

func (p *pruningNode) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = make(chan struct{})
}

// release prunes every height below earliest and lets the watcher go on.
func (p *pruningNode) release(earliest int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.earliest = earliest
	close(p.held)
	p.held = nil
}

func (p *pruningNode) gone(h *int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h != nil && *h < p.earliest {
		return &rpctypes.RPCError{Code: -32603, Message: "Internal error", Data: fmt.Sprintf("height %d is not available, lowest height is %d", *h, p.earliest)}
	}
	return nil
}

func (p *pruningNode) BlockResults(ctx context.Context, h *int64) (*ctypes.ResultBlockResults, error) {
	p.mu.Lock()
	held := p.held
	p.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := p.gone(h); err != nil {
		return nil, err
	}
	return p.HTTP.BlockResults(ctx, h)
}

func (p *pruningNode) Header(ctx context.Context, h *int64) (*ctypes.ResultHeader, error) {
	if err := p.gone(h); err != nil {
		return nil, err
	}
	return p.HTTP.Header(ctx, h)
}

func (p *pruningNode) Status(ctx context.Context) (*ctypes.ResultStatus, error) {
	st, err := p.HTTP.Status(ctx)
	if err == nil {
		p.mu.Lock()
		st.SyncInfo.EarliestBlockHeight = max(st.SyncInfo.EarliestBlockHeight, p.earliest)
		p.mu.Unlock()
	}
	return st, err
}

// TestSidecarAgainstNode runs the provider daemon in process against a real in-process node:
// it registers, attests and bonds its operator; skips orders it cannot serve (another metro or
// SKU, more GPUs than it has, a ceiling under its price, more bond or reputation than it has, a
// module or image not on its host), each for its reason; bids on one it can within two blocks;
// runs the won WASM lease behind its ingress; anchors receipts whose proof the chain accepts;
// reports an SLA window the chain judges met; stops the lease when the buyer closes the order;
// keeps an open bid's GPUs reserved across a restart, and reserves them for a lease won while
// it was down (no bid on a rival order for them either way);
// closes at once a lease it won but whose module went missing; goes on, without a restart,
// after the node pruned blocks it had not read, releasing the GPUs of a bid closed in them and
// bidding on an order placed in them (pruningNode); and, where a Docker engine
// answers, runs an OCI lease in a container, re-attaches to that container after a restart of
// the sidecar, and removes it at close. Its node connection drops the first query for each
// order and lease (flakyNode).
func TestSidecarAgainstNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real CometBFT node")
	}
	wasmDir := t.TempDir()
	wasmHash := buildEcho(t, wasmDir)

	cfg, err := computednet.DefaultConfig()
	require.NoError(t, err)
	cfg.NumValidators = 1
	cfg.TimeoutCommit = 500 * time.Millisecond
	var slaGen slatypes.GenesisState
	require.NoError(t, cfg.Codec.UnmarshalJSON(cfg.GenesisState[slatypes.ModuleName], &slaGen))
	slaGen.Params.ReportGraceBlocks = 2
	cfg.GenesisState[slatypes.ModuleName] = cfg.Codec.MustMarshalJSON(&slaGen)
	users := fundedUsers(t, &cfg, "buyer", "operator")
	buyer, operator := users["buyer"], users["operator"]

	net, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	_, err = net.WaitForHeight(2)
	require.NoError(t, err)
	val := net.Validators[0]

	// The sidecar, assembled as `computed provider start` assembles it, over its own RPC connection.
	rpc, err := rpchttp.New(val.RPCAddress, "/websocket")
	require.NoError(t, err)
	flaky := &flakyNode{HTTP: rpc, asked: map[string]bool{}}
	pruner := &pruningNode{HTTP: rpc}
	clientCtx := val.ClientCtx.WithClient(flaky).WithNodeURI(val.RPCAddress).WithChainID(cfg.ChainID).WithKeyring(operator.kr)
	home := t.TempDir()
	c := config.Default(home)
	c.Chain.RPC, c.Chain.ChainID, c.Chain.KeyName = val.RPCAddress, cfg.ChainID, operator.name
	c.Provider.Metro, c.Provider.Bond = "AMS", "5000000uusdc"
	c.Provider.WithdrawEveryBlocks = 5
	c.Executors.WASMDir = wasmDir
	// With a Docker engine, the sidecar also runs an OCI lease (built FROM scratch: no registry).
	docker, dockerErr := dockertest.Engine()
	if dockerErr == nil {
		t.Cleanup(func() { docker.Close() })
		c.Executors.Docker = true
	}
	c.Listen.HTTP = "127.0.0.1:0"
	c.Receipts.MaxAge = config.Duration{Duration: time.Second}
	logs := &lockedBuffer{}
	// startSidecar assembles and runs the daemon on the home's store; stopSidecar stops it as
	// SIGTERM would. Between the two, a restart resumes what the store says runs.
	var (
		d           *daemon.Daemon
		stopped     chan error
		stopSidecar func()
	)
	startSidecar := func() {
		var closeAll func()
		var err error
		d, closeAll, err = providercli.Assemble(c, clientCtx, pruner, devCollector{}, slog.New(slog.NewTextHandler(logs, nil)))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func(d *daemon.Daemon) { done <- d.Run(ctx) }(d)
		stopped = done
		stopSidecar = func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error("sidecar did not stop")
			}
			closeAll()
		}
	}
	startSidecar()
	t.Cleanup(func() {
		stopSidecar()
		if t.Failed() {
			t.Logf("sidecar log:\n%s", logs.String())
		}
	})

	market := markettypes.NewQueryClient(val.ClientCtx)
	sla := slatypes.NewQueryClient(val.ClientCtx)
	bg := context.Background()
	eventually := func(what string, timeout time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !cond() {
			select {
			case err := <-stopped:
				t.Fatalf("sidecar stopped while waiting for %s: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Standing: registered in AMS, attested for 8 GPUs, bonded as configured.
	eventually("the sidecar to attest and bond", 60*time.Second, func() bool {
		b, err := sla.Bond(bg, &slatypes.QueryBondRequest{Provider: operator.addr.String()})
		return err == nil && b.Bond.Bonded.AmountOf("uusdc").Int64() == 5_000_000
	})
	p, err := attesttypes.NewQueryClient(val.ClientCtx).Provider(bg, &attesttypes.QueryProviderRequest{Operator: operator.addr.String()})
	require.NoError(t, err)
	require.Equal(t, "AMS", p.Provider.Metro)
	att, err := attesttypes.NewQueryClient(val.ClientCtx).Attestation(bg, &attesttypes.QueryAttestationRequest{Provider: operator.addr.String()})
	require.NoError(t, err)
	require.NotEmpty(t, att.Records)
	require.Len(t, att.Records[0].Gpus, 8)
	eventually("the sidecar to listen", 20*time.Second, func() bool { return d.Addr() != "" })

	order := func(req markettypes.Requirements, ceiling int64, sla markettypes.SLATerms) (uint64, int64) {
		t.Helper()
		req.Evidence = []markettypes.EvidenceType{markettypes.EVIDENCE_TYPE_NVIDIA_NRAS}
		res := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCreateOrder{
			Owner: buyer.addr.String(), Requirements: req, MaxPricePerBlock: usdc(ceiling), BiddingWindowBlocks: 5,
			Policy: markettypes.ACCEPTANCE_POLICY_AUTO, Replicas: 1, Workload: markettypes.Workload{WasmHash: wasmHash},
			Sla: sla, Deposit: usdc(3_000_000),
		})
		require.Zero(t, res.Code, res.RawLog)
		return uint64(eventAttrInt(t, res, "computed.market.v1.EventOrderCreated", "order_id")), res.Height
	}
	h100 := func(n uint32, metro string) markettypes.Requirements {
		return markettypes.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: n, MinVramGib: 80, Metro: metro}
	}
	withStanding := func(r markettypes.Requirements, reputationBps uint32, bond sdk.Coin) markettypes.Requirements {
		r.MinReputationBps, r.MinProviderBond = reputationBps, bond
		return r
	}
	// Orders it must not bid on, placed four to a transaction.
	absent := strings.Repeat("ab", 32)
	wasm, oci := markettypes.Workload{WasmHash: wasmHash}, markettypes.Workload{OciDigest: "sha256:" + absent}
	noImage := "workload: docker: image sha256:" + absent + ": image not loaded locally"
	if dockerErr != nil {
		noImage = "OCI workload, no docker executor"
	}
	specs := []struct {
		w       markettypes.Workload
		req     markettypes.Requirements
		ceiling int64
		why     string
	}{
		// Workloads it does not have: a module not in its wasm_dir, an image not loaded.
		{markettypes.Workload{WasmHash: absent}, h100(1, "AMS"), 20_000, "workload: wasm: module " + filepath.Join(wasmDir, absent+".wasm") + ": workload not on this host"},
		{oci, h100(1, "AMS"), 20_000, noImage},
		{wasm, h100(8, "FRA"), 20_000, "metro FRA, we serve AMS"},
		{wasm, h100(16, "AMS"), 40_000, "needs 16 x H100-SXM-80GB (>= 80 GiB), 8 free"},
		// 8 mock H100s at 2,000,000 uusdc per GPU-hour and 1 s blocks ask 4,445 uusdc per block.
		{wasm, h100(8, "AMS"), 1_000, "above the ceiling 1000uusdc"},
		{wasm, markettypes.Requirements{GpuSku: "H200-SXM-141GB", GpuCount: 1, MinVramGib: 141, Metro: "AMS"}, 20_000, "needs 1 x H200-SXM-141GB"},
		{wasm, withStanding(h100(1, "AMS"), 0, usdc(5_000_001)), 20_000, "free bond below the order's minimum 5000001uusdc"},
		{wasm, withStanding(h100(1, "AMS"), 9_000, sdk.Coin{}), 20_000, "reputation below the order's minimum"}, // a new provider has 5000 bps
	}
	decoys := map[uint64]string{} // order → why the sidecar must not bid
	for i := 0; i < len(specs); i += 4 {
		var msgs []sdk.Msg
		for _, o := range specs[i:min(i+4, len(specs))] {
			o.req.Evidence = []markettypes.EvidenceType{markettypes.EVIDENCE_TYPE_NVIDIA_NRAS}
			msgs = append(msgs, &markettypes.MsgCreateOrder{
				Owner: buyer.addr.String(), Requirements: o.req, MaxPricePerBlock: usdc(o.ceiling), BiddingWindowBlocks: 5,
				Policy: markettypes.ACCEPTANCE_POLICY_AUTO, Replicas: 1, Workload: o.w, Deposit: usdc(3_000_000),
			})
		}
		res := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, msgs...)
		require.Zero(t, res.Code, res.RawLog)
		ids := eventAttrInts(t, res, "computed.market.v1.EventOrderCreated", "order_id")
		require.Len(t, ids, len(msgs))
		for j, id := range ids {
			decoys[uint64(id)] = specs[i+j].why
		}
	}
	terms := markettypes.SLATerms{P95LatencyMs: 50, AvailabilityBps: 9000, WindowBlocks: 6, PenaltyBps: 500}
	orderID, created := order(h100(8, "AMS"), 20_000, terms)

	var bid markettypes.Bid
	eventually("the sidecar's bid", 30*time.Second, func() bool {
		res, err := market.Bids(bg, &markettypes.QueryBidsRequest{OrderId: orderID, Provider: operator.addr.String()})
		if err != nil || len(res.Bids) == 0 {
			return false
		}
		bid = res.Bids[0]
		return true
	})
	require.LessOrEqual(t, bid.CreatedHeight-created, int64(2), "bid included within two blocks of the order")
	require.GreaterOrEqual(t, flaky.droppedOf("/computed.market.v1.Query/Order"), 4, "the node dropped the sidecar's first query for each order")
	require.Equal(t, int64(4445), bid.PricePerBlock.Amount.Int64())

	// leaseOf finds the sidecar's lease for an order, in any state.
	leaseOf := func(order uint64) (markettypes.Lease, bool) {
		res, err := market.Leases(bg, &markettypes.QueryLeasesRequest{Provider: operator.addr.String()})
		if err != nil {
			return markettypes.Lease{}, false
		}
		for _, l := range res.Leases {
			if l.OrderId == order {
				return l, true
			}
		}
		return markettypes.Lease{}, false
	}
	var lease markettypes.Lease
	eventually("the lease", 30*time.Second, func() (ok bool) {
		lease, ok = leaseOf(orderID)
		return ok
	})
	require.GreaterOrEqual(t, flaky.droppedOf("/computed.market.v1.Query/Lease"), 1, "the node dropped the sidecar's first query for its lease")
	require.Contains(t, logs.String(), "node unreachable, retrying")
	for id, why := range decoys {
		res, err := market.Bids(bg, &markettypes.QueryBidsRequest{OrderId: id, Provider: operator.addr.String()})
		require.NoError(t, err)
		require.Empty(t, res.Bids, "the sidecar must not bid on order %d", id)
		require.Regexp(t, fmt.Sprintf(`msg="not bidding" order=%d reason="[^"]*%s`, id, regexp.QuoteMeta(why)), logs.String(), "the decision on order %d", id)
	}

	// Requests through the ingress reach the WASM workload.
	base := fmt.Sprintf("http://%s/leases/%d/", d.Addr(), lease.Id)
	// post sends body through the ingress and returns the status and reply (0 if unreachable).
	post := func(body string) (int, string) {
		res, err := http.Post(base, "text/plain", strings.NewReader(body))
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		reply, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(reply)
	}
	eventually("the lease's ingress", 30*time.Second, func() bool {
		code, _ := post("ping")
		return code == http.StatusOK
	})
	for i := 0; i < 10; i++ {
		code, reply := post(fmt.Sprintf("request %d", i))
		require.Equal(t, http.StatusOK, code, "%s", reply)
		require.Contains(t, reply, fmt.Sprintf("request %d", i))
	}

	// Receipts are anchored; the sidecar's proof of receipt 1 verifies against the chain's root,
	// and a tampered receipt does not.
	eventually("an anchored receipt batch", 30*time.Second, func() bool {
		res, err := sla.ReceiptBatches(bg, &slatypes.QueryReceiptBatchesRequest{LeaseId: lease.Id})
		return err == nil && len(res.Batches) > 0
	})
	var pr receipts.ProofResponse
	eventually("receipt 1's proof from the sidecar", 30*time.Second, func() bool {
		res, err := http.Get(fmt.Sprintf("http://%s/receipts/%d/1", d.Addr(), lease.Id))
		if err != nil {
			return false
		}
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&pr) == nil
	})
	receipt, err := pr.Verify()
	require.NoError(t, err)
	// It names the attestation in force: the hash of the evidence the chain holds.
	require.Equal(t, att.Records[0].EvidenceHash, receipt.AttestationTokenHash, "receipt 1's attestation")
	verify := func(r slatypes.ReceiptLeaf) *slatypes.QueryVerifyReceiptResponse {
		res, err := sla.VerifyReceipt(bg, &slatypes.QueryVerifyReceiptRequest{LeaseId: lease.Id, Receipt: r,
			Proof: slatypes.MerkleProof{Total: pr.Proof.Total, Index: pr.Proof.Index, LeafHash: pr.Proof.LeafHash, Aunts: pr.Proof.Aunts}})
		require.NoError(t, err)
		return res
	}
	require.True(t, verify(receipt).Valid, "the anchored root accepts the sidecar's proof")
	tampered := receipt
	tampered.SettlementRef = "tampered"
	require.False(t, verify(tampered).Valid, "a changed receipt fails")

	// The first SLA window is reported by the sidecar and judged met.
	eventually("window 1 judged", 60*time.Second, func() bool {
		res, err := sla.Reports(bg, &slatypes.QueryReportsRequest{LeaseId: lease.Id})
		if err != nil {
			return false
		}
		for _, r := range res.Reports {
			if r.Window == 1 && r.Status != slatypes.WINDOW_STATUS_REPORTED {
				require.Equal(t, slatypes.WINDOW_STATUS_MET, r.Status, "window 1: %+v", r)
				return true
			}
		}
		return false
	})

	// The buyer closes the order while requests flow; the sidecar stops the lease and its
	// ingress answers 404.
	for i := range 5 {
		code, _ := post(fmt.Sprint("last-", i))
		require.Equal(t, http.StatusOK, code)
	}
	res := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCloseOrder{Owner: buyer.addr.String(), OrderId: orderID})
	require.Zero(t, res.Code, res.RawLog)
	eventually("the sidecar to stop the lease", 30*time.Second, func() bool {
		code, _ := post("late")
		return code == http.StatusNotFound
	})
	// Every receipt it issued, the last block's included, is anchored: the chain takes a closed
	// lease's last batches for report_grace_blocks, and the sidecar cuts them at once. None is
	// refused (a refused batch would be sent again, paying fees, forever).
	eventually("the closed lease's last receipts anchored", 30*time.Second, func() bool {
		res, err := sla.ReceiptBatches(bg, &slatypes.QueryReceiptBatchesRequest{LeaseId: lease.Id})
		if err != nil || len(res.Batches) == 0 {
			return false
		}
		last := res.Batches[len(res.Batches)-1].LastSequence
		next, err := http.Get(fmt.Sprintf("http://%s/receipts/%d/%d", d.Addr(), lease.Id, last+1))
		if err != nil {
			return false
		}
		next.Body.Close()
		return next.StatusCode == http.StatusNotFound
	})
	require.NotContains(t, logs.String(), slatypes.ErrLeaseClosed.Error())

	// answered is an eventually condition: url answers 200, with *reply.
	answered := func(url string, reply *string) func() bool {
		return func() bool {
			res, err := http.Get(url)
			if err != nil {
				return false
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			*reply = string(b)
			return res.StatusCode == http.StatusOK
		}
	}
	// manualOrder places a MANUAL order for all 8 GPUs, accepted by hand; manualBid also
	// waits for the sidecar's bid on it.
	manualOrder := func() uint64 {
		t.Helper()
		req := h100(8, "AMS")
		req.Evidence = []markettypes.EvidenceType{markettypes.EVIDENCE_TYPE_NVIDIA_NRAS}
		res := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCreateOrder{
			Owner: buyer.addr.String(), Requirements: req, MaxPricePerBlock: usdc(20_000), BiddingWindowBlocks: 40,
			Policy: markettypes.ACCEPTANCE_POLICY_MANUAL, Replicas: 1, Workload: markettypes.Workload{WasmHash: wasmHash}, Deposit: usdc(3_000_000),
		})
		require.Zero(t, res.Code, res.RawLog)
		return uint64(eventAttrInt(t, res, "computed.market.v1.EventOrderCreated", "order_id"))
	}
	ownBid := func(order uint64) (uint64, bool) {
		res, err := market.Bids(bg, &markettypes.QueryBidsRequest{OrderId: order, Provider: operator.addr.String()})
		if err != nil || len(res.Bids) == 0 {
			return 0, false
		}
		return res.Bids[0].Id, true
	}
	manualBid := func() (order, bid uint64) {
		t.Helper()
		order = manualOrder()
		eventually("the sidecar's bid on order "+fmt.Sprint(order), 30*time.Second, func() (ok bool) {
			bid, ok = ownBid(order)
			return ok
		})
		return order, bid
	}
	closeOrder := func(order uint64) {
		t.Helper()
		res := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCloseOrder{Owner: buyer.addr.String(), OrderId: order})
		require.Zero(t, res.Code, res.RawLog)
	}
	accept := func(order, bid uint64) {
		t.Helper()
		res := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgAcceptBid{Owner: buyer.addr.String(), OrderId: order, BidIds: []uint64{bid}})
		require.Zero(t, res.Code, res.RawLog)
	}
	// noGPUsLeft checks that the sidecar, holding all 8 GPUs, does not bid on a rival order.
	noGPUsLeft := func() {
		t.Helper()
		rival, _ := order(h100(8, "AMS"), 20_000, markettypes.SLATerms{})
		eventually("the decision on order "+fmt.Sprint(rival), 30*time.Second, func() bool {
			return regexp.MustCompile(fmt.Sprintf(`msg="?[a-z ]*bidding"? order=%d `, rival)).MatchString(logs.String())
		})
		require.Contains(t, logs.String(), fmt.Sprintf(`msg="not bidding" order=%d reason="needs 8 x H100-SXM-80GB (>= 80 GiB), 0 free"`, rival))
	}
	restart := func() {
		t.Helper()
		stopSidecar()
		startSidecar()
		eventually("the restarted sidecar to run", 30*time.Second, func() bool { return d.Addr() != "" })
	}

	// A lease won while the sidecar was down: started when it comes back, with its GPUs
	// reserved, so a rival order for them gets no bid.
	won, wonBid := manualBid()
	stopSidecar()
	accept(won, wonBid)
	startSidecar()
	var wonLease markettypes.Lease
	eventually("the lease won while the sidecar was down", 30*time.Second, func() (ok bool) {
		wonLease, ok = leaseOf(won)
		return ok && strings.Contains(logs.String(), fmt.Sprintf(`msg="lease running" lease=%d `, wonLease.Id))
	})
	noGPUsLeft()
	res = deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCloseOrder{Owner: buyer.addr.String(), OrderId: won})
	require.Zero(t, res.Code, res.RawLog)
	eventually("the sidecar to stop that lease", 30*time.Second, func() bool {
		return strings.Contains(logs.String(), fmt.Sprintf(`msg="lease closed" lease=%d`+"\n", wonLease.Id))
	})

	// The sidecar restarts while a bid is open: it keeps the bid's GPUs reserved (no second
	// bid, which the chain would refuse), so a rival order for them gets no bid.
	gone, goneBid := manualBid()
	restart()
	noGPUsLeft()
	require.Contains(t, logs.String(), fmt.Sprintf(`msg="open bid kept" bid=%d order=%d gpus=8`, goneBid, gone))
	require.NotContains(t, logs.String(), markettypes.ErrDuplicateBid.Error())

	// Then that bid's module goes missing before the buyer accepts: the sidecar closes the
	// lease at once (the buyer would pay for nothing) and gives its GPUs back.
	module := filepath.Join(wasmDir, wasmHash+".wasm")
	require.NoError(t, os.Rename(module, module+".away"))
	accept(gone, goneBid)
	eventually("the provider to close the lease it cannot run", 30*time.Second, func() bool {
		l, ok := leaseOf(gone)
		return ok && l.State == markettypes.LEASE_STATE_CLOSED
	})
	l, _ := leaseOf(gone)
	require.Equal(t, markettypes.CLOSE_REASON_PROVIDER, l.CloseReason)
	require.Contains(t, logs.String(), "closing a lease whose workload cannot run here")
	var metricsText string
	eventually("the sidecar's metrics", 10*time.Second, answered(fmt.Sprintf("http://%s/metrics", d.Addr()), &metricsText))
	require.Contains(t, metricsText, "computed_provider_leases_given_up_total 1")
	require.NoError(t, os.Rename(module+".away", module))

	// The sidecar stands still while the node prunes the blocks it had not read yet: it goes on
	// from the node's earliest height instead of stopping, gives back the GPUs of its bid on an
	// order closed in those blocks, and bids on an order placed in them.
	stale, _ := manualBid() // holds all 8 GPUs
	pruner.hold()
	closeOrder(stale)
	fresh := manualOrder()
	latest, err := net.LatestHeight()
	require.NoError(t, err)
	_, err = net.WaitForHeight(latest + 1)
	require.NoError(t, err)
	pruner.release(latest + 1)
	eventually("the sidecar's bid on the order placed in the pruned blocks", 30*time.Second, func() bool {
		_, ok := ownBid(fresh)
		return ok
	})
	require.Contains(t, logs.String(), "the node pruned blocks the sidecar had not read")
	require.Contains(t, logs.String(), fmt.Sprintf(`msg="bid closed while the sidecar was behind: GPUs released" order=%d`, stale))
	select {
	case err := <-stopped:
		t.Fatalf("the sidecar stopped: %v", err)
	default:
	}
	closeOrder(fresh)

	// An OCI workload: the sidecar bids with the GPUs the closed leases gave back, runs the image
	// (pinned by ID) in a container behind the ingress, and removes the container at close.
	if dockerErr != nil {
		t.Logf("OCI lease not run: %v", dockerErr)
		return
	}
	img, err := dockertest.BuildEcho(docker)
	require.NoError(t, err)
	t.Cleanup(func() { dockertest.RemoveImages(docker, img) })
	res = deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCreateOrder{
		Owner: buyer.addr.String(), Requirements: markettypes.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 8, MinVramGib: 80, Metro: "AMS",
			Evidence: []markettypes.EvidenceType{markettypes.EVIDENCE_TYPE_NVIDIA_NRAS}},
		MaxPricePerBlock: usdc(20_000), BiddingWindowBlocks: 5, Policy: markettypes.ACCEPTANCE_POLICY_AUTO, Replicas: 1,
		Workload: markettypes.Workload{OciDigest: img}, Deposit: usdc(3_000_000),
	})
	require.Zero(t, res.Code, res.RawLog)
	ociOrder := uint64(eventAttrInt(t, res, "computed.market.v1.EventOrderCreated", "order_id"))
	var ociLease markettypes.Lease
	eventually("the OCI lease", 30*time.Second, func() (ok bool) {
		ociLease, ok = leaseOf(ociOrder)
		return ok
	})
	container := fmt.Sprintf("computed-lease-%d", ociLease.Id)
	ociURL := fmt.Sprintf("http://%s/leases/%d/hello", d.Addr(), ociLease.Id)
	var reply string
	eventually("the container's answer through the ingress", 60*time.Second, answered(ociURL, &reply))
	require.Equal(t, "echo  /hello", reply, "the echo program in the container answers")
	info, err := docker.ContainerInspect(bg, container)
	require.NoError(t, err)
	require.Equal(t, img, info.Image, "the container runs the order's image")
	require.True(t, info.State.Running)

	// The sidecar restarts: the container keeps running, and the new sidecar re-attaches to it
	// (the same container, not a new one) behind its ingress.
	stopSidecar()
	running, err := docker.ContainerInspect(bg, container)
	require.NoError(t, err)
	require.True(t, running.State.Running, "the workload outlives its sidecar")
	startSidecar()
	eventually("the restarted sidecar to listen", 20*time.Second, func() bool { return d.Addr() != "" })
	ociURL = fmt.Sprintf("http://%s/leases/%d/hello", d.Addr(), ociLease.Id)
	eventually("the container's answer through the restarted sidecar", 60*time.Second, answered(ociURL, &reply))
	require.Equal(t, "echo  /hello", reply)
	again, err := docker.ContainerInspect(bg, container)
	require.NoError(t, err)
	require.Equal(t, info.ID, again.ID, "re-attached to the running container")
	require.Equal(t, info.State.StartedAt, again.State.StartedAt, "the container was not restarted")
	res = deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCloseOrder{Owner: buyer.addr.String(), OrderId: ociOrder})
	require.Zero(t, res.Code, res.RawLog)
	eventually("the sidecar to remove the container", 60*time.Second, func() bool {
		_, err := docker.ContainerInspect(bg, container)
		return errdefs.IsNotFound(err)
	})
}

// buildEcho builds the echo WASM workload into dir as <sha256>.wasm and returns the hash.
func buildEcho(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "echo.wasm")
	cmd := osexec.Command("bash", filepath.Join("..", "scripts", "build-wasm.sh"), out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	bin, err := os.ReadFile(out)
	require.NoError(t, err)
	hash := sha256Hex(bin)
	require.NoError(t, os.WriteFile(filepath.Join(dir, hash+".wasm"), bin, 0o644))
	return hash
}

func usdc(n int64) sdk.Coin { return sdk.NewInt64Coin("uusdc", n) }

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// eventAttrInt is the integer attribute key of the first typ event of res.
func eventAttrInt(t *testing.T, res sdk.TxResponse, typ, key string) int64 {
	t.Helper()
	v := chain.Attr(sdk.StringifyEvents(res.Events), typ, key)
	n, err := strconv.ParseInt(v, 10, 64)
	require.NoError(t, err, "%s.%s = %q", typ, key, v)
	return n
}

// eventAttrInts is the integer attribute key of every typ event of res, in order.
func eventAttrInts(t *testing.T, res sdk.TxResponse, typ, key string) []int64 {
	t.Helper()
	var out []int64
	for _, e := range res.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				n, err := strconv.ParseInt(strings.Trim(a.Value, `"`), 10, 64)
				require.NoError(t, err, "%s.%s = %q", typ, key, a.Value)
				out = append(out, n)
			}
		}
	}
	return out
}
