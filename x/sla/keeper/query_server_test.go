package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/computed-network/computed/x/sla/types"
)

// TestQueries: the paginated listings return one lease's objects only, and bad requests get gRPC
// codes, not panics.
func TestQueries(t *testing.T) {
	e := setup(t)
	lease := e.metWindow()
	p := e.providers[0]
	require.NoError(t, e.submitBatch(batchMsg(p, lease, 1, 5, root(1))))
	require.NoError(t, e.submitBatch(batchMsg(p, lease, 6, 9, root(2))))
	res, err := e.openDispute(disputeMsg(e.buyer, lease, 1))
	require.NoError(t, err)
	e.finalizeThrough(e.due(lease, 2))
	ctx := e.Ctx()

	reports, err := e.q.Reports(ctx, &types.QueryReportsRequest{LeaseId: lease})
	require.NoError(t, err)
	require.Len(t, reports.Reports, 2)
	require.Equal(t, types.WINDOW_STATUS_MISSING, reports.Reports[1].Status)
	page, err := e.q.Reports(ctx, &types.QueryReportsRequest{LeaseId: lease, Pagination: &query.PageRequest{Limit: 1}})
	require.NoError(t, err)
	require.Len(t, page.Reports, 1)
	require.NotEmpty(t, page.Pagination.NextKey)
	none, err := e.q.Reports(ctx, &types.QueryReportsRequest{LeaseId: lease + 100})
	require.NoError(t, err)
	require.Empty(t, none.Reports)

	batches, err := e.q.ReceiptBatches(ctx, &types.QueryReceiptBatchesRequest{LeaseId: lease})
	require.NoError(t, err)
	require.Len(t, batches.Batches, 2)
	one, err := e.q.ReceiptBatch(ctx, &types.QueryReceiptBatchRequest{LeaseId: lease, Sequence: 7})
	require.NoError(t, err)
	require.Equal(t, uint64(6), one.Batch.FirstSequence)
	_, err = e.q.ReceiptBatch(ctx, &types.QueryReceiptBatchRequest{LeaseId: lease, Sequence: 10})
	require.Equal(t, codes.NotFound, status.Code(err))

	byLease, err := e.q.Disputes(ctx, &types.QueryDisputesRequest{LeaseId: lease})
	require.NoError(t, err)
	require.Len(t, byLease.Disputes, 1)
	require.Equal(t, res.DisputeId, byLease.Disputes[0].Id)
	all, err := e.q.Disputes(ctx, &types.QueryDisputesRequest{})
	require.NoError(t, err)
	require.Len(t, all.Disputes, 1)
	_, err = e.q.Dispute(ctx, &types.QueryDisputeRequest{Id: 99})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = e.q.LeaseSLA(ctx, &types.QueryLeaseSLARequest{LeaseId: 99})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = e.q.Replication(ctx, &types.QueryReplicationRequest{OrderId: 99})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = e.q.Bond(ctx, &types.QueryBondRequest{Provider: "nope"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = e.q.Reputation(ctx, &types.QueryReputationRequest{Provider: "nope"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = e.q.Reports(ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = e.q.VerifyReceipt(ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}
