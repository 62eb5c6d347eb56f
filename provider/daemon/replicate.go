package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/exec"
	"github.com/computed-network/computed/provider/state"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

type waiter interface {
	Wait(ctx context.Context, id string) (exec.TaskStatus, error)
}

// replicate runs a replicated job to completion, commits to its result and reveals it once the
// commit phase has closed. The salt and digest are stored before the commitment is sent, so a
// restart reveals what was committed.
func (d *Daemon) replicate(ctx context.Context, run *leaseRun) {
	for {
		err := d.replicateOnce(ctx, run)
		if err == nil || ctx.Err() != nil || d.stopped.Load() {
			return
		}
		if !chain.Transient(err) {
			// The chain refused (its phase, a mismatch) or the job failed: trying again
			// would only pay fees for the same answer.
			d.log.Error("replication", "lease", run.rec.LeaseID, "err", err)
			return
		}
		// A replica that does not reveal is slashed: try again while the chain still takes
		// a commit or a reveal.
		open := d.replicationOpen(ctx, run.order.Id)
		d.log.Error("replication", "lease", run.rec.LeaseID, "err", err, "trying_again", open)
		if !open {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// replicationOpen reports whether order's replication still takes commits or reveals (true
// while the chain cannot be asked).
func (d *Daemon) replicationOpen(ctx context.Context, orderID uint64) bool {
	res, err := slatypes.NewQueryClient(d.chain.Context()).Replication(ctx, &slatypes.QueryReplicationRequest{OrderId: orderID})
	if err != nil {
		return chain.Transient(err)
	}
	r := res.Replication
	return (r.Status == slatypes.REPLICATION_STATUS_COMMITTING || r.Status == slatypes.REPLICATION_STATUS_REVEALING) &&
		d.head.Load() <= r.RevealDeadline
}

// committedOnChain reports whether the chain holds commitment for lease in order's replication:
// a commit whose answer was lost (a crash, a node blip) may have landed, and a resend past the
// commit deadline is refused for the phase, not as a duplicate.
func (d *Daemon) committedOnChain(ctx context.Context, orderID, leaseID uint64, commitment []byte) (bool, error) {
	q := slatypes.NewQueryClient(d.chain.Context())
	res, err := ask(ctx, d, "query_replication", func() (*slatypes.QueryReplicationResponse, error) {
		return q.Replication(ctx, &slatypes.QueryReplicationRequest{OrderId: orderID})
	})
	if err != nil {
		return false, err
	}
	for _, m := range res.Replication.Members {
		if m.LeaseId == leaseID {
			return bytes.Equal(m.Commitment, commitment), nil
		}
	}
	return false, nil
}

func (d *Daemon) replicateOnce(ctx context.Context, run *leaseRun) error {
	orderID, leaseID := run.order.Id, run.rec.LeaseID
	c, err := d.store.GetCommit(orderID)
	if errors.Is(err, state.ErrNotFound) {
		w, ok := run.driver.(waiter)
		if !ok {
			return fmt.Errorf("executor %s cannot run one-shot jobs", run.driver.Name())
		}
		st, err := w.Wait(ctx, run.rec.TaskID)
		if err != nil {
			return err
		}
		if st.ResultDigest == "" {
			return fmt.Errorf("job ended %s without a result: %s", st.State, st.Error)
		}
		digest, err := hex.DecodeString(st.ResultDigest)
		if err != nil {
			return err
		}
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		c = state.Commit{LeaseID: leaseID, ResultDigest: digest, Salt: salt,
			CommitHash: slatypes.Commitment(digest, d.chain.Provider(), salt)}
		if err := d.store.PutCommit(orderID, c); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	q := slatypes.NewQueryClient(d.chain.Context())
	if !c.Committed {
		on, err := d.committedOnChain(ctx, orderID, leaseID, c.CommitHash)
		if err != nil {
			return err
		}
		if !on {
			err := d.sendRetrying(ctx, "commit", &slatypes.MsgCommitResult{Provider: d.provider, LeaseId: leaseID, Commitment: c.CommitHash})
			if err != nil && !errors.Is(err, slatypes.ErrAlreadyCommitted) && !containsErr(err, slatypes.ErrAlreadyCommitted) {
				if on, qerr := d.committedOnChain(ctx, orderID, leaseID, c.CommitHash); qerr != nil || !on {
					return fmt.Errorf("commit: %w", err)
				}
			}
		}
		c.Committed = true
		if err := d.store.PutCommit(orderID, c); err != nil {
			return err
		}
		d.log.Info("result committed", "order", orderID, "lease", leaseID, "digest", hex.EncodeToString(c.ResultDigest))
	}
	if c.Revealed {
		return nil
	}
	for {
		res, err := ask(ctx, d, "query_replication", func() (*slatypes.QueryReplicationResponse, error) {
			return q.Replication(ctx, &slatypes.QueryReplicationRequest{OrderId: orderID})
		})
		if err != nil {
			return err
		}
		r := res.Replication
		if r.Status == slatypes.REPLICATION_STATUS_AGREED || r.Status == slatypes.REPLICATION_STATUS_FAILED {
			return nil
		}
		if d.head.Load() >= r.CommitDeadline { // the chain's head: a replay after a restart must not delay the reveal
			break // the next block is past the commit deadline
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	err = d.sendRetrying(ctx, "reveal", &slatypes.MsgRevealResult{Provider: d.provider, LeaseId: leaseID, ResultDigest: c.ResultDigest, Salt: c.Salt})
	if err != nil && !containsErr(err, slatypes.ErrAlreadyRevealed) { // an earlier try landed
		return fmt.Errorf("reveal: %w", err)
	}
	c.Revealed = true
	d.log.Info("result revealed", "order", orderID, "lease", leaseID)
	return d.store.PutCommit(orderID, c)
}

// sendRetrying sends msg and waits for its block, sending it again while the node cannot be
// reached (until ctx ends: the lease closed or the sidecar stops). A transaction the chain
// refused is returned as is; a resend after a lost answer is refused as a duplicate, which the
// caller treats as done.
func (d *Daemon) sendRetrying(ctx context.Context, what string, msg sdk.Msg) error {
	return d.retrying(ctx, what, func() error {
		_, err := d.sendNow(ctx, what, msg)
		return err
	})
}

// containsErr matches a chain error by its registered message: a DeliverTx failure comes back as
// text in the result's log, not as the registered error value.
func containsErr(err, target error) bool {
	return err != nil && target != nil && target.Error() != "" && strings.Contains(err.Error(), target.Error())
}
