// Package bid decides which orders the sidecar bids on and at what price: it fits an order's
// requirements to free GPUs and prices the bid by the operator's policy, never below the floor
// nor above the order's ceiling. GPUs are reserved while a bid is open and released on loss.
package bid

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/gpu"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// Policy is the operator's pricing policy.
type Policy struct {
	// Metro the provider serves (it is registered there on chain).
	Metro string
	// Denom the provider accepts; orders in another denom are skipped.
	Denom string
	// BasePerGPUHour is the per-SKU list price of one GPU for one hour, in Denom's base unit.
	BasePerGPUHour map[string]int64
	// MetroMultiplierBps scales the base price for this metro (10000 = 1x).
	MetroMultiplierBps int64
	// UtilisationScalingBps raises the price by this fraction at full reservation (0 = flat):
	// price × (1 + scaling × reserved/total).
	UtilisationScalingBps int64
	// FloorPerBlock is the lowest price per block the provider ever bids.
	FloorPerBlock int64
	// BlockSeconds converts per-hour prices to per-block prices.
	BlockSeconds int64
	// Evidence the provider holds (orders requiring other types are skipped).
	Evidence []markettypes.EvidenceType
	// SupportsWASM / SupportsOCI say which workloads the configured executors can run.
	SupportsWASM, SupportsOCI bool
}

// Decision is the engine's answer for one order.
type Decision struct {
	Bid    bool
	Price  sdk.Coin
	GPUs   []string
	Reason string
}

// Engine fits orders to the inventory. It is safe for concurrent use.
type Engine struct {
	policy Policy
	mu     sync.Mutex
	// reserved maps GPU UUID → the order it is held for (an open bid or a running lease).
	reserved map[string]uint64
	devices  []gpu.Device
}

// New returns an engine over devices.
func New(policy Policy, devices []gpu.Device) *Engine {
	if policy.BlockSeconds <= 0 {
		policy.BlockSeconds = 1
	}
	if policy.MetroMultiplierBps <= 0 {
		policy.MetroMultiplierBps = 10_000
	}
	return &Engine{policy: policy, reserved: map[string]uint64{}, devices: devices}
}

// SetDevices replaces the inventory (GPUs appear, vanish or change utilisation).
func (e *Engine) SetDevices(devices []gpu.Device) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.devices = devices
}

// Evaluate decides on order o and, when it bids, reserves the GPUs for it.
func (e *Engine) Evaluate(o markettypes.Order) Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	req := o.Requirements
	skip := func(format string, a ...any) Decision { return Decision{Reason: fmt.Sprintf(format, a...)} }
	switch {
	case o.State != markettypes.ORDER_STATE_OPEN:
		return skip("order %d is %s", o.Id, o.State)
	case req.Metro != e.policy.Metro:
		return skip("metro %s, we serve %s", req.Metro, e.policy.Metro)
	case o.MaxPricePerBlock.Denom != e.policy.Denom:
		return skip("priced in %s, we take %s", o.MaxPricePerBlock.Denom, e.policy.Denom)
	case o.Workload.WasmHash != "" && !e.policy.SupportsWASM:
		return skip("WASM workload, no wasm executor")
	case o.Workload.OciDigest != "" && !e.policy.SupportsOCI:
		return skip("OCI workload, no docker executor")
	}
	for _, t := range req.Evidence {
		if !e.holds(t) {
			return skip("order requires %s evidence", t)
		}
	}
	for _, id := range e.reserved {
		if id == o.Id {
			return skip("already bidding on order %d", o.Id)
		}
	}
	free := e.free(req)
	if uint32(len(free)) < req.GpuCount || req.GpuCount == 0 {
		return skip("needs %d x %s (>= %d GiB), %d free", req.GpuCount, req.GpuSku, req.MinVramGib, len(free))
	}
	base, ok := e.policy.BasePerGPUHour[req.GpuSku]
	if !ok {
		return skip("no price for %s", req.GpuSku)
	}
	price := e.price(base, int64(req.GpuCount))
	if price.LT(sdkmath.NewInt(e.policy.FloorPerBlock)) {
		price = sdkmath.NewInt(e.policy.FloorPerBlock)
	}
	if price.GT(o.MaxPricePerBlock.Amount) {
		return skip("our price %s%s is above the ceiling %s", price, e.policy.Denom, o.MaxPricePerBlock)
	}
	return Decision{Bid: true, Price: sdk.NewCoin(e.policy.Denom, price), GPUs: e.reserve(o.Id, free[:req.GpuCount])}
}

// free lists the unreserved GPUs that meet req's SKU and VRAM, lowest index first.
func (e *Engine) free(req markettypes.Requirements) []gpu.Device {
	var free []gpu.Device
	for _, d := range e.devices {
		if d.SKU == req.GpuSku && d.VRAMGiB >= req.MinVramGib {
			if _, held := e.reserved[d.UUID]; !held {
				free = append(free, d)
			}
		}
	}
	sort.Slice(free, func(i, j int) bool { return free[i].Index < free[j].Index })
	return free
}

func (e *Engine) reserve(orderID uint64, devices []gpu.Device) []string {
	uuids := make([]string, len(devices))
	for i, d := range devices {
		uuids[i] = d.UUID
		e.reserved[d.UUID] = orderID
	}
	return uuids
}

// Adopt reserves GPUs for an open bid the engine did not place (one sent before a restart):
// as many free GPUs of the order's SKU and VRAM as it asks for, whatever the price or policy
// now, since the bid may still win. GPUs already held for the order count, and a hold that a
// running lease's Hold cut short is topped up. It returns the GPUs held for the order, and false
// when too few are free to make up the count (nothing more is then reserved, and what was held
// stays held, returned, for the caller to use or release).
func (e *Engine) Adopt(o markettypes.Order) ([]string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var held []string
	for u, id := range e.reserved {
		if id == o.Id {
			held = append(held, u)
		}
	}
	req := o.Requirements
	if len(held) > 0 && uint32(len(held)) >= req.GpuCount {
		sort.Strings(held)
		return held, true
	}
	need := int(req.GpuCount) - len(held)
	free := e.free(req)
	if req.GpuCount == 0 || len(free) < need {
		sort.Strings(held)
		return held, false
	}
	if len(held) == 0 {
		return e.reserve(o.Id, free[:need]), true
	}
	held = append(held, e.reserve(o.Id, free[:need])...)
	sort.Strings(held)
	return held, true
}

// price is base per GPU-hour × GPUs × block seconds / 3600, times the metro multiplier, times
// the utilisation scaling. Integer arithmetic throughout; rounding is up so the provider never
// undercuts its own list price.
func (e *Engine) price(basePerGPUHour, gpus int64) sdkmath.Int {
	p := sdkmath.NewInt(basePerGPUHour).MulRaw(gpus).MulRaw(e.policy.BlockSeconds).MulRaw(e.policy.MetroMultiplierBps)
	den := sdkmath.NewInt(3600 * 10_000)
	total := int64(len(e.devices))
	if total > 0 && e.policy.UtilisationScalingBps > 0 {
		// Scale numerator and denominator and divide once: truncating the scaled price first
		// could lose a fraction and round the result down by a unit.
		p = p.MulRaw(10_000*total + e.policy.UtilisationScalingBps*int64(len(e.reserved)))
		den = den.MulRaw(total * 10_000)
	}
	return p.Add(den).SubRaw(1).Quo(den)
}

func (e *Engine) holds(t markettypes.EvidenceType) bool {
	for _, h := range e.policy.Evidence {
		if h == t {
			return true
		}
	}
	return false
}

// Hold reserves specific GPUs for an order (re-attaching a running lease after a restart).
// A running workload has those GPUs whatever else wanted them, so Hold takes them from any
// other order's reservation and returns those orders, ascending, for the caller to report;
// their bids re-fit with Adopt if they win.
func (e *Engine) Hold(orderID uint64, uuids []string) (displaced []uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, u := range uuids {
		if prev, ok := e.reserved[u]; ok && prev != orderID && !slices.Contains(displaced, prev) {
			displaced = append(displaced, prev)
		}
		e.reserved[u] = orderID
	}
	slices.Sort(displaced)
	return displaced
}

// Owners returns, of uuids, those held for an order other than orderID, with that order.
func (e *Engine) Owners(orderID uint64, uuids []string) map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]uint64{}
	for _, u := range uuids {
		if prev, ok := e.reserved[u]; ok && prev != orderID {
			out[u] = prev
		}
	}
	return out
}

// Release frees the GPUs held for an order (bid lost, lease closed).
func (e *Engine) Release(orderID uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for u, id := range e.reserved {
		if id == orderID {
			delete(e.reserved, u)
		}
	}
}

// Held returns the GPUs held for an order.
func (e *Engine) Held(orderID uint64) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for u, id := range e.reserved {
		if id == orderID {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

// Orders lists the orders GPUs are held for, ascending.
func (e *Engine) Orders() []uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []uint64
	for _, id := range e.reserved {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Reserved is how many GPUs are held.
func (e *Engine) Reserved() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.reserved)
}
