package types

import (
	"fmt"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultParams suit a chain with ~1 s blocks: bidding windows of 5 s to 1 h.
func DefaultParams() Params {
	return Params{
		MinBiddingWindowBlocks: 5,
		MaxBiddingWindowBlocks: 3600,
		MaxBidsPerOrder:        32,
		MaxReplicas:            7,
		BidDeposit:             sdk.NewCoin(sdk.DefaultBondDenom, sdkmath.NewInt(1_000_000)),
		PriceEmaWeightBps:      2000,
		MaxClearingsPerBlock:   500,
	}
}

// Validate rejects params that would make auctions impossible or unbounded.
func (p Params) Validate() error {
	if p.MinBiddingWindowBlocks == 0 {
		return fmt.Errorf("min_bidding_window_blocks must be positive")
	}
	if p.MaxBiddingWindowBlocks < p.MinBiddingWindowBlocks {
		return fmt.Errorf("max_bidding_window_blocks (%d) is below min_bidding_window_blocks (%d)",
			p.MaxBiddingWindowBlocks, p.MinBiddingWindowBlocks)
	}
	if p.MaxBiddingWindowBlocks > MaxDurationBlocks {
		// now + window is an order's closing height: beyond this it could wrap negative and
		// the order would clear in the block it was created.
		return fmt.Errorf("max_bidding_window_blocks must be at most %d, got %d", MaxDurationBlocks, p.MaxBiddingWindowBlocks)
	}
	if p.MaxBidsPerOrder == 0 || p.MaxBidsPerOrder > 1000 {
		return fmt.Errorf("max_bids_per_order must be in 1..1000, got %d", p.MaxBidsPerOrder)
	}
	if p.MaxReplicas == 0 || p.MaxReplicas > p.MaxBidsPerOrder {
		return fmt.Errorf("max_replicas must be in 1..max_bids_per_order (%d), got %d", p.MaxBidsPerOrder, p.MaxReplicas)
	}
	if err := p.BidDeposit.Validate(); err != nil {
		return fmt.Errorf("bid_deposit: %w", err)
	}
	if p.PriceEmaWeightBps == 0 || p.PriceEmaWeightBps > 10_000 {
		return fmt.Errorf("price_ema_weight_bps must be in 1..10000, got %d", p.PriceEmaWeightBps)
	}
	if p.MaxClearingsPerBlock == 0 || p.MaxClearingsPerBlock > 100_000 {
		return fmt.Errorf("max_clearings_per_block must be in 1..100000, got %d", p.MaxClearingsPerBlock)
	}
	return nil
}
