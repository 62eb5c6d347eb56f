package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/computed-network/computed/x/escrow/types"
)

type queryServer struct {
	k Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the module's Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k: k} }

// Params returns the params in force.
func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

// settledView returns the account and its streams as they would be if settled now. Queries run
// on a branch of state that is discarded, so nothing is written.
func (k Keeper) settledView(ctx context.Context, acc types.Account) (types.Account, error) {
	cacheCtx, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
	if err := k.settle(cacheCtx, &acc, height(ctx)); err != nil {
		return acc, err
	}
	return acc, nil
}

// Account returns one account settled to the current height.
func (q queryServer) Account(ctx context.Context, req *types.QueryAccountRequest) (*types.QueryAccountResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	acc, err := q.k.Accounts.Get(ctx, req.Id)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "account %d not found", req.Id)
	}
	acc, err = q.k.settledView(ctx, acc)
	if err != nil {
		return nil, err
	}
	return &types.QueryAccountResponse{Account: acc}, nil
}

// Accounts lists accounts, all or one owner's, each settled to the current height.
func (q queryServer) Accounts(ctx context.Context, req *types.QueryAccountsRequest) (*types.QueryAccountsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	view := func(acc types.Account) (types.Account, error) { return q.k.settledView(ctx, acc) }
	if req.Owner == "" {
		accs, page, err := query.CollectionPaginate(ctx, q.k.Accounts, req.Pagination,
			func(_ uint64, acc types.Account) (types.Account, error) { return view(acc) })
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return &types.QueryAccountsResponse{Accounts: accs, Pagination: page}, nil
	}
	owner, err := q.k.addressCodec.StringToBytes(req.Owner)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "owner: %s", err)
	}
	accs, page, err := query.CollectionPaginate(ctx, q.k.AccountsByOwner, req.Pagination,
		func(key collections.Pair[[]byte, uint64], _ collections.NoValue) (types.Account, error) {
			acc, err := q.k.Accounts.Get(ctx, key.K2())
			if err != nil {
				return acc, err
			}
			return view(acc)
		}, query.WithCollectionPaginationPairPrefix[[]byte, uint64](owner))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryAccountsResponse{Accounts: accs, Pagination: page}, nil
}

// streamView returns a stream as it would be if its account were settled now.
func (k Keeper) streamView(ctx context.Context, s types.Stream) (types.Stream, error) {
	acc, err := k.Accounts.Get(ctx, s.AccountId)
	if err != nil {
		return s, err
	}
	cacheCtx, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
	if err := k.settle(cacheCtx, &acc, height(ctx)); err != nil {
		return s, err
	}
	return k.Streams.Get(cacheCtx, s.LeaseId)
}

// Stream returns one stream settled to the current height.
func (q queryServer) Stream(ctx context.Context, req *types.QueryStreamRequest) (*types.QueryStreamResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	s, err := q.k.Streams.Get(ctx, req.LeaseId)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "stream %d not found", req.LeaseId)
	}
	s, err = q.k.streamView(ctx, s)
	if err != nil {
		return nil, errorsmod.Wrap(err, "settling view")
	}
	return &types.QueryStreamResponse{Stream: s}, nil
}

// Streams lists streams, all or one account's, each settled to the current height.
func (q queryServer) Streams(ctx context.Context, req *types.QueryStreamsRequest) (*types.QueryStreamsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if req.AccountId == 0 {
		streams, page, err := query.CollectionPaginate(ctx, q.k.Streams, req.Pagination,
			func(_ uint64, s types.Stream) (types.Stream, error) { return q.k.streamView(ctx, s) })
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return &types.QueryStreamsResponse{Streams: streams, Pagination: page}, nil
	}
	streams, page, err := query.CollectionPaginate(ctx, q.k.StreamsByAccount, req.Pagination,
		func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Stream, error) {
			s, err := q.k.Streams.Get(ctx, key.K2())
			if err != nil {
				return s, err
			}
			return q.k.streamView(ctx, s)
		}, query.WithCollectionPaginationPairPrefix[uint64, uint64](req.AccountId))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryStreamsResponse{Streams: streams, Pagination: page}, nil
}
