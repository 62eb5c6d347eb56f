package daemon

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/metrics"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// receiptDaemon is a daemon with what receipting needs: store, builder, and a batcher whose
// every send succeeds. No chain: tests set the heights they need.
func receiptDaemon(t *testing.T, store *state.Store, dataDir string) *Daemon {
	t.Helper()
	d := &Daemon{log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(), store: store, builder: receipts.NewBuilder(store),
		settlePoll: 5 * time.Millisecond}
	d.cfg.DataDir = dataDir
	var err error
	d.batcher, err = receipts.NewBatcher(store, receipts.BatcherConfig{MaxBatch: 10, MaxAge: 1}, func(context.Context, state.Batch) (string, error) { return "", nil })
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// lease7 is lease 7 (started at block 100, 5-block windows, 10uusdc a block) as launch sets up
// its receipts, without workload, ingress or journal.
func lease7() *leaseRun {
	price := sdk.NewInt64Coin("uusdc", 10)
	run := &leaseRun{rec: state.LeaseRecord{LeaseID: 7, StartHeight: 100, WindowBlocks: 5}, lease: markettypes.Lease{PricePerBlock: price}}
	run.info = receipts.LeaseInfo{LeaseID: 7, GpuSku: "H100-SXM-80GB", Metro: "fra", WorkloadDigest: "ab", PricePerBlock: price}
	return run
}

// pong is a lease backend that answers "pong", closed with the test.
func pong(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") }))
	t.Cleanup(srv.Close)
	return srv
}

// tempStore opens a store in a fresh data directory, closed with the test.
func tempStore(t *testing.T) (*state.Store, string) {
	t.Helper()
	dataDir := t.TempDir()
	store, err := state.Open(filepath.Join(dataDir, "sidecar.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store, dataDir
}
