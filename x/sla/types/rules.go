package types

import (
	"crypto/sha256"
	"math"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/computed-network/computed/x/market/types"
)

// The rules below are pure functions of stored values, so clients (the sidecar, the CLI) and the
// chain compute the same windows, penalties and commitments.

// WindowEnd is the last height of window w (from 1) of a lease that started at start (a block
// height, never negative): window w covers heights (start + (w-1)*length, start + w*length]. A
// window that would end beyond the largest height gets math.MaxInt64, so it never ends; letting
// the product wrap would put its end in the past and have it judged, and penalised, at once.
func WindowEnd(start int64, length uint64, w uint64) int64 {
	room := uint64(math.MaxInt64 - start)
	if length != 0 && w > room/length {
		return math.MaxInt64
	}
	return start + int64(w*length)
}

// WindowStart is the first height of window w (from 1): the block after window w-1's end.
func WindowStart(start int64, length uint64, w uint64) int64 {
	if w == 0 {
		return start
	}
	prev := WindowEnd(start, length, w-1)
	if prev == math.MaxInt64 {
		return math.MaxInt64
	}
	return prev + 1
}

// WindowDue is the height in whose EndBlock window w is judged: its last block plus the grace
// the provider has to report it (saturating like WindowEnd).
func WindowDue(start int64, length uint64, w uint64, grace uint64) int64 {
	end := WindowEnd(start, length, w)
	if grace > uint64(math.MaxInt64-end) {
		return math.MaxInt64
	}
	return end + int64(grace)
}

// WindowPenalty is what a breached window costs the provider: penalty_bps of what the buyer pays
// for one window at the lease's price.
func WindowPenalty(price sdk.Coin, terms markettypes.SLATerms) sdk.Coin {
	amt := price.Amount.Mul(sdkmath.NewIntFromUint64(terms.WindowBlocks)).
		Mul(sdkmath.NewInt(int64(terms.PenaltyBps))).QuoRaw(10_000)
	return sdk.NewCoin(price.Denom, amt)
}

// Breaches reports whether stats miss terms: P95 latency above the bound (when one is set) or
// availability below it.
func Breaches(terms markettypes.SLATerms, s WindowStats) bool {
	if terms.P95LatencyMs > 0 && s.P95LatencyUs > uint64(terms.P95LatencyMs)*1000 {
		return true
	}
	return s.AvailabilityBps < terms.AvailabilityBps
}

// NextReputation folds one window's attainment (10000 met, 0 breached) into a score as an
// integer EMA with weight bps, rounded towards the attainment: rounding always down would stall
// a provider that meets every window short of 10000 (at 9991 with a 10% weight), and orders
// asking for more could never be served.
func NextReputation(score, attainment, weightBps uint32) uint32 {
	sum := uint64(score)*uint64(10_000-weightBps) + uint64(attainment)*uint64(weightBps)
	next := sum / 10_000
	if attainment > score && sum%10_000 != 0 {
		next++
	}
	return uint32(next)
}

// Commitment is what a replica commits: SHA-256(result digest || provider address bytes || salt).
// Binding the provider stops one replica from copying another's commitment.
func Commitment(resultDigest []byte, provider sdk.AccAddress, salt []byte) []byte {
	h := sha256.New()
	h.Write(resultDigest)
	h.Write(provider)
	h.Write(salt)
	return h.Sum(nil)
}

// Replicated reports whether an order runs as a replicated deterministic job.
func Replicated(o markettypes.Order) bool { return o.Replicated() }

// WindowAt is the window (from 1) holding height h of a lease started at start with windows of
// length blocks; window 1 for h at or before the lease's first window.
func WindowAt(start int64, length uint64, h int64) uint64 {
	if length == 0 || h <= start {
		return 1
	}
	return uint64(h-start-1)/length + 1
}

// AddHeight is h + n, clamped to math.MaxInt64.
func AddHeight(h int64, n uint64) int64 {
	if n > uint64(math.MaxInt64-h) {
		return math.MaxInt64
	}
	return h + int64(n)
}
