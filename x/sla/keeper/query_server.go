package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/types/query"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/computed-network/computed/x/sla/types"
)

type queryServer struct {
	k Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the module's Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k: k} }

var errEmpty = status.Error(codes.InvalidArgument, "empty request")

// Params returns the params in force.
func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) provider(s string) ([]byte, error) {
	a, err := q.k.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "provider: %s", err)
	}
	return a, nil
}

// Bond returns a provider's bond and unbondings.
func (q queryServer) Bond(ctx context.Context, req *types.QueryBondRequest) (*types.QueryBondResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	p, err := q.provider(req.Provider)
	if err != nil {
		return nil, err
	}
	b, err := q.k.getBond(ctx, p)
	if err != nil {
		return nil, err
	}
	iter, err := q.k.UnbondingsByProvider.Iterate(ctx, collections.NewPrefixedPairRange[[]byte, uint64](p))
	if err != nil {
		return nil, err
	}
	keys, err := iter.Keys()
	if err != nil {
		return nil, err
	}
	out := &types.QueryBondResponse{Bond: b}
	for _, key := range keys {
		u, err := q.k.Unbondings.Get(ctx, key.K2())
		if err != nil {
			return nil, err
		}
		out.Unbondings = append(out.Unbondings, u)
	}
	return out, nil
}

// LeaseSLA returns the SLA state of a lease.
func (q queryServer) LeaseSLA(ctx context.Context, req *types.QueryLeaseSLARequest) (*types.QueryLeaseSLAResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	ls, err := q.k.Leases.Get(ctx, req.LeaseId)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "lease %d is not enforced by x/sla", req.LeaseId)
	}
	params, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	var due int64
	if ls.Terms.WindowBlocks > 0 {
		due = types.WindowDue(ls.StartHeight, ls.Terms.WindowBlocks, ls.NextWindow, params.ReportGraceBlocks)
	}
	return &types.QueryLeaseSLAResponse{Lease: ls, NextWindowDue: due}, nil
}

// Reports pages through a lease's windows.
func (q queryServer) Reports(ctx context.Context, req *types.QueryReportsRequest) (*types.QueryReportsResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	reports, page, err := query.CollectionPaginate(ctx, q.k.Reports, req.Pagination,
		func(_ collections.Pair[uint64, uint64], r types.SLAReport) (types.SLAReport, error) { return r, nil },
		query.WithCollectionPaginationPairPrefix[uint64, uint64](req.LeaseId))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryReportsResponse{Reports: reports, Pagination: page}, nil
}

// ReceiptBatches pages through a lease's anchored batches.
func (q queryServer) ReceiptBatches(ctx context.Context, req *types.QueryReceiptBatchesRequest) (*types.QueryReceiptBatchesResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	batches, page, err := query.CollectionPaginate(ctx, q.k.Batches, req.Pagination,
		func(_ collections.Pair[uint64, uint64], b types.ReceiptBatch) (types.ReceiptBatch, error) {
			return b, nil
		},
		query.WithCollectionPaginationPairPrefix[uint64, uint64](req.LeaseId))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryReceiptBatchesResponse{Batches: batches, Pagination: page}, nil
}

// ReceiptBatch returns the batch holding a sequence.
func (q queryServer) ReceiptBatch(ctx context.Context, req *types.QueryReceiptBatchRequest) (*types.QueryReceiptBatchResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	b, err := q.k.BatchFor(ctx, req.LeaseId, req.Sequence)
	if errors.Is(err, types.ErrBatchNotFound) {
		return nil, status.Error(codes.NotFound, err.Error())
	} else if err != nil {
		return nil, err
	}
	return &types.QueryReceiptBatchResponse{Batch: b}, nil
}

// VerifyReceipt says whether a receipt is included under the anchored root, and if not, why.
func (q queryServer) VerifyReceipt(ctx context.Context, req *types.QueryVerifyReceiptRequest) (*types.QueryVerifyReceiptResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	b, err := q.k.VerifyReceipt(ctx, req.LeaseId, req.Receipt, req.Proof)
	if err != nil {
		return &types.QueryVerifyReceiptResponse{Valid: false, Reason: err.Error(), Batch: b}, nil
	}
	return &types.QueryVerifyReceiptResponse{Valid: true, Batch: b}, nil
}

// Dispute returns one dispute.
func (q queryServer) Dispute(ctx context.Context, req *types.QueryDisputeRequest) (*types.QueryDisputeResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	d, err := q.k.Disputes.Get(ctx, req.Id)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "dispute %d not found", req.Id)
	}
	return &types.QueryDisputeResponse{Dispute: d}, nil
}

// Disputes pages through disputes, of one lease when given.
func (q queryServer) Disputes(ctx context.Context, req *types.QueryDisputesRequest) (*types.QueryDisputesResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	var (
		disputes []types.Dispute
		page     *query.PageResponse
		err      error
	)
	if req.LeaseId != 0 {
		disputes, page, err = query.CollectionPaginate(ctx, q.k.DisputesByLease, req.Pagination,
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Dispute, error) {
				return q.k.Disputes.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[uint64, uint64](req.LeaseId))
	} else {
		disputes, page, err = query.CollectionPaginate(ctx, q.k.Disputes, req.Pagination,
			func(_ uint64, d types.Dispute) (types.Dispute, error) { return d, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryDisputesResponse{Disputes: disputes, Pagination: page}, nil
}

// Reputation returns a provider's score.
func (q queryServer) Reputation(ctx context.Context, req *types.QueryReputationRequest) (*types.QueryReputationResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	p, err := q.provider(req.Provider)
	if err != nil {
		return nil, err
	}
	score, judged, err := q.k.reputation(ctx, p)
	if err != nil {
		return nil, err
	}
	return &types.QueryReputationResponse{ScoreBps: score, Judged: judged}, nil
}

// Replication returns a replicated order's commit-reveal state.
func (q queryServer) Replication(ctx context.Context, req *types.QueryReplicationRequest) (*types.QueryReplicationResponse, error) {
	if req == nil {
		return nil, errEmpty
	}
	r, err := q.k.Replications.Get(ctx, req.OrderId)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "order %d has no replication", req.OrderId)
	}
	return &types.QueryReplicationResponse{Replication: r}, nil
}
