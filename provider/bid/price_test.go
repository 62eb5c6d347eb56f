package bid

import (
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// TestPrice pins the pricing formula: base per GPU-hour × GPUs × block seconds / 3600 × metro
// multiplier, rounded up, floored at FloorPerBlock.
func TestPrice(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		base                          int64
		gpus                          uint32
		blockSeconds, metroBps, floor int64
		want                          int64
	}{
		{"one GPU one second", 3_600_000, 1, 1, 10_000, 1, 1000},
		{"linear in GPUs", 3_600_000, 4, 1, 10_000, 1, 4000},
		{"linear in block seconds", 3_600_000, 2, 6, 10_000, 1, 12_000},
		// 2,000,000 × 2 × 6 / 3600 = 6666.67: up, so the provider never undercuts its list price.
		{"rounded up", 2_000_000, 2, 6, 10_000, 1, 6667},
		{"metro multiplier", 3_600_000, 1, 1, 12_500, 1, 1250},
		{"metro discount", 3_600_000, 1, 1, 8_000, 1, 800},
		// 1000 × 1.5 / 3600 = 0.42: still one unit, not zero.
		{"fraction of a unit rounds to one", 1000, 1, 1, 15_000, 0, 1},
		{"floor lifts a cheap price", 1000, 1, 1, 10_000, 50, 50},
		{"floor below the price is moot", 3_600_000, 1, 1, 10_000, 999, 1000},
		// Unset block seconds and multiplier default to 1 s and 1x rather than a zero price.
		{"zero block seconds and multiplier default", 3_600_000, 1, 0, 0, 1, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := basePolicy()
			p.BasePerGPUHour = map[string]int64{sku: tc.base}
			p.BlockSeconds, p.MetroMultiplierBps, p.FloorPerBlock = tc.blockSeconds, tc.metroBps, tc.floor
			d := New(p, h100Devices(t)).Evaluate(openOrder(1, tc.gpus))
			if !d.Bid || !d.Price.Equal(sdk.NewInt64Coin("uusdc", tc.want)) {
				t.Fatalf("Evaluate = %+v, want a bid at %duusdc", d, tc.want)
			}
		})
	}
}

// TestPriceCeiling: the ceiling is inclusive, and the floor never pushes a bid past it.
func TestPriceCeiling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		floor   int64
		ceiling int64
		bid     bool
	}{
		{"price equals ceiling", 1, 1000, true},
		{"price one above ceiling", 1, 999, false},
		{"floor above ceiling", 2000, 1999, false},
		{"floor equals ceiling", 2000, 2000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := basePolicy()
			p.FloorPerBlock = tc.floor
			o := openOrder(1, 1)
			o.MaxPricePerBlock = sdk.NewInt64Coin("uusdc", tc.ceiling)
			d := New(p, h100Devices(t)).Evaluate(o)
			if d.Bid != tc.bid {
				t.Fatalf("Evaluate = %+v, want bid=%v", d, tc.bid)
			}
			if d.Bid && d.Price.Amount.GT(sdkmath.NewInt(tc.ceiling)) {
				t.Fatalf("bid %s above the ceiling %d", d.Price, tc.ceiling)
			}
			if !d.Bid && !strings.Contains(d.Reason, "above the ceiling") {
				t.Fatalf("reason %q", d.Reason)
			}
		})
	}
}

// TestUtilisationScaling: with scaling on, each GPU already reserved raises the next bid by
// scaling/total, and releasing GPUs brings the price back down.
func TestUtilisationScaling(t *testing.T) {
	p := basePolicy()
	p.UtilisationScalingBps = 10_000 // 2x at full reservation
	e := New(p, h100Devices(t))
	// 8 GPUs: each reserved GPU adds 1/8 of the 1000 base.
	for i, want := range []int64{1000, 1125, 1250, 1375, 1500, 1625, 1750, 1875} {
		d := e.Evaluate(openOrder(uint64(i+1), 1))
		if !d.Bid || d.Price.Amount.Int64() != want {
			t.Fatalf("bid %d = %+v, want price %d", i+1, d, want)
		}
	}
	for id := uint64(1); id <= 8; id++ {
		e.Release(id)
	}
	if d := e.Evaluate(openOrder(9, 2)); !d.Bid || d.Price.Amount.Int64() != 2000 {
		t.Fatalf("after release: %+v, want the flat 2000 again", d)
	}
}

// TestUtilisationScalingFlat: scaling 0 keeps the price flat however full the node is.
func TestUtilisationScalingFlat(t *testing.T) {
	e := New(basePolicy(), h100Devices(t))
	for id := uint64(1); id <= 8; id++ {
		if d := e.Evaluate(openOrder(id, 1)); !d.Bid || d.Price.Amount.Int64() != 1000 {
			t.Fatalf("bid %d = %+v, want 1000", id, d)
		}
	}
}

// TestUtilisationScalingRoundsUp is a regression test: the scaled price used to be truncated
// before the final division and so could land one unit below the exact price rounded up.
// 17,838,002 × (1 + 0.1001 × 1/8) / 3600 = 5017.0000...3, which must bid 5018.
func TestUtilisationScalingRoundsUp(t *testing.T) {
	p := basePolicy()
	p.BasePerGPUHour = map[string]int64{sku: 17_838_002}
	p.UtilisationScalingBps = 1001
	devs := h100Devices(t)
	e := New(p, devs)
	e.Hold(99, []string{devs[7].UUID})
	if d := e.Evaluate(openOrder(1, 1)); !d.Bid || d.Price.Amount.Int64() != 5018 {
		t.Fatalf("Evaluate = %+v, want 5018", d)
	}
}
