package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

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
	run.mu.Lock()
	samples, probes, lastProbe := run.pending, run.probes, run.lastProbe
	run.pending, run.probes, run.lastProbe = nil, nil, 0
	sealed := sealJournal(run) // what was just taken is in segments up to sealed
	run.mu.Unlock()
	if len(samples) == 0 {
		// No receipt: the window data alone (the probes) is kept.
		windows := windowsToKeep(nil, nil, probes, run.rec.LastReportedWindow)
		if len(windows) > 0 || lastProbe != 0 {
			if err := d.store.KeepWindows(run.rec.LeaseID, state.Measured{Windows: windows, LastProbeUnixMs: lastProbe, Journaled: sealed}); err != nil {
				d.log.Warn("window data", "lease", run.rec.LeaseID, "err", err)
				return
			}
			d.dropJournal(run, sealed)
		}
		return
	}
	in := make([]byte, 0, ingress.SampleSize*len(samples))
	out := sha256.New()
	for _, ws := range samples {
		in = append(in, ingress.EncodeSample(ws.s)...)
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], ws.s.Status)
		out.Write(b[:])
	}
	info := run.info
	if hash := d.tokenHash.Load(); hash != nil {
		info.AttestationTokenHash = *hash
	}
	_, err := d.builder.AppendWithSamples(info, receipts.Work{
		Start: time.UnixMilli(samples[0].s.UnixMillis), End: time.UnixMilli(samples[len(samples)-1].s.UnixMillis),
		Input: in, Output: out.Sum(nil), Price: run.lease.PricePerBlock,
		SettlementRef: fmt.Sprintf("lease/%d@%d", run.rec.LeaseID, h),
	}, state.Measured{Windows: windowsToKeep(samples, in, probes, run.rec.LastReportedWindow), LastProbeUnixMs: lastProbe, Journaled: sealed})
	if err != nil {
		// The journal keeps them: a restart receipts them.
		d.log.Error("receipt", "lease", run.rec.LeaseID, "err", err)
		return
	}
	d.dropJournal(run, sealed)
	d.batcher.Add(run.rec.LeaseID)
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
