package bid

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func uuids(t *testing.T, idx ...int) []string {
	t.Helper()
	devs := h100Devices(t)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = devs[j].UUID
	}
	return out
}

// TestReservation: GPUs promised in an open bid are not promised again until released.
func TestReservation(t *testing.T) {
	devs := h100Devices(t)
	e := New(basePolicy(), devs)

	a := e.Evaluate(openOrder(1, 6))
	// Lowest indexes first, so allocations are predictable for the operator.
	if !a.Bid || !slices.Equal(a.GPUs, uuids(t, 0, 1, 2, 3, 4, 5)) {
		t.Fatalf("order 1: %+v", a)
	}
	if got := e.Held(1); !slices.Equal(got, slices.Sorted(slices.Values(a.GPUs))) {
		t.Fatalf("Held(1) = %v, want %v", got, a.GPUs)
	}
	if b := e.Evaluate(openOrder(2, 4)); b.Bid || !strings.Contains(b.Reason, "2 free") {
		t.Fatalf("order 2 needs GPUs order 1 holds: %+v", b)
	}
	if c := e.Evaluate(openOrder(3, 2)); !c.Bid || !slices.Equal(c.GPUs, uuids(t, 6, 7)) {
		t.Fatalf("order 3 fits in what is left: %+v", c)
	}
	// A second event for the same order must not double-book it.
	if again := e.Evaluate(openOrder(1, 1)); again.Bid || !strings.Contains(again.Reason, "already bidding on order 1") {
		t.Fatalf("order 1 again: %+v", again)
	}
	if e.Reserved() != 8 {
		t.Fatalf("Reserved() = %d, want 8", e.Reserved())
	}

	e.Release(1)
	if e.Reserved() != 2 || len(e.Held(1)) != 0 || len(e.Held(3)) != 2 {
		t.Fatalf("after Release(1): reserved %d, held(1) %v, held(3) %v", e.Reserved(), e.Held(1), e.Held(3))
	}
	if b := e.Evaluate(openOrder(2, 4)); !b.Bid || !slices.Equal(b.GPUs, uuids(t, 0, 1, 2, 3)) {
		t.Fatalf("order 2 after release: %+v", b)
	}
	// Releasing an order with nothing held is harmless.
	e.Release(42)
	if e.Reserved() != 6 {
		t.Fatalf("Release of an unknown order changed Reserved() to %d", e.Reserved())
	}
}

// TestHold: re-attaching a running lease after a restart takes exactly those GPUs out of the
// pool, and the held order counts as already bid on.
func TestHold(t *testing.T) {
	e := New(basePolicy(), h100Devices(t))
	held := uuids(t, 0, 2, 4, 6)
	e.Hold(5, held)
	if got := e.Held(5); !slices.Equal(got, slices.Sorted(slices.Values(held))) {
		t.Fatalf("Held(5) = %v, want %v", got, held)
	}
	d := e.Evaluate(openOrder(6, 4))
	if !d.Bid || !slices.Equal(d.GPUs, uuids(t, 1, 3, 5, 7)) {
		t.Fatalf("order 6 must get the GPUs not held: %+v", d)
	}
	if d := e.Evaluate(openOrder(5, 1)); d.Bid {
		t.Fatalf("order 5 is held already: %+v", d)
	}
	e.Release(5)
	if d := e.Evaluate(openOrder(7, 4)); !d.Bid || !slices.Equal(d.GPUs, held) {
		t.Fatalf("after Release(5): %+v", d)
	}
}

// TestHoldDisplaces: a running lease re-attached after a restart takes its GPUs even from an
// open bid that reserved them meanwhile; Hold names that order, and if its bid wins, Adopt tops
// its reservation back up from free GPUs instead of running it short.
func TestHoldDisplaces(t *testing.T) {
	e := New(basePolicy(), h100Devices(t))
	d := e.Evaluate(openOrder(6, 4))
	if !d.Bid || !slices.Equal(d.GPUs, uuids(t, 0, 1, 2, 3)) {
		t.Fatalf("order 6: %+v", d)
	}
	if got := e.Hold(5, uuids(t, 2, 3, 4)); !slices.Equal(got, []uint64{6}) {
		t.Fatalf("Hold displaced %v, want [6]", got)
	}
	if got := e.Hold(5, uuids(t, 2, 3, 4)); len(got) != 0 {
		t.Fatalf("holding its own GPUs again displaced %v", got)
	}
	if got := e.Held(6); !slices.Equal(got, uuids(t, 0, 1)) {
		t.Fatalf("order 6 keeps %v, want GPUs 0 and 1", got)
	}
	got, ok := e.Adopt(openOrder(6, 4))
	if want := slices.Sorted(slices.Values(uuids(t, 0, 1, 5, 6))); !ok || !slices.Equal(got, want) {
		t.Fatalf("Adopt after displacement = %v, %v; want %v", got, ok, want)
	}
	// Short by more than is free: nothing more is reserved, and what is held comes back.
	if got, ok := e.Adopt(openOrder(5, 5)); ok || !slices.Equal(got, e.Held(5)) || len(got) != 3 {
		t.Fatalf("Adopt short of free GPUs: %v, %v, held %v", got, ok, e.Held(5))
	}
	if got := e.Owners(5, uuids(t, 0, 2, 7)); len(got) != 1 || got[uuids(t, 0)[0]] != 6 {
		t.Fatalf("Owners = %v, want GPU 0 held for order 6", got)
	}
}

// TestSetDevices: the inventory can shrink under the engine (a GPU falls off the bus).
func TestSetDevices(t *testing.T) {
	devs := h100Devices(t)
	e := New(basePolicy(), devs)
	e.SetDevices(devs[:2])
	if d := e.Evaluate(openOrder(1, 3)); d.Bid || !strings.Contains(d.Reason, "2 free") {
		t.Fatalf("3 GPUs on a 2-GPU inventory: %+v", d)
	}
	e.SetDevices(devs)
	if d := e.Evaluate(openOrder(1, 3)); !d.Bid {
		t.Fatalf("3 GPUs on the full inventory: %+v", d)
	}
}

// TestConcurrentEvaluate: the daemon evaluates orders from several goroutines; no GPU may be
// promised to two orders.
func TestConcurrentEvaluate(t *testing.T) {
	e := New(basePolicy(), h100Devices(t))
	var (
		mu    sync.Mutex
		given = map[string]uint64{}
		bids  int
		wg    sync.WaitGroup
	)
	for id := uint64(1); id <= 32; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := e.Evaluate(openOrder(id, 1))
			mu.Lock()
			defer mu.Unlock()
			if !d.Bid {
				return
			}
			bids++
			for _, u := range d.GPUs {
				if other, dup := given[u]; dup {
					t.Errorf("GPU %s given to orders %d and %d", u, other, id)
				}
				given[u] = id
			}
		}()
	}
	wg.Wait()
	if bids != 8 || e.Reserved() != 8 {
		t.Fatalf("%d bids, %d reserved; want 8 of each", bids, e.Reserved())
	}
}

// TestAdopt: an open bid from before a restart gets its GPUs back whatever the policy says now
// (here a ceiling below the price), and then blocks a rival order as any open bid does.
func TestAdopt(t *testing.T) {
	e := New(basePolicy(), h100Devices(t))
	e.Hold(9, uuids(t, 0, 1)) // a running lease re-attached first
	o := openOrder(1, 6)
	o.MaxPricePerBlock.Amount = o.MaxPricePerBlock.Amount.QuoRaw(1_000_000_000) // 1: we would not bid now
	got, ok := e.Adopt(o)
	if !ok || !slices.Equal(got, uuids(t, 2, 3, 4, 5, 6, 7)) {
		t.Fatalf("Adopt = %v, %v", got, ok)
	}
	if again, ok := e.Adopt(o); !ok || !slices.Equal(again, slices.Sorted(slices.Values(got))) {
		t.Fatalf("Adopt again = %v, %v: want the same GPUs", again, ok)
	}
	if d := e.Evaluate(openOrder(2, 1)); d.Bid || !strings.Contains(d.Reason, "0 free") {
		t.Fatalf("rival order: %+v", d)
	}
	if d := e.Evaluate(openOrder(1, 6)); d.Bid || !strings.Contains(d.Reason, "already bidding on order 1") {
		t.Fatalf("the adopted order itself: %+v", d)
	}
	// Too few free GPUs: nothing is reserved.
	e.Release(1)
	e.Hold(8, uuids(t, 2, 3, 4))
	if got, ok := e.Adopt(openOrder(3, 6)); ok || got != nil || len(e.Held(3)) != 0 {
		t.Fatalf("Adopt with 3 free of 6: %v, %v, held %v", got, ok, e.Held(3))
	}
	// What a resync checks against the chain: every order GPUs are held for, once each.
	if got := e.Orders(); !slices.Equal(got, []uint64{8, 9}) {
		t.Fatalf("Orders = %v, want [8 9]", got)
	}
}
