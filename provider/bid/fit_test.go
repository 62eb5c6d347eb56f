package bid

import (
	"strings"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
)

// TestEvaluateSkips: every requirement the provider cannot meet is a skip with a reason the
// operator can read in the logs, and a skip never reserves a GPU.
func TestEvaluateSkips(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy func(*Policy)
		order  func(*markettypes.Order)
		reason string
	}{
		{"not open", nil, func(o *markettypes.Order) { o.State = markettypes.ORDER_STATE_ACTIVE }, "is ORDER_STATE_ACTIVE"},
		{"closed", nil, func(o *markettypes.Order) { o.State = markettypes.ORDER_STATE_CLOSED }, "is ORDER_STATE_CLOSED"},
		{"other metro", nil, func(o *markettypes.Order) { o.Requirements.Metro = "AMS" }, "metro AMS, we serve FRA"},
		{"other denom", nil, func(o *markettypes.Order) { o.MaxPricePerBlock = sdk.NewInt64Coin("ucmpt", 1_000_000) }, "priced in ucmpt, we take uusdc"},
		{"wasm without executor", func(p *Policy) { p.SupportsWASM = false }, nil, "no wasm executor"},
		{"oci without executor", func(p *Policy) { p.SupportsOCI = false }, func(o *markettypes.Order) {
			o.Workload = markettypes.Workload{OciDigest: "sha256:00"}
		}, "no docker executor"},
		{"evidence not held", nil, func(o *markettypes.Order) {
			o.Requirements.Evidence = append(o.Requirements.Evidence, markettypes.EVIDENCE_TYPE_AMD_SEV_SNP)
		}, "requires EVIDENCE_TYPE_AMD_SEV_SNP evidence"},
		{"no evidence at all", func(p *Policy) { p.Evidence = nil }, nil, "requires EVIDENCE_TYPE_NVIDIA_NRAS evidence"},
		{"other sku", nil, func(o *markettypes.Order) { o.Requirements.GpuSku = "H200-SXM-141GB" }, "needs 1 x H200-SXM-141GB (>= 80 GiB), 0 free"},
		{"more vram than the GPU has", nil, func(o *markettypes.Order) { o.Requirements.MinVramGib = 81 }, "(>= 81 GiB), 0 free"},
		{"more GPUs than the node has", nil, func(o *markettypes.Order) { o.Requirements.GpuCount = 9 }, "needs 9 x H100-SXM-80GB (>= 80 GiB), 8 free"},
		// Zero GPUs would make a free lease; the engine never bids on it.
		{"zero GPUs", nil, func(o *markettypes.Order) { o.Requirements.GpuCount = 0 }, "needs 0 x"},
		{"no list price", func(p *Policy) { p.BasePerGPUHour = map[string]int64{"H200-SXM-141GB": 1} }, nil, "no price for H100-SXM-80GB"},
		{"ceiling below our price", nil, func(o *markettypes.Order) { o.MaxPricePerBlock = sdk.NewInt64Coin("uusdc", 999) }, "our price 1000uusdc is above the ceiling 999uusdc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := basePolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			o := openOrder(1, 1)
			if tc.order != nil {
				tc.order(&o)
			}
			e := New(p, h100Devices(t))
			d := e.Evaluate(o)
			if d.Bid || len(d.GPUs) != 0 || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("Evaluate = %+v, want a skip with reason containing %q", d, tc.reason)
			}
			if e.Reserved() != 0 {
				t.Fatalf("a skip reserved %d GPUs", e.Reserved())
			}
		})
	}
}

// TestEvaluateFits: orders the provider can serve get a bid, including the boundaries (VRAM
// exactly the GPU's, every GPU on the node, no VRAM or evidence requirement).
func TestEvaluateFits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order func(*markettypes.Order)
		gpus  int
	}{
		{"wasm", nil, 1},
		{"oci", func(o *markettypes.Order) { o.Workload = markettypes.Workload{OciDigest: "sha256:00"} }, 1},
		{"vram exactly the GPU's", func(o *markettypes.Order) { o.Requirements.MinVramGib = 80 }, 1},
		{"no vram minimum", func(o *markettypes.Order) { o.Requirements.MinVramGib = 0 }, 1},
		{"no evidence required", func(o *markettypes.Order) { o.Requirements.Evidence = nil }, 1},
		{"the whole node", func(o *markettypes.Order) { o.Requirements.GpuCount = 8 }, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := openOrder(7, 1)
			if tc.order != nil {
				tc.order(&o)
			}
			e := New(basePolicy(), h100Devices(t))
			d := e.Evaluate(o)
			if !d.Bid || d.Reason != "" || len(d.GPUs) != tc.gpus || d.Price.Denom != "uusdc" {
				t.Fatalf("Evaluate = %+v, want a bid on %d GPUs", d, tc.gpus)
			}
			if e.Reserved() != tc.gpus {
				t.Fatalf("Reserved() = %d, want %d", e.Reserved(), tc.gpus)
			}
		})
	}
}
