package bid

import (
	"context"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/gpu"
	markettypes "github.com/computed-network/computed/x/market/types"
)

const sku = "H100-SXM-80GB"

// h100Devices is the mock 8× H100 node the sidecar runs against in development: the same
// reading code as real NVML, so SKU and VRAM are what a provider would advertise.
func h100Devices(t *testing.T) []gpu.Device {
	t.Helper()
	b := gpu.NewMock(gpu.H100Node())
	t.Cleanup(func() { _ = b.Close() })
	devs, err := b.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 8 || devs[0].SKU != sku || devs[0].VRAMGiB != 80 {
		t.Fatalf("mock node changed: %+v", devs)
	}
	return devs
}

// basePolicy prices an H100 at 3.6 units per GPU-hour so one GPU for a 1 s block costs exactly
// 1000: prices in the tests stay readable.
func basePolicy() Policy {
	return Policy{
		Metro:          "FRA",
		Denom:          "uusdc",
		BasePerGPUHour: map[string]int64{sku: 3_600_000},
		FloorPerBlock:  1,
		BlockSeconds:   1,
		Evidence:       []markettypes.EvidenceType{markettypes.EVIDENCE_TYPE_NVIDIA_NRAS},
		SupportsWASM:   true,
		SupportsOCI:    true,
	}
}

// openOrder is an open order for n H100s in FRA with a ceiling high enough to never bind.
func openOrder(id uint64, n uint32) markettypes.Order {
	return markettypes.Order{
		Id:    id,
		State: markettypes.ORDER_STATE_OPEN,
		Requirements: markettypes.Requirements{
			GpuSku: sku, GpuCount: n, MinVramGib: 80, Metro: "FRA",
			Evidence: []markettypes.EvidenceType{markettypes.EVIDENCE_TYPE_NVIDIA_NRAS},
		},
		MaxPricePerBlock: sdk.NewInt64Coin("uusdc", 1_000_000_000),
		Workload:         markettypes.Workload{WasmHash: "ab"},
	}
}
