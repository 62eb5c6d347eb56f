package keeper

import (
	"context"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/computed-network/computed/x/market/types"
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

// Order returns one order.
func (q queryServer) Order(ctx context.Context, req *types.QueryOrderRequest) (*types.QueryOrderResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	o, err := q.k.Orders.Get(ctx, req.Id)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "order %d not found", req.Id)
	}
	return &types.QueryOrderResponse{Order: o}, nil
}

// Bid returns one bid.
func (q queryServer) Bid(ctx context.Context, req *types.QueryBidRequest) (*types.QueryBidResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	b, err := q.k.Bids.Get(ctx, req.Id)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "bid %d not found", req.Id)
	}
	return &types.QueryBidResponse{Bid: b}, nil
}

// Lease returns one lease.
func (q queryServer) Lease(ctx context.Context, req *types.QueryLeaseRequest) (*types.QueryLeaseResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	l, err := q.k.Leases.Get(ctx, req.Id)
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "lease %d not found", req.Id)
	}
	return &types.QueryLeaseResponse{Lease: l}, nil
}

// byIndex pages through an address-keyed index under prefix (all of it when prefix is nil),
// loading and filtering each object.
func byIndex[T any](
	ctx context.Context, idx collections.KeySet[collections.Pair[[]byte, uint64]], prefix []byte,
	page *query.PageRequest, load func(context.Context, uint64) (T, error), keep func(T) bool,
) ([]T, *query.PageResponse, error) {
	var opts []func(*query.CollectionsPaginateOptions[collections.Pair[[]byte, uint64]])
	if prefix != nil {
		opts = append(opts, query.WithCollectionPaginationPairPrefix[[]byte, uint64](prefix))
	}
	return query.CollectionFilteredPaginate(ctx, idx, page,
		func(key collections.Pair[[]byte, uint64], _ collections.NoValue) (bool, error) {
			v, err := load(ctx, key.K2())
			return err == nil && keep(v), err
		},
		func(key collections.Pair[[]byte, uint64], _ collections.NoValue) (T, error) {
			return load(ctx, key.K2())
		},
		opts...)
}

func (q queryServer) optionalAddr(s, field string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	a, err := q.k.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: %s", field, err)
	}
	return a, nil
}

// Orders lists orders, by owner when given, filtered by state when given. Open orders without an
// owner come in the order their bidding closes; other lists in id order.
func (q queryServer) Orders(ctx context.Context, req *types.QueryOrdersRequest) (*types.QueryOrdersResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	owner, err := q.optionalAddr(req.Owner, "owner")
	if err != nil {
		return nil, err
	}
	keep := func(o types.Order) bool { return req.State == types.ORDER_STATE_UNSPECIFIED || o.State == req.State }
	var (
		orders []types.Order
		page   *query.PageResponse
	)
	switch {
	case owner != nil:
		orders, page, err = byIndex(ctx, q.k.OrdersByOwner, owner, req.Pagination, q.k.Orders.Get, keep)
	case req.State == types.ORDER_STATE_OPEN:
		// Every open order is in the clearing queue, in the order bidding closes: a sidecar
		// catching up pages through the open orders, not every order ever made. (An order whose
		// clearing failed in EndBlock stays OPEN but leaves the queue, and this list: it takes no
		// more bids, and its owner can still close it.)
		orders, page, err = query.CollectionFilteredPaginate(ctx, q.k.BiddingCloseQueue, req.Pagination,
			func(key collections.Pair[int64, uint64], _ collections.NoValue) (bool, error) {
				o, err := q.k.Orders.Get(ctx, key.K2())
				return err == nil && keep(o), err
			},
			func(key collections.Pair[int64, uint64], _ collections.NoValue) (types.Order, error) {
				return q.k.Orders.Get(ctx, key.K2())
			})
	default:
		orders, page, err = query.CollectionFilteredPaginate(ctx, q.k.Orders, req.Pagination,
			func(_ uint64, o types.Order) (bool, error) { return keep(o), nil },
			func(_ uint64, o types.Order) (types.Order, error) { return o, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryOrdersResponse{Orders: orders, Pagination: page}, nil
}

// Bids lists bids by order or provider when given, filtered by state when given; open bids
// not of one order come by provider, then id.
func (q queryServer) Bids(ctx context.Context, req *types.QueryBidsRequest) (*types.QueryBidsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	provider, err := q.optionalAddr(req.Provider, "provider")
	if err != nil {
		return nil, err
	}
	keep := func(b types.Bid) bool {
		return (req.State == types.BID_STATE_UNSPECIFIED || b.State == req.State) &&
			(req.OrderId == 0 || b.OrderId == req.OrderId) && (req.Provider == "" || b.Provider == req.Provider)
	}
	var (
		bids []types.Bid
		page *query.PageResponse
	)
	switch {
	case req.OrderId != 0:
		bids, page, err = query.CollectionFilteredPaginate(ctx, q.k.BidsByOrder, req.Pagination,
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (bool, error) {
				b, err := q.k.Bids.Get(ctx, key.K2())
				return err == nil && keep(b), err
			},
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Bid, error) {
				return q.k.Bids.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[uint64, uint64](req.OrderId))
	case req.State == types.BID_STATE_OPEN:
		// Open bids are in the live-bid index (by provider, then id), which closed ones leave:
		// the page costs its own bids, not a walk past every bid ever made.
		bids, page, err = byIndex(ctx, q.k.LiveBids, provider, req.Pagination, q.k.Bids.Get, keep)
	case provider != nil:
		bids, page, err = byIndex(ctx, q.k.BidsByProvider, provider, req.Pagination, q.k.Bids.Get, keep)
	default:
		bids, page, err = query.CollectionFilteredPaginate(ctx, q.k.Bids, req.Pagination,
			func(_ uint64, b types.Bid) (bool, error) { return keep(b), nil },
			func(_ uint64, b types.Bid) (types.Bid, error) { return b, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryBidsResponse{Bids: bids, Pagination: page}, nil
}

// Leases lists leases by owner or provider when given, filtered by state when given; active
// leases not of one owner come by provider, then id.
func (q queryServer) Leases(ctx context.Context, req *types.QueryLeasesRequest) (*types.QueryLeasesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	owner, err := q.optionalAddr(req.Owner, "owner")
	if err != nil {
		return nil, err
	}
	provider, err := q.optionalAddr(req.Provider, "provider")
	if err != nil {
		return nil, err
	}
	keep := func(l types.Lease) bool {
		return (req.State == types.LEASE_STATE_UNSPECIFIED || l.State == req.State) &&
			(req.Owner == "" || l.Owner == req.Owner) && (req.Provider == "" || l.Provider == req.Provider)
	}
	var (
		leases []types.Lease
		page   *query.PageResponse
	)
	switch {
	case owner != nil:
		leases, page, err = byIndex(ctx, q.k.LeasesByOwner, owner, req.Pagination, q.k.Leases.Get, keep)
	case req.State == types.LEASE_STATE_ACTIVE:
		// Likewise the live-lease index (by provider, then id).
		leases, page, err = byIndex(ctx, q.k.LiveLeases, provider, req.Pagination, q.k.Leases.Get, keep)
	case provider != nil:
		leases, page, err = byIndex(ctx, q.k.LeasesByProvider, provider, req.Pagination, q.k.Leases.Get, keep)
	default:
		leases, page, err = query.CollectionFilteredPaginate(ctx, q.k.Leases, req.Pagination,
			func(_ uint64, l types.Lease) (bool, error) { return keep(l), nil },
			func(_ uint64, l types.Lease) (types.Lease, error) { return l, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryLeasesResponse{Leases: leases, Pagination: page}, nil
}

// Prices returns price index entries, for one SKU (and metro) when given.
func (q queryServer) Prices(ctx context.Context, req *types.QueryPricesRequest) (*types.QueryPricesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if req.Metro != "" && req.GpuSku == "" {
		return nil, status.Error(codes.InvalidArgument, "metro needs gpu_sku")
	}
	// The index has one entry per (SKU, metro, denom) ever cleared: small enough to filter.
	prices, page, err := query.CollectionFilteredPaginate(ctx, q.k.Prices, req.Pagination,
		func(_ collections.Triple[string, string, string], e types.PriceIndexEntry) (bool, error) {
			return (req.GpuSku == "" || e.GpuSku == req.GpuSku) && (req.Metro == "" || e.Metro == req.Metro), nil
		},
		func(_ collections.Triple[string, string, string], e types.PriceIndexEntry) (types.PriceIndexEntry, error) {
			return e, nil
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryPricesResponse{Prices: prices, Pagination: page}, nil
}
