package receipts

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func testLease(id uint64) LeaseInfo {
	return LeaseInfo{
		LeaseID: id, GpuSku: "H100-SXM-80GB", VramGib: 80, Metro: "FRA",
		WorkloadDigest:       "sha256:abcd",
		AttestationTokenHash: []byte{9, 9, 9},
		PricePerBlock:        sdk.NewCoin("uusdc", sdkmath.NewInt(10)),
	}
}

func testWork(i int, end time.Time) Work {
	return Work{
		Start: end.Add(-time.Second), End: end,
		Input: fmt.Appendf(nil, "in-%d", i), Output: fmt.Appendf(nil, "out-%d", i),
		Price:         sdk.NewCoin("uusdc", sdkmath.NewInt(int64(i+1))),
		SettlementRef: "lease/1@100",
	}
}

func openStore(t *testing.T) (*state.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func appendN(t *testing.T, s *state.Store, lease uint64, n int, end time.Time) []slatypes.ReceiptLeaf {
	t.Helper()
	b := NewBuilder(s)
	out := make([]slatypes.ReceiptLeaf, n)
	for i := range n {
		r, err := b.Append(testLease(lease), testWork(i, end))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeChain records submissions and fails the next ones when told to.
type fakeChain struct {
	mu    sync.Mutex
	sent  []state.Batch
	fails int
	err   error
}

func (c *fakeChain) submit(_ context.Context, b state.Batch) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fails > 0 {
		c.fails--
		if c.err != nil {
			return "", c.err
		}
		return "", fmt.Errorf("node unreachable")
	}
	c.sent = append(c.sent, b)
	return fmt.Sprintf("TX%d", len(c.sent)), nil
}

func (c *fakeChain) submitted() []state.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]state.Batch(nil), c.sent...)
}
