package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/ingress"
	"github.com/computed-network/computed/provider/receipts"
	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// receiptPending turns the requests served since the last receipt into one receipt: one unit of
// work per block interval, committing to the requests' samples (input) and their statuses
// (output), priced at the lease's rate for one block.
func (d *Daemon) receiptPending(run *leaseRun, h int64) {
	run.receiptMu.Lock()
	defer run.receiptMu.Unlock()
	d.receipt(run, 0, run.lease.PricePerBlock, h)
}

// defaultMaxRequests caps the requests one receipt holds where receipts.max_requests is unset:
// 64 Ki requests (2 MiB pending, 1.2 MiB of samples), 13 s at 5,000 requests a second.
const defaultMaxRequests = 1 << 16

func (d *Daemon) maxRequests() int {
	if n := d.cfg.Receipts.MaxRequests; n > 0 {
		return n
	}
	return defaultMaxRequests
}

// receiptFull receipts the requests pending once there are maxRequests of them before the
// next block, so what waits for a block stays bounded in memory however long the node or
// chain is gone. The block's own receipt still carries its price: this part of its interval
// is priced zero and names the block that pays for it, the next one.
func (d *Daemon) receiptFull(run *leaseRun) {
	run.receiptMu.Lock()
	defer run.receiptMu.Unlock()
	if run.unanchorable.Load() || d.stopped.Load() {
		return // finishLease drops them; a stopping sidecar leaves them in the journal
	}
	free := sdk.NewCoin(run.lease.PricePerBlock.Denom, sdkmath.ZeroInt())
	d.receipt(run, d.maxRequests(), free, d.height.Load()+1)
}

// receipt makes receiptPending's and receiptFull's receipts, under run.receiptMu: one at a time,
// so receipts, the store's window data and the journal's segments follow the requests' order.
// With fewer than atLeast requests pending (a block's receipt took them first) it does nothing.
func (d *Daemon) receipt(run *leaseRun, atLeast int, price sdk.Coin, h int64) {
	run.mu.Lock()
	if len(run.pending) < atLeast {
		run.mu.Unlock()
		return
	}
	samples, probes, lastProbe := run.pending, run.probes, run.lastProbe
	run.pending, run.probes, run.lastProbe = nil, nil, 0
	reported := run.rec.LastReportedWindow
	sealed := sealJournal(run) // what was just taken is in segments up to sealed
	run.mu.Unlock()
	if len(samples) == 0 {
		// No receipt: the window data alone (the probes) is kept.
		windows := windowsToKeep(nil, nil, probes, reported)
		if len(windows) > 0 || lastProbe != 0 {
			if err := d.store.KeepWindows(run.rec.LeaseID, state.Measured{Windows: windows, LastProbeUnixMs: lastProbe, Journaled: sealed}); err != nil {
				d.log.Warn("window data", "lease", run.rec.LeaseID, "err", err)
				putBack(run, nil, probes, lastProbe)
				return
			}
			d.dropJournal(run, sealed)
		}
		return
	}
	in := make([]byte, 0, ingress.SampleSize*len(samples))
	out := sha256.New()
	start, end := samples[0].s.UnixMillis, samples[0].s.UnixMillis
	for _, ws := range samples {
		in = append(in, ingress.EncodeSample(ws.s)...)
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], ws.s.Status)
		out.Write(b[:])
		// Samples come in the order responses completed; a long request that completed last
		// may have started first. The work runs from the first start to the last completion.
		start, end = min(start, ws.s.UnixMillis), max(end, ws.s.UnixMillis+int64(ws.s.Micros/1000))
	}
	if price.IsPositive() {
		if !run.pricedKnown {
			// Read again next time if the store could not say.
			run.pricedThrough, run.pricedKnown = d.lastPriced(run.rec.LeaseID)
		}
		if h <= run.pricedThrough {
			price = sdk.NewCoin(price.Denom, sdkmath.ZeroInt()) // block h is charged already
		}
	}
	info := run.info
	if hash := d.tokenHash.Load(); hash != nil {
		info.AttestationTokenHash = *hash
	}
	_, err := d.builder.AppendWithSamples(info, receipts.Work{
		Start: time.UnixMilli(start), End: time.UnixMilli(end),
		Input: in, Output: out.Sum(nil), Price: price,
		SettlementRef: fmt.Sprintf("lease/%d@%d", run.rec.LeaseID, h),
	}, state.Measured{Windows: windowsToKeep(samples, in, probes, reported), LastProbeUnixMs: lastProbe, Journaled: sealed})
	if err != nil {
		// The next receipt tries them again (the journal keeps them until one is stored).
		d.log.Error("receipt", "lease", run.rec.LeaseID, "err", err)
		putBack(run, samples, probes, lastProbe)
		return
	}
	if price.IsPositive() {
		run.pricedThrough = h
	}
	d.dropJournal(run, sealed)
	d.batcher.Add(run.rec.LeaseID)
}

// lastPriced is the block lease's latest receipt with a price was made for (its settlement
// reference, lease/<id>@<height>), 0 if none (receipts made for full batches between blocks are
// priced zero and skipped), and whether the store could say.
func (d *Daemon) lastPriced(lease uint64) (int64, bool) {
	next, err := d.store.NextSequence(lease)
	if err != nil {
		return 0, false
	}
	for seq := next - 1; seq >= 1; seq-- {
		r, err := d.store.Receipt(lease, seq)
		if err != nil {
			return 0, false
		}
		if !r.Price.IsPositive() {
			continue
		}
		var id uint64
		var h int64
		if _, err := fmt.Sscanf(r.SettlementRef, "lease/%d@%d", &id, &h); err != nil || id != lease {
			return 0, false
		}
		return h, true
	}
	return 0, true
}

// putBack returns what a receipt failed to store to the front of what the next one takes.
// Without it, the next receipt's journal drop would delete the only other copy.
func putBack(run *leaseRun, samples []windowSample, probes []state.WindowData, lastProbe int64) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.pending = append(samples, run.pending...)
	for _, p := range run.probes {
		probes = addProbes(probes, p)
	}
	run.probes, run.lastProbe = probes, max(lastProbe, run.lastProbe)
}

// submitBatch anchors one batch; the batcher calls it in order and retries it unchanged.
func (d *Daemon) submitBatch(ctx context.Context, b state.Batch) (string, error) {
	msg := &slatypes.MsgSubmitReceiptBatch{
		Provider: d.provider, LeaseId: b.LeaseID, FirstSequence: b.First, LastSequence: b.Last, Count: b.Count,
		MerkleRoot: b.Root, Usage: sdk.NewCoin(b.Denom, b.Usage),
	}
	res, err := d.sendNow(ctx, "receipt_batch", msg)
	if err != nil {
		if strings.Contains(err.Error(), slatypes.ErrSequenceGap.Error()) && d.anchored(ctx, b) {
			return "", receipts.ErrAnchored
		}
		if containsErr(err, slatypes.ErrLeaseClosed) || containsErr(err, slatypes.ErrLeaseNotFound) {
			return "", fmt.Errorf("%w: %w", receipts.ErrLeaseEnded, err)
		}
		return "", err
	}
	d.metrics.BatchesPosted.Inc()
	d.metrics.ReceiptsPosted.Add(float64(b.Count))
	return res.Hash, nil
}

// anchored reports whether the chain already holds exactly this batch (sent before a crash).
func (d *Daemon) anchored(ctx context.Context, b state.Batch) bool {
	res, err := slatypes.NewQueryClient(d.chain.Context()).ReceiptBatch(ctx, &slatypes.QueryReceiptBatchRequest{LeaseId: b.LeaseID, Sequence: b.First})
	return err == nil && res.Batch.FirstSequence == b.First && res.Batch.LastSequence == b.Last &&
		string(res.Batch.MerkleRoot) == string(b.Root)
}
