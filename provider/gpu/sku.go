package gpu

import (
	"strconv"
	"strings"
)

// Form factors in SKU strings.
const (
	formSXM  = "SXM"
	formPCIe = "PCIE"
	formNVL  = "NVL"
)

// sxmByDefault lists models whose SXM parts NVML names without a form factor
// ("NVIDIA H100 80GB HBM3", "NVIDIA H200"); their PCIe and NVL parts always say so.
var sxmByDefault = map[string]bool{
	"H100": true, "H200": true, "H800": true, "H20": true,
	"B100": true, "B200": true, "B300": true,
	"GH200": true, "GB200": true,
}

// superchips name their CPU and GPU memory together ("NVIDIA GH200 480GB"): the GPU's own size
// is what NVML reports, not what the name says.
var superchips = map[string]bool{"GH200": true, "GB200": true}

// marketedGiB lists marketed sizes that rounding the reported memory does not reproduce
// (an H200 reports 143771 MiB, 140.4 GiB, but is sold as 141GB), so orders for "H200-SXM-141GB"
// match what the provider advertises.
var marketedGiB = map[string][]uint64{
	"H200":  {141},
	"B200":  {180},
	"GH200": {96, 144},
}

// brandWords are dropped from the model: they name a product line, not a GPU.
var brandWords = map[string]bool{"NVIDIA": true, "TESLA": true, "GEFORCE": true, "QUADRO": true}

// SKU derives the market's SKU, "<MODEL>-<FORM>-<GiB>GB", from the name and memory NVML reports:
// "NVIDIA H100 80GB HBM3" → "H100-SXM-80GB", "NVIDIA H100 PCIe" (81559 MiB) → "H100-PCIE-80GB".
// The size is the one the name carries ("80GB") when it carries one, else the reported memory
// rounded to the nearest GiB. Names it does not know still give a stable SKU: the upper-cased
// model with anything but letters and digits removed, and PCIE as the form.
func SKU(name string, memoryMiB uint64) string {
	model, form, gib := parseName(name, memoryMiB)
	return model + "-" + form + "-" + strconv.FormatUint(gib, 10) + "GB"
}

// vramGiB is the size part of the SKU.
func vramGiB(name string, memoryMiB uint64) uint32 {
	_, _, gib := parseName(name, memoryMiB)
	if gib > uint64(^uint32(0)) {
		return ^uint32(0)
	}
	return uint32(gib)
}

func parseName(name string, memoryMiB uint64) (model, form string, gib uint64) {
	var (
		modelParts []string
		hbm3       bool
	)
	for _, tok := range strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return r == ' ' || r == '-' || r == '_' || r == '\t'
	}) {
		switch {
		case brandWords[tok]:
		case tok == "PCIE":
			form = formPCIe
		case tok == "NVL":
			form = formNVL
		case strings.HasPrefix(tok, "SXM") && allDigits(tok[3:]):
			form = formSXM
		case strings.HasPrefix(tok, "HBM"):
			// Only the SXM H100 names its memory type instead of its form.
			hbm3 = hbm3 || strings.HasPrefix(tok, "HBM3")
		case strings.HasSuffix(tok, "GB") && len(tok) > 2 && allDigits(tok[:len(tok)-2]):
			gib, _ = strconv.ParseUint(tok[:len(tok)-2], 10, 64)
		case strings.HasSuffix(tok, "G") && len(tok) > 1 && allDigits(tok[:len(tok)-1]):
			gib, _ = strconv.ParseUint(tok[:len(tok)-1], 10, 64) // "NVIDIA GH200 144G HBM3e"
		default:
			if s := sanitize(tok); s != "" {
				modelParts = append(modelParts, s)
			}
		}
	}
	model = strings.Join(modelParts, "")
	if model == "" {
		model = "UNKNOWN"
	}
	if form == "" {
		if sxmByDefault[model] || hbm3 {
			form = formSXM
		} else {
			form = formPCIe
		}
	}
	if gib == 0 || superchips[model] {
		gib = roundGiB(model, memoryMiB)
	}
	return model, form, gib
}

func roundGiB(model string, memoryMiB uint64) uint64 {
	gib := (memoryMiB + 512) / 1024
	// Within 2 GiB of a marketed size is that size: the reported figure sits a little under
	// the marketed one after ECC and reserved memory.
	for _, m := range marketedGiB[model] {
		if gib+2 >= m && gib <= m+2 {
			return m
		}
	}
	return gib
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func sanitize(tok string) string {
	var b strings.Builder
	for _, r := range tok {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
