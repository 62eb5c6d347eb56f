package gpu

import "testing"

func TestSKU(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mib    uint64
		want   string
		wantGB uint32
	}{
		{"NVIDIA H100 80GB HBM3", 81559, "H100-SXM-80GB", 80},
		{"NVIDIA H100 PCIe", 81559, "H100-PCIE-80GB", 80},
		{"NVIDIA H100 NVL", 95830, "H100-NVL-94GB", 94},
		{"NVIDIA H200", 143771, "H200-SXM-141GB", 141},
		{"NVIDIA A100-SXM4-80GB", 81920, "A100-SXM-80GB", 80},
		{"NVIDIA A100-PCIE-40GB", 40960, "A100-PCIE-40GB", 40},
		{"NVIDIA A100 80GB PCIe", 81920, "A100-PCIE-80GB", 80},
		{"NVIDIA L40S", 46068, "L40S-PCIE-45GB", 45},
		{"NVIDIA L4", 23034, "L4-PCIE-22GB", 22},
		// A superchip's name carries CPU and GPU memory together: the GPU's is what NVML reports.
		{"NVIDIA GH200 480GB", 97871, "GH200-SXM-96GB", 96},
		{"NVIDIA GH200 144G HBM3e", 146831, "GH200-SXM-144GB", 144},
		// The name's marketed size wins over what NVML measures.
		{"NVIDIA A100-SXM4-40GB", 40536, "A100-SXM-40GB", 40},
		// Unknown names: upper-cased, sanitised model, PCIE by default, rounded size.
		{"NVIDIA GeForce RTX 4090", 24564, "RTX4090-PCIE-24GB", 24},
		{"Tesla V100-SXM2-16GB", 16384, "V100-SXM-16GB", 16},
		{"Some Vendor's  X/1 (beta)", 2048, "SOMEVENDORSX1BETA-PCIE-2GB", 2},
		{"", 0, "UNKNOWN-PCIE-0GB", 0},
	} {
		if got := SKU(tc.name, tc.mib); got != tc.want {
			t.Errorf("SKU(%q, %d) = %q, want %q", tc.name, tc.mib, got, tc.want)
		}
		if got := vramGiB(tc.name, tc.mib); got != tc.wantGB {
			t.Errorf("vramGiB(%q, %d) = %d, want %d", tc.name, tc.mib, got, tc.wantGB)
		}
	}
}
