package chain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"

	markettypes "github.com/computed-network/computed/x/market/types"
)

var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeRPC serves block results from a map. The embedded nil Client makes any call the watcher
// is not expected to make panic.
type fakeRPC struct {
	rpcclient.Client

	mu          sync.Mutex
	latest      int64
	uncommitted int64 // the application has not committed this many of the latest blocks
	statusFails int   // Status fails this many times first
	blocks      map[int64]*ctypes.ResultBlockResults
	failAt      int64 // BlockResults fails at this height
	failTimes   int   // ... this many times (0: always)
	failed      int
	earliest    int64 // the node's earliest block height
	asked       []int64
	sub         chan ctypes.ResultEvent
	unsubscribe int
}

func (f *fakeRPC) Status(context.Context) (*ctypes.ResultStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statusFails > 0 {
		f.statusFails--
		return nil, errors.New("connection refused")
	}
	return &ctypes.ResultStatus{SyncInfo: ctypes.SyncInfo{LatestBlockHeight: f.latest, EarliestBlockHeight: f.earliest}}, nil
}

func (f *fakeRPC) ABCIInfo(context.Context) (*ctypes.ResultABCIInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &ctypes.ResultABCIInfo{Response: abci.ResponseInfo{LastBlockHeight: f.latest - f.uncommitted}}, nil
}

func (f *fakeRPC) BlockResults(_ context.Context, h *int64) (*ctypes.ResultBlockResults, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, *h)
	if *h == f.failAt && (f.failTimes == 0 || f.failed < f.failTimes) {
		f.failed++
		return nil, errors.New("connection reset")
	}
	if r, ok := f.blocks[*h]; ok {
		return r, nil
	}
	return &ctypes.ResultBlockResults{Height: *h}, nil
}

func (f *fakeRPC) Header(_ context.Context, h *int64) (*ctypes.ResultHeader, error) {
	return &ctypes.ResultHeader{Header: &cmttypes.Header{Height: *h, Time: genesisTime.Add(time.Duration(*h) * time.Second)}}, nil
}

func (f *fakeRPC) IsRunning() bool { return true }

func (f *fakeRPC) Subscribe(_ context.Context, _, query string, _ ...int) (<-chan ctypes.ResultEvent, error) {
	if f.sub == nil || query != "tm.event='NewBlockHeader'" {
		return nil, errors.New("no websocket")
	}
	return f.sub, nil
}

func (f *fakeRPC) Unsubscribe(context.Context, string, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unsubscribe++
	return nil
}

func (f *fakeRPC) heightsAsked() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

func leaseClosed(id uint64) *markettypes.EventLeaseClosed {
	return &markettypes.EventLeaseClosed{LeaseId: id, OrderId: id * 10, Reason: "CLOSE_REASON_EXPIRED"}
}

// TestWatcherDelivers: every height after the cursor, in order, with the typed events of
// successful transactions first and then FinalizeBlock's; failed transactions and plain SDK
// events are dropped.
func TestWatcherDelivers(t *testing.T) {
	f := &fakeRPC{latest: 5, blocks: map[int64]*ctypes.ResultBlockResults{
		3: {
			TxsResults: []*abci.ExecTxResult{
				{Code: 0, Events: []abci.Event{
					{Type: "message", Attributes: []abci.EventAttribute{attr("action", "/computed.market.v1.MsgCloseLease")}},
					typedEvent(t, leaseClosed(1), attr("msg_index", "0")),
				}},
				// A failed transaction's events describe state that was rolled back.
				{Code: 5, Events: []abci.Event{typedEvent(t, leaseClosed(99), attr("msg_index", "0"))}},
				{Code: 0, Events: []abci.Event{typedEvent(t, leaseClosed(2), attr("msg_index", "0"))}},
			},
			FinalizeBlockEvents: []abci.Event{
				typedEvent(t, leaseClosed(3), attr("mode", "EndBlock")),
				{Type: "coin_spent", Attributes: []abci.EventAttribute{attr("amount", "1uusdc"), attr("mode", "EndBlock")}},
			},
		},
		5: {FinalizeBlockEvents: []abci.Event{typedEvent(t, leaseClosed(4), attr("mode", "EndBlock"))}},
	}}
	w := NewWatcher(f)
	w.Poll = time.Hour // nothing after height 5 is expected; the test cancels
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var got []Block
	err := w.Run(ctx, 2, func(b Block) error {
		got = append(got, b)
		if b.Height == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	want := []Block{
		{Height: 3, Events: []proto.Message{leaseClosed(1), leaseClosed(2), leaseClosed(3)}},
		{Height: 4},
		{Height: 5, Events: []proto.Message{leaseClosed(4)}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d blocks, want %d: %+v", len(got), len(want), got)
	}
	for i, b := range got {
		if b.Height != want[i].Height || !b.Time.Equal(genesisTime.Add(time.Duration(b.Height)*time.Second)) {
			t.Errorf("block %d: height %d time %v", i, b.Height, b.Time)
		}
		if len(b.Events) != len(want[i].Events) {
			t.Errorf("height %d: events %v, want %v", b.Height, b.Events, want[i].Events)
			continue
		}
		for j := range b.Events {
			if !proto.Equal(b.Events[j], want[i].Events[j]) {
				t.Errorf("height %d event %d = %v, want %v", b.Height, j, b.Events[j], want[i].Events[j])
			}
		}
	}
	// The cursor's own height and those before it were handled before the restart.
	if asked := f.heightsAsked(); !slices.Equal(asked, []int64{3, 4, 5}) {
		t.Errorf("BlockResults asked for %v", asked)
	}
}

// TestWatcherWaitsForCommit: the node stores a block and its results before the application
// commits it; queries about the objects its events name answer only after the commit, so the
// block is handled only then.
func TestWatcherWaitsForCommit(t *testing.T) {
	f := &fakeRPC{latest: 4, uncommitted: 1, sub: make(chan ctypes.ResultEvent, 1)}
	w := NewWatcher(f)
	w.Poll = time.Hour // woken by the test only
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	handled := make(chan int64, 8)
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, 2, func(b Block) error {
			handled <- b.Height
			return nil
		})
	}()
	if h := <-handled; h != 3 {
		t.Fatalf("handled %d first, want 3", h)
	}
	select {
	case h := <-handled:
		t.Fatalf("handled height %d before the application committed it", h)
	case <-time.After(200 * time.Millisecond):
	}
	f.mu.Lock()
	f.uncommitted = 0
	f.mu.Unlock()
	f.sub <- ctypes.ResultEvent{} // the next block header: a wake-up
	select {
	case h := <-handled:
		if h != 4 {
			t.Fatalf("handled %d, want 4", h)
		}
	case <-ctx.Done():
		t.Fatal("height 4 not handled once committed")
	}
	cancel()
	<-done
}

// TestWatcherStopsOnHandleError: the caller persists its cursor after each block it handled;
// a failed block must stop Run so it is retried from there, not skipped.
func TestWatcherStopsOnHandleError(t *testing.T) {
	f := &fakeRPC{latest: 6}
	w := NewWatcher(f)
	boom := errors.New("store full")
	var heights []int64
	err := w.Run(context.Background(), 0, func(b Block) error {
		heights = append(heights, b.Height)
		if b.Height == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the handler's error", err)
	}
	if !slices.Equal(heights, []int64{1, 2}) || !slices.Equal(f.heightsAsked(), []int64{1, 2}) {
		t.Fatalf("handled %v, read %v; want both to stop at 2", heights, f.heightsAsked())
	}
}

// TestWatcherRetriesAFailedHeight: a node that does not answer, or fails to serve a height (a
// restart, a dropped connection), is asked again: nothing is skipped, nothing is fatal, the
// blocks follow in order, and each failure is reported with the count in a row.
func TestWatcherRetriesAFailedHeight(t *testing.T) {
	f := &fakeRPC{latest: 6, failAt: 4, failTimes: 2, statusFails: 2}
	w := NewWatcher(f)
	w.Poll = time.Millisecond
	var failed []string
	w.OnError = func(h int64, inARow int, err error) {
		failed = append(failed, fmt.Sprintf("%d/%d: %v", h, inARow, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var heights []int64
	err := w.Run(ctx, 2, func(b Block) error {
		heights = append(heights, b.Height)
		if b.Height == 6 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled after height 6", err)
	}
	if !slices.Equal(heights, []int64{3, 4, 5, 6}) {
		t.Errorf("handled %v, want [3 4 5 6]", heights)
	}
	want := []string{
		"3/1: node status: connection refused", "3/2: node status: connection refused",
		"4/1: block results 4: connection reset", "4/2: block results 4: connection reset",
	}
	if !slices.Equal(failed, want) {
		t.Errorf("OnError saw %q, want %q", failed, want)
	}
	if asked := f.heightsAsked(); !slices.Equal(asked, []int64{3, 4, 4, 4, 5, 6}) {
		t.Errorf("BlockResults asked for %v", asked)
	}
}

// TestWatcherGivesUpOnAHeight: a node that answers its status but keeps failing to serve one
// height (it discards ABCI responses) stops Run with the height named, rather than the height
// being skipped or retried forever.
func TestWatcherGivesUpOnAHeight(t *testing.T) {
	f := &fakeRPC{latest: 6, failAt: 4}
	w := NewWatcher(f)
	w.Poll, w.MaxFetchFailures = time.Millisecond, 3
	var heights []int64
	err := w.Run(context.Background(), 2, func(b Block) error {
		heights = append(heights, b.Height)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "block results 4: connection reset (failed 3 times in a row)") {
		t.Fatalf("Run = %v, want 'block results 4: connection reset (failed 3 times in a row)'", err)
	}
	if !slices.Equal(heights, []int64{3}) {
		t.Fatalf("handled %v, want [3]", heights)
	}
}

// TestWatcherPrunedHeight: a height below the node's earliest is gone for good: Run stops at
// once and says why.
func TestWatcherPrunedHeight(t *testing.T) {
	f := &fakeRPC{latest: 9, earliest: 5, failAt: 3}
	err := NewWatcher(f).Run(context.Background(), 2, func(Block) error {
		t.Error("no height should be handled")
		return nil
	})
	var pruned *PrunedError
	if !errors.As(err, &pruned) || pruned.Height != 3 || pruned.Earliest != 5 ||
		!strings.Contains(err.Error(), "block results 3") || !strings.Contains(err.Error(), "keeps heights from 5 only") {
		t.Fatalf("Run = %v, want a pruned-height error at 3, earliest 5", err)
	}
	if asked := f.heightsAsked(); !slices.Equal(asked, []int64{3}) {
		t.Errorf("BlockResults asked for %v, want [3]", asked)
	}
}
