package chain

import (
	"context"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Block is what the watcher hands on for one height: every typed event from the block's
// transactions (successful ones) and from FinalizeBlock (BeginBlock/EndBlock: leases that close in
// EndBlock are only visible there).
type Block struct {
	Height int64
	Time   time.Time
	Events []proto.Message
}

// Watcher follows the chain block by block from a cursor. It is woken by a CometBFT websocket
// subscription to new block headers and, after a restart or a dropped connection, catches up by
// reading every height since the cursor, so no event is missed.
type Watcher struct {
	rpc rpcclient.Client
	// Poll is the fallback interval when no websocket notification arrives.
	Poll time.Duration
	// MaxFetchFailures is how many times in a row the next height may fail to load, while the
	// node answers its status, before Run gives up: a node that discards ABCI responses will
	// never serve them, while a restarting node answers nothing at all.
	MaxFetchFailures int
	// OnError, if set, sees each failure to reach the node or to read the next height, which
	// Run will try again, with the number of failures in a row.
	OnError func(height int64, inARow int, err error)
}

// NewWatcher follows the node behind rpc.
func NewWatcher(rpc rpcclient.Client) *Watcher {
	return &Watcher{rpc: rpc, Poll: 2 * time.Second, MaxFetchFailures: 30}
}

// Run calls handle for every block after cursor, in order, until ctx ends. A height the node
// fails to serve is read again at the next wake-up, never skipped; Run stops with an error when
// the node has pruned it (*PrunedError) or keeps failing to serve it (MaxFetchFailures). handle returning an
// error stops Run (the caller restarts from its persisted cursor).
func (w *Watcher) Run(ctx context.Context, cursor int64, handle func(Block) error) error {
	// The node never closes a subscription channel, so the reader below stops on this
	// context: otherwise every Run that ends on a handler error would leak it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake := make(chan struct{}, 1)
	if ev, ok := w.rpc.(rpcclient.EventsClient); ok {
		if s, ok := w.rpc.(interface {
			IsRunning() bool
			Start() error
		}); ok && !s.IsRunning() {
			_ = s.Start()
		}
		// Bounded: the websocket client's sends wait while it reconnects to a node that is down,
		// and the subscription only wakes the loop, which polls without it.
		subCtx, subCancel := context.WithTimeout(ctx, 5*time.Second)
		ch, err := ev.Subscribe(subCtx, "computed-provider", "tm.event='NewBlockHeader'", 16)
		subCancel()
		if err == nil {
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case _, ok := <-ch:
						if !ok {
							return
						}
					}
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}()
			defer func() {
				// Bounded too, or a sidecar told to stop while its node is down would never stop.
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = ev.Unsubscribe(ctx, "computed-provider", "tm.event='NewBlockHeader'")
			}()
		}
	}
	fails, inARow := 0, 0 // failures to read cursor+1 while the node answers; failures of any kind
	failed := func(h int64, err error) {
		inARow++
		if w.OnError != nil {
			w.OnError(h, inARow, err)
		}
	}
	for {
		st, latest, err := committed(ctx, w.rpc)
		if err != nil && ctx.Err() == nil {
			failed(cursor+1, err)
		}
		if err == nil {
			for h := cursor + 1; h <= latest; h++ {
				b, err := w.block(ctx, h)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if first := st.SyncInfo.EarliestBlockHeight; first > h {
						return &PrunedError{Height: h, Earliest: first, Err: err}
					}
					if fails++; w.MaxFetchFailures > 0 && fails >= w.MaxFetchFailures {
						return fmt.Errorf("%w (failed %d times in a row)", err, fails)
					}
					failed(h, err)
					break
				}
				fails, inARow = 0, 0
				if err := handle(b); err != nil {
					return err
				}
				cursor = h
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(w.Poll):
		}
	}
}

// nodeHeights is what committed asks of a node (an rpcclient.Client, the SDK's CometRPC).
type nodeHeights interface {
	Status(context.Context) (*ctypes.ResultStatus, error)
	ABCIInfo(context.Context) (*ctypes.ResultABCIInfo, error)
}

// committed is the node's status and the latest height whose block its application has
// committed. The node stores a block, and its results, before the application commits it, and
// queries answer from committed state: a block handled before then names orders and leases
// that queries do not find yet (an order never bid on, a won lease never started).
func committed(ctx context.Context, node nodeHeights) (*ctypes.ResultStatus, int64, error) {
	st, err := node.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("node status: %w", err)
	}
	info, err := node.ABCIInfo(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("node's application info: %w", err)
	}
	return st, min(st.SyncInfo.LatestBlockHeight, info.Response.LastBlockHeight), nil
}

// PrunedError is Run's error when the node no longer has the next height: it prunes blocks,
// and the caller fell further behind than it keeps.
type PrunedError struct {
	Height, Earliest int64
	Err              error
}

func (e *PrunedError) Error() string {
	return fmt.Sprintf("%v: the node keeps heights from %d only", e.Err, e.Earliest)
}

func (e *PrunedError) Unwrap() error { return e.Err }

// block reads one height's events.
func (w *Watcher) block(ctx context.Context, h int64) (Block, error) {
	res, err := w.rpc.BlockResults(ctx, &h)
	if err != nil {
		return Block{}, fmt.Errorf("block results %d: %w", h, err)
	}
	b := Block{Height: h}
	if hdr, err := w.rpc.Header(ctx, &h); err == nil && hdr.Header != nil {
		b.Time = hdr.Header.Time
	}
	add := func(events []abci.Event) {
		for _, e := range events {
			if msg, err := ParseEvent(e); err == nil {
				b.Events = append(b.Events, msg)
			}
		}
	}
	for _, tx := range res.TxsResults {
		if tx.Code == 0 {
			add(tx.Events)
		}
	}
	add(res.FinalizeBlockEvents)
	return b, nil
}

// ParseEvent decodes a typed event. The SDK appends plain attributes to typed events ("mode" on
// FinalizeBlock events, "msg_index" on transaction events) whose values are not JSON; they are
// dropped before decoding.
func ParseEvent(e abci.Event) (proto.Message, error) {
	clean := abci.Event{Type: e.Type}
	for _, a := range e.Attributes {
		if a.Key == "mode" || a.Key == "msg_index" {
			continue
		}
		clean.Attributes = append(clean.Attributes, a)
	}
	return sdk.ParseTypedEvent(clean)
}
