package chain

import (
	"context"
	"fmt"
	"time"
)

// BlockTime is the time in block h's header.
func (w *Watcher) BlockTime(ctx context.Context, h int64) (time.Time, error) {
	res, err := w.rpc.Header(ctx, &h)
	if err != nil {
		return time.Time{}, err
	}
	if res.Header == nil {
		return time.Time{}, fmt.Errorf("no header at height %d", h)
	}
	return res.Header.Time, nil
}

// Earliest is the lowest height the node still serves (a pruning node drops older ones).
func (w *Watcher) Earliest(ctx context.Context) (int64, error) {
	st, err := w.rpc.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.EarliestBlockHeight, nil
}

// Latest is the node's latest height.
func (w *Watcher) Latest(ctx context.Context) (int64, error) {
	st, err := w.rpc.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}
