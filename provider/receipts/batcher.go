package receipts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/computed-network/computed/provider/state"
)

// ErrAnchored is what a submit function returns (wrapped) when the chain already holds the
// batch, typically found by comparing the lease's last anchored sequence with the batch after a
// restart. The Batcher then records the batch as acked instead of retrying it forever.
var ErrAnchored = errors.New("batch already anchored on chain")

// ErrLeaseEnded is what a submit function returns (wrapped) when the chain takes no more
// batches of the lease (it closed longer ago than the chain's grace). The Batcher then stops
// anchoring that lease for good (state.Store.EndAnchoring) instead of paying for a refused
// transaction every round; the receipts stay in the store, unanchored.
var ErrLeaseEnded = errors.New("the chain takes no more batches of this lease")

// DefaultParallel is how many leases' batches a round submits at once by default.
const DefaultParallel = 16

// DefaultResendAfter is how long a sent batch may go unacked before it is broadcast again.
const DefaultResendAfter = 2 * time.Minute

// SubmitFunc broadcasts MsgSubmitReceiptBatch for b and returns the transaction hash. It is
// called with the same batch (same range, same root) every time it is retried.
type SubmitFunc func(ctx context.Context, b state.Batch) (txHash string, err error)

// BatcherConfig sets when batches are cut and how submission is retried.
type BatcherConfig struct {
	// MaxBatch is the most receipts in one batch; a batch is cut as soon as this many wait.
	MaxBatch int
	// MaxAge bounds how long a receipt waits for its batch: when the oldest unbatched receipt
	// ended (EndUnixMs) this long ago, whatever is waiting is cut. Measuring from the receipt
	// itself rather than from when the batcher saw it keeps the bound across restarts.
	MaxAge time.Duration
	// ResendAfter is how long a batch sent by this process may stay unacked before it is
	// broadcast again (its tx may have been dropped); DefaultResendAfter when zero. Batches
	// sent before a restart are re-sent on the first round.
	ResendAfter time.Duration
	// Tick is how often Run looks at ages and retries failures; min(MaxAge/2, 1s) when zero.
	Tick time.Duration
	// Parallel is how many leases' batches are submitted at once; DefaultParallel when zero.
	Parallel int
	// Now is the clock, time.Now when nil.
	Now func() time.Time
	// OnError hears about failures Run will retry; they are dropped when nil.
	OnError func(lease uint64, err error)
	// Anchored, when set, is asked before a batch is broadcast again (tried before by this
	// process, or cut by one that died): one the chain already holds is acked at the cost of a
	// query, not of a transaction that fails. False (not there, or the chain could not say)
	// sends it.
	Anchored func(ctx context.Context, b state.Batch) bool
}

// Batcher cuts receipts into batches and hands them to the chain in order, one lease's batches
// strictly first to last. It never re-cuts: a batch that failed, or was in flight when the
// process died, is submitted again exactly as it was cut.
type Batcher struct {
	store  *state.Store
	cfg    BatcherConfig
	submit SubmitFunc
	wake   chan struct{}

	round sync.Mutex // one round at a time

	mu     sync.Mutex
	seeded bool                // leases already loaded from the store
	leases map[uint64]struct{} // leases that may have work
	flush  map[uint64]bool     // leases whose waiting receipts are cut whatever their age
	sentAt map[batchKey]time.Time
	// fresh holds the batches this process cut and has not tried to send: only those cannot be
	// on the chain already, so only those go out without asking Anchored first.
	fresh map[batchKey]bool
}

type batchKey struct{ lease, first uint64 }

// NewBatcher returns a Batcher over store that submits batches with submit.
func NewBatcher(store *state.Store, cfg BatcherConfig, submit SubmitFunc) (*Batcher, error) {
	switch {
	case store == nil:
		return nil, errors.New("batcher needs a store")
	case submit == nil:
		return nil, errors.New("batcher needs a submit function")
	case cfg.MaxBatch <= 0:
		return nil, fmt.Errorf("batcher max batch %d must be positive", cfg.MaxBatch)
	case cfg.MaxAge <= 0:
		return nil, fmt.Errorf("batcher max age %v must be positive", cfg.MaxAge)
	}
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = DefaultResendAfter
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.Tick <= 0 {
		cfg.Tick = min(cfg.MaxAge/2, time.Second)
		cfg.Tick = max(cfg.Tick, time.Millisecond)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Batcher{
		store: store, cfg: cfg, submit: submit,
		wake:   make(chan struct{}, 1),
		leases: map[uint64]struct{}{},
		flush:  map[uint64]bool{},
		sentAt: map[batchKey]time.Time{},
		fresh:  map[batchKey]bool{},
	}, nil
}

// Add tells the batcher lease has a new receipt, so Run checks it now rather than at its
// next tick.
func (b *Batcher) Add(lease uint64) {
	b.mu.Lock()
	b.leases[lease] = struct{}{}
	b.mu.Unlock()
	b.poke()
}

// Flush is Add for a lease that has ended: what waits is cut now, not after MaxAge, since the
// chain takes the lease's last batches only for a few blocks after its close.
func (b *Batcher) Flush(lease uint64) {
	b.mu.Lock()
	b.leases[lease] = struct{}{}
	b.flush[lease] = true
	b.mu.Unlock()
	b.poke()
}

// Acked records that the batch of lease starting at first was anchored at height. The chain
// watcher calls it when it sees the anchoring event.
func (b *Batcher) Acked(lease, first uint64, height int64) error {
	if err := b.store.MarkBatchAcked(lease, first, height); err != nil {
		return err
	}
	b.mu.Lock()
	delete(b.sentAt, batchKey{lease, first})
	b.mu.Unlock()
	b.poke()
	return nil
}

func (b *Batcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run performs rounds until ctx is done, on every Add or Acked and at least every Tick.
// Failures are reported to OnError and retried on the next round.
func (b *Batcher) Run(ctx context.Context) error {
	t := time.NewTicker(b.cfg.Tick)
	defer t.Stop()
	for {
		_ = b.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-b.wake:
		}
	}
}

// RunOnce performs one round: for each lease with work, cut whatever the size and age rules
// call for, then submit its unacked batches in order. A lease stops at its first failed
// submission, since the chain would refuse the batches after it. Leases go concurrently (up to
// Parallel at once), so one lease's batch waiting for its block does not hold back another's:
// their transactions share blocks. It returns the round's failures, joined; each was also
// passed to OnError.
func (b *Batcher) RunOnce(ctx context.Context) error {
	b.round.Lock()
	defer b.round.Unlock()
	leases, err := b.workingLeases()
	if err != nil {
		b.report(0, err)
		return err
	}
	var (
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
		slots = make(chan struct{}, b.cfg.Parallel)
	)
	for _, lease := range leases {
		if ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			busy, err := b.roundFor(ctx, lease)
			if err != nil {
				err = fmt.Errorf("lease %d: %w", lease, err)
				b.report(lease, err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			if !busy && err == nil {
				b.mu.Lock()
				delete(b.leases, lease)
				delete(b.flush, lease)
				b.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

// workingLeases returns the leases to look at, loading every lease with receipts on the first
// round so work left by a previous process is picked up without an Add.
func (b *Batcher) workingLeases() ([]uint64, error) {
	b.mu.Lock()
	seeded := b.seeded
	b.mu.Unlock()
	var stored []uint64
	if !seeded {
		var err error
		if stored, err = b.store.ReceiptLeases(); err != nil {
			return nil, fmt.Errorf("list leases with receipts: %w", err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range stored {
		if ended, err := b.store.AnchoringEnded(l); err == nil && ended {
			continue
		}
		b.leases[l] = struct{}{}
	}
	b.seeded = true
	out := make([]uint64, 0, len(b.leases))
	for l := range b.leases {
		out = append(out, l)
	}
	slices.Sort(out)
	return out, nil
}

// roundFor cuts and submits for one lease; busy reports whether anything is still waiting
// (receipts not cut, or batches not acked).
func (b *Batcher) roundFor(ctx context.Context, lease uint64) (busy bool, err error) {
	waiting, err := b.cut(lease)
	if err != nil {
		return true, err
	}
	pending, err := b.store.PendingBatches(lease)
	if err != nil {
		return true, err
	}
	b.forgetSends(lease, pending)
	return waiting || len(pending) > 0, b.send(ctx, lease, pending)
}

// cut cuts full batches while MaxBatch receipts wait, then a partial one if the oldest waiting
// receipt is MaxAge old. waiting reports receipts left uncut.
func (b *Batcher) cut(lease uint64) (waiting bool, err error) {
	for {
		next, err := b.store.NextSequence(lease)
		if err != nil {
			return true, err
		}
		last, err := b.store.LastCut(lease)
		if err != nil {
			return true, err
		}
		count := next - 1 - last
		if count == 0 {
			return false, nil
		}
		b.mu.Lock()
		flush := b.flush[lease]
		b.mu.Unlock()
		if count < uint64(b.cfg.MaxBatch) && !flush {
			oldest, err := b.store.Receipt(lease, last+1)
			if err != nil {
				return true, err
			}
			if b.cfg.Now().Sub(time.UnixMilli(oldest.EndUnixMs)) < b.cfg.MaxAge {
				return true, nil
			}
		}
		cut, err := b.store.CutBatch(lease, b.cfg.MaxBatch)
		if err != nil {
			return true, err
		}
		if cut != nil {
			b.mu.Lock()
			b.fresh[batchKey{lease, cut.First}] = true
			b.mu.Unlock()
		}
	}
}

func (b *Batcher) send(ctx context.Context, lease uint64, pending []state.Batch) error {
	for _, batch := range pending {
		key := batchKey{lease, batch.First}
		if batch.State == state.BatchSent {
			b.mu.Lock()
			at, ours := b.sentAt[key]
			b.mu.Unlock()
			if ours && b.cfg.Now().Sub(at) < b.cfg.ResendAfter {
				continue // in flight from this process; wait for its ack
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b.mu.Lock()
		fresh := b.fresh[key]
		delete(b.fresh, key)
		b.mu.Unlock()
		// A batch tried before, here or by a process that died (perhaps between its broadcast
		// and recording it as sent), may have landed since.
		if !fresh && b.cfg.Anchored != nil {
			if b.cfg.Anchored(ctx, batch) {
				if err := b.Acked(lease, batch.First, 0); err != nil {
					return err
				}
				continue
			}
		}
		tx, err := b.submit(ctx, batch)
		if errors.Is(err, ErrLeaseEnded) {
			return b.end(lease, batch, err)
		}
		if errors.Is(err, ErrAnchored) {
			if err := b.Acked(lease, batch.First, 0); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("submit batch %d..%d: %w", batch.First, batch.Last, err)
		}
		if err := b.store.MarkBatchSent(lease, batch.First, tx); err != nil {
			return err
		}
		b.mu.Lock()
		b.sentAt[key] = b.cfg.Now()
		b.mu.Unlock()
	}
	return nil
}

// end stops anchoring lease for good after the chain refused batch for it (ErrLeaseEnded), and
// reports the receipts left unanchored.
func (b *Batcher) end(lease uint64, batch state.Batch, refusal error) error {
	if err := b.store.EndAnchoring(lease); err != nil {
		return err
	}
	next, _ := b.store.NextSequence(lease)
	b.mu.Lock()
	delete(b.leases, lease)
	delete(b.flush, lease)
	b.mu.Unlock()
	b.report(lease, fmt.Errorf("receipts %d..%d stay unanchored, no batch of this lease is sent again: %w", batch.First, next-1, refusal))
	return nil
}

// forgetSends drops send times of lease's batches that are no longer pending; an ack that beat
// its own MarkBatchSent would otherwise leave one behind.
func (b *Batcher) forgetSends(lease uint64, pending []state.Batch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	forgetNotPending(b.sentAt, lease, pending)
	forgetNotPending(b.fresh, lease, pending)
}

// forgetNotPending drops m's entries for lease's batches that are not in pending.
func forgetNotPending[V any](m map[batchKey]V, lease uint64, pending []state.Batch) {
	for key := range m {
		if key.lease == lease && !slices.ContainsFunc(pending, func(p state.Batch) bool { return p.First == key.first }) {
			delete(m, key)
		}
	}
}

func (b *Batcher) report(lease uint64, err error) {
	if b.cfg.OnError != nil {
		b.cfg.OnError(lease, err)
	}
}
