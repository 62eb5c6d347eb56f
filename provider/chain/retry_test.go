package chain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"cancelled", fmt.Errorf("query: %w", context.Canceled), false},
		{"refused transaction", fmt.Errorf("%w: check: code 5: insufficient funds", ErrTxFailed), false},
		{"NotFound answer", status.Error(codes.NotFound, "order 7"), false},
		{"wrapped NotFound", fmt.Errorf("account: %w", status.Error(codes.NotFound, "no account")), false},
		{"registered SDK error", sdkerrors.ErrInvalidRequest.Wrap("bad id"), false},
		{"Unavailable", status.Error(codes.Unavailable, "connection refused"), true},
		{"wrapped DeadlineExceeded", fmt.Errorf("lease: %w", status.Error(codes.DeadlineExceeded, "slow")), true},
		{"stale sequence at CheckTx", notAdmittedYet{fmt.Errorf("%w: check: code 32: account sequence mismatch", ErrTxFailed)}, true},
		{"RPC error answer", &rpctypes.RPCError{Code: -32603, Message: "Internal error", Data: "height 9 is not available, lowest height is 50"}, false},
		{"transport error", errors.New(`post failed: Post "http://127.0.0.1:26657": dial tcp: connection refused`), true},
	} {
		if got := Transient(tc.err); got != tc.want {
			t.Errorf("%s: Transient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

var quick = Backoff{First: time.Millisecond, Max: 4 * time.Millisecond}

func TestRetryUntilAnswered(t *testing.T) {
	calls, attempts := 0, []int{}
	err := Retry(context.Background(), quick, func(a int, err error) { attempts = append(attempts, a) }, func() error {
		if calls++; calls < 3 {
			return errors.New("connection reset by peer")
		}
		return nil
	})
	if err != nil || calls != 3 || !slices.Equal(attempts, []int{1, 2}) {
		t.Fatalf("Retry = %v after %d calls, onErr attempts %v; want nil after 3, [1 2]", err, calls, attempts)
	}
}

func TestRetryStopsOnAnAnswer(t *testing.T) {
	notFound := status.Error(codes.NotFound, "lease 3")
	calls := 0
	err := Retry(context.Background(), quick, func(int, error) { t.Error("a final error is not retried") }, func() error {
		calls++
		return notFound
	})
	if !errors.Is(err, notFound) || calls != 1 {
		t.Fatalf("Retry = %v after %d calls, want the NotFound after 1", err, calls)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Retry(ctx, quick, nil, func() error {
		if calls++; calls == 5 {
			cancel()
		}
		return errors.New("node down")
	})
	if !errors.Is(err, context.Canceled) || calls != 5 {
		t.Fatalf("Retry = %v after %d calls, want context.Canceled after 5", err, calls)
	}
}

// TestAdmitLater: which CheckTx refusals are worth signing again.
func TestAdmitLater(t *testing.T) {
	for _, tc := range []struct {
		codespace string
		code      uint32
		want      bool
	}{
		{"sdk", sdkerrors.ErrWrongSequence.ABCICode(), true},
		{"sdk", sdkerrors.ErrUnauthorized.ABCICode(), true}, // a restarted node's first check
		{"sdk", sdkerrors.ErrInsufficientFunds.ABCICode(), false},
		{"sdk", sdkerrors.ErrOutOfGas.ABCICode(), false},
		{"market", sdkerrors.ErrUnauthorized.ABCICode(), false}, // same number, another module
	} {
		if got := admitLater(tc.codespace, tc.code); got != tc.want {
			t.Errorf("admitLater(%s, %d) = %v, want %v", tc.codespace, tc.code, got, tc.want)
		}
	}
}
