package types_test

import (
	"bytes"
	"crypto/sha256"
	"math"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
	"github.com/computed-network/computed/x/sla/types"
)

func TestWindowEndAndDue(t *testing.T) {
	for _, tc := range []struct {
		name          string
		start         int64
		length, w, gr uint64
		end, due      int64
	}{
		{"first window", 100, 10, 1, 5, 110, 115},
		{"third window", 100, 10, 3, 5, 130, 135},
		{"no grace", 100, 10, 2, 0, 120, 120},
		{"one-block windows", 7, 1, 4, 2, 11, 13},
		{"window 0 ends at the start", 100, 10, 0, 0, 100, 100},
		{"end beyond int64 saturates", 100, math.MaxUint64 / 2, 3, 0, math.MaxInt64, math.MaxInt64},
		{"product that wraps saturates", 100, 1 << 63, 2, 0, math.MaxInt64, math.MaxInt64},
		{"length beyond int64 saturates", 0, math.MaxUint64, 1, 0, math.MaxInt64, math.MaxInt64},
		{"last height exactly", 0, math.MaxInt64, 1, 0, math.MaxInt64, math.MaxInt64},
		{"grace pushes past the end", math.MaxInt64 - 10, 5, 1, 100, math.MaxInt64 - 5, math.MaxInt64},
		{"grace beyond int64", 100, 10, 1, math.MaxUint64, 110, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.end, types.WindowEnd(tc.start, tc.length, tc.w))
			require.Equal(t, tc.due, types.WindowDue(tc.start, tc.length, tc.w, tc.gr))
		})
	}
}

func TestWindowPenalty(t *testing.T) {
	price := func(n int64) sdk.Coin { return sdk.NewInt64Coin("uusdc", n) }
	for _, tc := range []struct {
		name   string
		price  sdk.Coin
		terms  markettypes.SLATerms
		amount int64
	}{
		{"10% of a 5-block window at 100", price(100), markettypes.SLATerms{WindowBlocks: 5, PenaltyBps: 1000}, 50},
		{"the whole window", price(100), markettypes.SLATerms{WindowBlocks: 5, PenaltyBps: 10_000}, 500},
		{"no penalty set", price(100), markettypes.SLATerms{WindowBlocks: 5}, 0},
		{"no windows", price(100), markettypes.SLATerms{PenaltyBps: 1000}, 0},
		{"rounds down", price(3), markettypes.SLATerms{WindowBlocks: 3, PenaltyBps: 1}, 0},
		{"rounds down above zero", price(7), markettypes.SLATerms{WindowBlocks: 3, PenaltyBps: 5000}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, price(tc.amount).String(), types.WindowPenalty(tc.price, tc.terms).String())
		})
	}
	big := sdk.NewCoin("uusdc", sdkmath.NewIntFromUint64(math.MaxUint64))
	got := types.WindowPenalty(big, markettypes.SLATerms{WindowBlocks: math.MaxUint64, PenaltyBps: 10_000})
	want := sdkmath.NewIntFromUint64(math.MaxUint64).Mul(sdkmath.NewIntFromUint64(math.MaxUint64))
	require.Equal(t, want.String(), got.Amount.String(), "no overflow")
}

func TestBreaches(t *testing.T) {
	terms := markettypes.SLATerms{P95LatencyMs: 50, AvailabilityBps: 9990, WindowBlocks: 5}
	for _, tc := range []struct {
		name   string
		terms  markettypes.SLATerms
		stats  types.WindowStats
		breach bool
	}{
		{"inside both", terms, types.WindowStats{P95LatencyUs: 20_000, AvailabilityBps: 9999}, false},
		{"latency exactly at the bound", terms, types.WindowStats{P95LatencyUs: 50_000, AvailabilityBps: 9990}, false},
		{"latency 1 µs over", terms, types.WindowStats{P95LatencyUs: 50_001, AvailabilityBps: 10_000}, true},
		{"availability 1 bps short", terms, types.WindowStats{P95LatencyUs: 1, AvailabilityBps: 9989}, true},
		{"no latency bound", markettypes.SLATerms{AvailabilityBps: 9000}, types.WindowStats{P95LatencyUs: math.MaxUint64, AvailabilityBps: 9000}, false},
		{"no bounds at all", markettypes.SLATerms{}, types.WindowStats{}, false},
		{"empty report against bounds", terms, types.WindowStats{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.breach, types.Breaches(tc.terms, tc.stats)) })
	}
}

func TestNextReputation(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		score, attainment, weight uint32
		next                      uint32
	}{
		{"met from the start", 5000, 10_000, 1000, 5500},
		{"breached from the start", 5000, 0, 1000, 4500},
		{"rising rounds up", 9991, 10_000, 1000, 9992},
		{"rising from 9999 reaches 10000", 9999, 10_000, 1000, 10_000},
		{"falling rounds down", 1, 0, 1000, 0},
		{"perfect stays perfect", 10_000, 10_000, 1000, 10_000},
		{"zero stays zero", 0, 0, 1000, 0},
		{"full weight takes the attainment", 1234, 0, 10_000, 0},
		{"full weight rising", 1234, 10_000, 10_000, 10_000},
		{"exact division", 5000, 10_000, 5000, 7500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.next, types.NextReputation(tc.score, tc.attainment, tc.weight))
		})
	}
	// A provider that meets every window reaches 100%, and one that breaches every window 0%,
	// never passing either: orders may ask for any reputation up to 10000.
	up, down := uint32(5000), uint32(5000)
	for i := 0; i < 200; i++ {
		nu, nd := types.NextReputation(up, 10_000, 1000), types.NextReputation(down, 0, 1000)
		require.GreaterOrEqual(t, nu, up)
		require.LessOrEqual(t, nu, uint32(10_000))
		require.LessOrEqual(t, nd, down)
		up, down = nu, nd
	}
	require.Equal(t, uint32(10_000), up)
	require.Equal(t, uint32(0), down)
}

func TestCommitment(t *testing.T) {
	digest := bytes.Repeat([]byte{1}, 32)
	p1, p2 := sdk.AccAddress(bytes.Repeat([]byte{2}, 20)), sdk.AccAddress(bytes.Repeat([]byte{3}, 20))
	salt := []byte("pepper")
	c := types.Commitment(digest, p1, salt)
	want := sha256.Sum256(append(append(append([]byte{}, digest...), p1...), salt...))
	require.Equal(t, want[:], c, "SHA-256(digest || provider || salt)")
	require.Len(t, c, 32)
	require.Equal(t, c, types.Commitment(digest, p1, salt), "deterministic")
	require.NotEqual(t, c, types.Commitment(digest, p2, salt), "bound to the provider: no copying")
	require.NotEqual(t, c, types.Commitment(digest, p1, []byte("salt")))
	require.NotEqual(t, c, types.Commitment(bytes.Repeat([]byte{9}, 32), p1, salt))
}

func TestReplicated(t *testing.T) {
	wasm := markettypes.Workload{WasmHash: "ab"}
	oci := markettypes.Workload{OciDigest: "sha256:00"}
	require.True(t, types.Replicated(markettypes.Order{Replicas: 3, Workload: wasm}))
	require.True(t, types.Replicated(markettypes.Order{Replicas: 2, Workload: wasm}))
	require.False(t, types.Replicated(markettypes.Order{Replicas: 1, Workload: wasm}), "one replica has nobody to agree with")
	require.False(t, types.Replicated(markettypes.Order{Replicas: 3, Workload: oci}), "containers are not deterministic")
}

func TestWindowAt(t *testing.T) {
	const start, length = 100, 5
	for h, want := range map[int64]uint64{90: 1, 100: 1, 101: 1, 105: 1, 106: 2, 110: 2, 111: 3} {
		if got := types.WindowAt(start, length, h); got != want {
			t.Errorf("WindowAt(%d) = %d, want %d", h, got, want)
		}
		w := types.WindowAt(start, length, h)
		if h > start && (h < types.WindowStart(start, length, w) || h > types.WindowEnd(start, length, w)) {
			t.Errorf("height %d is outside window %d", h, w)
		}
	}
	if got := types.AddHeight(math.MaxInt64-1, 5); got != math.MaxInt64 {
		t.Errorf("AddHeight clamps: %d", got)
	}
}
