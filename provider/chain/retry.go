package chain

import (
	"context"
	"errors"
	"time"

	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Transient reports whether a retry may cure err: the node could not be reached, did not answer
// in time, or was overloaded, or refused a transaction at CheckTx in a way that signing it again
// cures (admitLater). An answer the node gave (a query's NotFound, a transaction the
// chain refused) is final, and so is the caller's own cancellation.
func Transient(err error) bool {
	if errors.As(err, new(notAdmittedYet)) {
		return true
	}
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, ErrTxFailed):
		return false
	}
	// The node's RPC server answered with an error (a height it does not have, a bad
	// argument): it will answer the same again.
	var rpcErr *rpctypes.RPCError
	if errors.As(err, &rpcErr) || errors.As(err, new(rpctypes.RPCError)) {
		return false
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
			return true
		}
		return false
	}
	// Not a gRPC status: the request never got an answer (connection refused or reset, an HTTP
	// timeout of the RPC client, a node still starting).
	return true
}

// Backoff is how Retry waits between attempts: First, doubling up to Max.
type Backoff struct {
	First, Max time.Duration
}

// DefaultBackoff retries quickly at first, so a blip costs less than a block, and then no more
// than every two seconds while a node restarts.
var DefaultBackoff = Backoff{First: 100 * time.Millisecond, Max: 2 * time.Second}

// Retry calls fn until it returns nil or an error that is not Transient, or ctx ends. onErr, if
// not nil, sees each transient failure with its attempt number (from 1), for logs and metrics.
// It returns fn's last error, or ctx's once ctx has ended.
func Retry(ctx context.Context, b Backoff, onErr func(attempt int, err error), fn func() error) error {
	wait := b.First
	for attempt := 1; ; attempt++ {
		err := fn()
		if !Transient(err) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if onErr != nil {
			onErr(attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if wait *= 2; wait > b.Max {
			wait = b.Max
		}
	}
}
