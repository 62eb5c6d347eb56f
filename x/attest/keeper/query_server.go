package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/computed-network/computed/x/attest/types"
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

// Provider returns one provider.
func (q queryServer) Provider(ctx context.Context, req *types.QueryProviderRequest) (*types.QueryProviderResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	operator, err := q.k.addr(req.Operator, "operator")
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	p, err := q.k.Providers.Get(ctx, operator)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "provider %s not registered", req.Operator)
	} else if err != nil {
		return nil, err
	}
	return &types.QueryProviderResponse{Provider: p}, nil
}

// Providers pages through providers in address order.
func (q queryServer) Providers(ctx context.Context, req *types.QueryProvidersRequest) (*types.QueryProvidersResponse, error) {
	if req == nil {
		req = &types.QueryProvidersRequest{}
	}
	out, page, err := query.CollectionPaginate(ctx, q.k.Providers, req.Pagination,
		func(_ []byte, p types.Provider) (types.Provider, error) { return p, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryProvidersResponse{Providers: out, Pagination: page}, nil
}

// Challenge returns one outstanding challenge.
func (q queryServer) Challenge(ctx context.Context, req *types.QueryChallengeRequest) (*types.QueryChallengeResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	c, err := q.k.Challenges.Get(ctx, req.Id)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "challenge %d not found (never issued, used or expired)", req.Id)
	} else if err != nil {
		return nil, err
	}
	return &types.QueryChallengeResponse{Challenge: c}, nil
}

// Attestation returns a provider's records, one per evidence type.
func (q queryServer) Attestation(ctx context.Context, req *types.QueryAttestationRequest) (*types.QueryAttestationResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	provider, err := q.k.addr(req.Provider, "provider")
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	records, err := q.k.providerRecords(ctx, provider)
	if err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, status.Errorf(codes.NotFound, "provider %s has no attestation record", req.Provider)
	}
	return &types.QueryAttestationResponse{Records: records}, nil
}

// Attestations pages through all records in (provider, evidence type) order.
func (q queryServer) Attestations(ctx context.Context, req *types.QueryAttestationsRequest) (*types.QueryAttestationsResponse, error) {
	if req == nil {
		req = &types.QueryAttestationsRequest{}
	}
	out, page, err := query.CollectionPaginate(ctx, q.k.Records, req.Pagination,
		func(_ collections.Pair[[]byte, int32], r types.AttestationRecord) (types.AttestationRecord, error) {
			return r, nil
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryAttestationsResponse{Records: out, Pagination: page}, nil
}
