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
