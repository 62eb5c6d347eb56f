package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/computed-network/computed/provider/attest"
	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/config"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

func evidenceFor(config.Config) []markettypes.EvidenceType {
	// Both collectors produce NVIDIA NRAS tokens.
	return []markettypes.EvidenceType{markettypes.EVIDENCE_TYPE_NVIDIA_NRAS}
}

// ensureProvider registers the provider in its metro if it is not, attests it if its record is
// missing or about to lapse, and tops its bond up to the configured amount.
func (d *Daemon) ensureProvider(ctx context.Context) error {
	aq := attesttypes.NewQueryClient(d.chain.Context())
	if _, err := ask(ctx, d, "query_provider", func() (*attesttypes.QueryProviderResponse, error) {
		return aq.Provider(ctx, &attesttypes.QueryProviderRequest{Operator: d.provider})
	}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Info("registering provider", "metro", d.cfg.Provider.Metro)
		if _, err := d.sendNow(ctx, "register", &attesttypes.MsgRegisterProvider{
			Operator: d.provider, Metro: d.cfg.Provider.Metro, Endpoint: d.cfg.Provider.Endpoint, HotKey: d.chain.Signer().String(),
		}); err != nil {
			return fmt.Errorf("register provider: %w", err)
		}
	}
	if err := d.attestAtStart(ctx); err != nil {
		return err
	}
	return d.ensureBond(ctx)
}

// attestAtStart attests before anything else only when no record is valid now. A record that is
// valid but due for renewal is renewed beside the watcher: attesting can take a while (an
// attestation service that does not answer is retried), and the leases resumed after this step
// have SLA reports, receipts and reveals due meanwhile.
func (d *Daemon) attestAtStart(ctx context.Context) error {
	left, ok := d.attestationLeft(ctx)
	switch {
	case !ok || left <= 0:
		return d.ensureAttested(ctx)
	case left <= int64(d.cfg.Attest.RenewBefore.Duration.Seconds()):
		d.renewAttestation(ctx)
	}
	return nil
}

// attestationLeft is how many seconds the provider's longest-lived record has left (false if
// it has none or the chain cannot say), and keeps that record's evidence hash for receipts.
func (d *Daemon) attestationLeft(ctx context.Context) (int64, bool) {
	res, err := attesttypes.NewQueryClient(d.chain.Context()).Attestation(ctx, &attesttypes.QueryAttestationRequest{Provider: d.provider})
	if err != nil || len(res.Records) == 0 {
		return 0, false
	}
	best := res.Records[0]
	for _, r := range res.Records[1:] {
		if r.ValidUntil > best.ValidUntil {
			best = r
		}
	}
	left := best.ValidUntil - time.Now().Unix()
	d.metrics.AttestationLeft.Set(float64(left))
	if left > 0 && d.tokenHash.Load() == nil {
		d.tokenHash.Store(&best.EvidenceHash)
	}
	return left, true
}

// ensureAttested attests unless a record is valid for longer than renew_before.
func (d *Daemon) ensureAttested(ctx context.Context) error {
	if left, ok := d.attestationLeft(ctx); ok && left > int64(d.cfg.Attest.RenewBefore.Duration.Seconds()) {
		return nil
	}
	d.log.Info("attesting")
	cres, err := d.sendNow(ctx, "challenge", &attesttypes.MsgRequestChallenge{Provider: d.provider})
	if err != nil {
		return fmt.Errorf("request challenge: %w", err)
	}
	id, err := strconv.ParseUint(chain.Attr(cres.Events, "computed.attest.v1.EventChallengeIssued", "challenge_id"), 10, 64)
	if err != nil {
		return fmt.Errorf("challenge id: %w", err)
	}
	nonce, err := hex.DecodeString(chain.Attr(cres.Events, "computed.attest.v1.EventChallengeIssued", "nonce"))
	if err != nil {
		return fmt.Errorf("challenge nonce: %w", err)
	}
	ev, err := d.collector.Collect(ctx, nonce)
	if err != nil {
		return fmt.Errorf("collect evidence: %w", err)
	}
	if ev.SignerKeysErr != nil {
		// Without them the evidence verifies only under kids params list: sent otherwise, the
		// chain refuses it and the fee is spent for nothing.
		if err := d.kidsListed(ctx, ev.Token); err != nil {
			return fmt.Errorf("NRAS signing keys unavailable (%v): %w", ev.SignerKeysErr, err)
		}
		d.log.Warn("NRAS signing keys unavailable; the kids the evidence names are listed in params", "err", ev.SignerKeysErr)
	}
	if _, err := d.sendNow(ctx, "attest", &attesttypes.MsgSubmitAttestation{
		Provider: d.provider, ChallengeId: id, EvidenceType: markettypes.EVIDENCE_TYPE_NVIDIA_NRAS, Evidence: ev.Token, Gpus: ev.GPUs,
		NrasSignerKeys: ev.SignerKeys,
	}); err != nil {
		return fmt.Errorf("submit attestation: %w", err)
	}
	sum := sha256.Sum256(ev.Token)
	hash := sum[:]
	d.tokenHash.Store(&hash)
	d.log.Info("attested", "gpus", len(ev.GPUs))
	return nil
}

// kidsListed is nil when every kid token's JWTs name is in the chain's params.nras_keys.
func (d *Daemon) kidsListed(ctx context.Context, token []byte) error {
	res, err := ask(ctx, d, "attest_params", func() (*attesttypes.QueryParamsResponse, error) {
		return attesttypes.NewQueryClient(d.chain.Context()).Params(ctx, &attesttypes.QueryParamsRequest{})
	})
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, k := range res.Params.NrasKeys {
		listed[k.Kid] = true
	}
	for _, kid := range attest.TokenKids(token) {
		if !listed[kid] {
			return fmt.Errorf("params.nras_keys does not list kid %q: not submitting evidence the chain would refuse", kid)
		}
	}
	return nil
}

// ensureBond bonds the difference between the configured bond and what is bonded.
func (d *Daemon) ensureBond(ctx context.Context) error {
	if d.cfg.Provider.Bond == "" {
		return nil
	}
	want, err := sdk.ParseCoinNormalized(d.cfg.Provider.Bond)
	if err != nil {
		return fmt.Errorf("provider.bond: %w", err)
	}
	res, err := slatypes.NewQueryClient(d.chain.Context()).Bond(ctx, &slatypes.QueryBondRequest{Provider: d.provider})
	if err != nil {
		return fmt.Errorf("query bond: %w", err)
	}
	have := res.Bond.Bonded.AmountOf(want.Denom)
	if have.GTE(want.Amount) {
		return nil
	}
	add := sdk.NewCoin(want.Denom, want.Amount.Sub(have))
	d.log.Info("bonding", "amount", add.String())
	if _, err := d.sendNow(ctx, "bond", &slatypes.MsgBond{Provider: d.provider, Amount: add}); err != nil {
		return fmt.Errorf("bond: %w", err)
	}
	return nil
}

// skipPruned moves a cursor the node can no longer serve the next height of (the sidecar was
// down, or fell behind, for longer than the node keeps blocks) to the node's earliest height.
// What the skipped blocks would have told is read from the chain's current state instead:
// resume has re-checked every lease the store says runs, and catchUp lists the open orders and
// active leases. Windows whose report deadline passed in the gap were judged without a report;
// nothing can change that.
func (d *Daemon) skipPruned(ctx context.Context, cursor int64) (int64, error) {
	first, err := ask(ctx, d, "node_status", func() (int64, error) { return d.watcher.Earliest(ctx) })
	if err != nil {
		return 0, fmt.Errorf("node: %w", err)
	}
	if cursor+1 >= first {
		return cursor, nil
	}
	d.log.Warn("the node pruned blocks the sidecar had not read; going on at its earliest and reading open orders, bids and leases from current state",
		"cursor", cursor, "earliest", first, "skipped", first-1-cursor)
	if err := d.store.SetCursor(first - 1); err != nil {
		return 0, err
	}
	return first - 1, nil
}

// catchUp pages through what happened while the sidecar was away: its own open bids (their
// GPUs reserved again), the provider's active leases (resume adopts the ones in the store;
// others are started) and open orders to bid on.
func (d *Daemon) catchUp(ctx context.Context) error {
	if err := d.adoptOpenBids(ctx); err != nil {
		return err
	}
	mq := markettypes.NewQueryClient(d.chain.Context())
	// Won leases first: their GPUs are theirs, not free for a bid on an open order.
	var key []byte
	for {
		res, err := mq.Leases(ctx, &markettypes.QueryLeasesRequest{Provider: d.provider, State: markettypes.LEASE_STATE_ACTIVE, Pagination: &query.PageRequest{Key: key, Limit: 100}})
		if err != nil {
			return fmt.Errorf("list leases: %w", err)
		}
		for _, l := range res.Leases {
			d.runLease(ctx, l.Id, "start lease") // a no-op for one already running
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			break
		}
		key = res.Pagination.NextKey
	}
	key = nil
	for {
		res, err := mq.Orders(ctx, &markettypes.QueryOrdersRequest{State: markettypes.ORDER_STATE_OPEN, Pagination: &query.PageRequest{Key: key, Limit: 100}})
		if err != nil {
			return fmt.Errorf("list open orders: %w", err)
		}
		for _, o := range res.Orders {
			d.considerOrder(ctx, o)
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return nil
		}
		key = res.Pagination.NextKey
	}
}

// adoptOpenBids reserves the GPUs of the provider's bids still open on chain, placed before a
// restart, and learns their ids: such a bid may still win, so its GPUs must not be bid again
// on another order, and its loss releases them.
func (d *Daemon) adoptOpenBids(ctx context.Context) error {
	bids, err := d.ownOpenBids(ctx)
	if err != nil {
		return err
	}
	mq := markettypes.NewQueryClient(d.chain.Context())
	for _, b := range bids {
		o, err := mq.Order(ctx, &markettypes.QueryOrderRequest{Id: b.OrderId})
		if err != nil {
			return fmt.Errorf("order %d of open bid %d: %w", b.OrderId, b.Id, err)
		}
		if _, ok := d.engine.Adopt(o.Order); !ok {
			d.log.Warn("open bid kept without GPUs: too few free", "bid", b.Id, "order", b.OrderId, "needs", o.Order.Requirements.GpuCount)
		}
		d.keepBid(b.Id, b.OrderId)
	}
	return nil
}

// ownOpenBids pages through the provider's bids open on chain.
func (d *Daemon) ownOpenBids(ctx context.Context) ([]markettypes.Bid, error) {
	mq := markettypes.NewQueryClient(d.chain.Context())
	var out []markettypes.Bid
	var key []byte
	for {
		res, err := mq.Bids(ctx, &markettypes.QueryBidsRequest{Provider: d.provider, State: markettypes.BID_STATE_OPEN, Pagination: &query.PageRequest{Key: key, Limit: 100}})
		if err != nil {
			return nil, fmt.Errorf("list own open bids: %w", err)
		}
		out = append(out, res.Bids...)
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		key = res.Pagination.NextKey
	}
}
