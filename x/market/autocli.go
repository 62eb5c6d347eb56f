package market

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/computed-network/computed/x/internal/cliargs"
	"github.com/computed-network/computed/x/market/types"

	// Registers the protobuf-v2 types autocli builds messages from (Coin fields need them).
	_ "github.com/computed-network/computed/api/computed/market/v1"
)

// AutoCLIOptions builds `computed query market ...` and `computed tx market ...` from the services.
func (am AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/market params in force"},
				{RpcMethod: "Order", Use: "order [id]", Short: "Show an order", PositionalArgs: cliargs.Positional("id")},
				{RpcMethod: "Orders", Use: "orders", Short: "List orders (--owner, --state open|active|closed)"},
				{RpcMethod: "Bid", Use: "bid [id]", Short: "Show a bid", PositionalArgs: cliargs.Positional("id")},
				{RpcMethod: "Bids", Use: "bids", Short: "List bids (--order-id, --provider, --state open|won|lost|closed)"},
				{RpcMethod: "Lease", Use: "lease [id]", Short: "Show a lease", PositionalArgs: cliargs.Positional("id")},
				{RpcMethod: "Leases", Use: "leases", Short: "List leases (--owner, --provider, --state active|closed)"},
				{RpcMethod: "Prices", Use: "prices", Short: "Show the price index (--gpu-sku, --metro)"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Params change only through a gov proposal carrying MsgUpdateParams (see README).
				{RpcMethod: "UpdateParams", Skip: true},
				{
					RpcMethod: "CreateOrder", Use: "create-order",
					Short: "Open an order for GPUs and lock its deposit in escrow",
					Example: `computed tx market create-order --from alice \
  --requirements '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"FRA"}' \
  --max-price-per-block 2000uusdc --deposit 5000000uusdc --bidding-window-blocks 10 \
  --policy auto --replicas 1 \
  --workload '{"wasm_hash":"<64 hex>"}' --sla '{"p95_latency_ms":50,"availability_bps":9990,"window_blocks":100,"penalty_bps":500}'`,
				},
				{RpcMethod: "CloseOrder", Use: "close-order [order-id]", Short: "Close your order and get back what escrow has not paid", PositionalArgs: cliargs.Positional("order_id")},
				{RpcMethod: "CreateBid", Use: "create-bid [order-id] [price-per-block]", Short: "Bid on an open order (pays the bid deposit)", PositionalArgs: cliargs.Positional("order_id", "price_per_block")},
				{RpcMethod: "CloseBid", Use: "close-bid [bid-id]", Short: "Withdraw your open bid and get its deposit back", PositionalArgs: cliargs.Positional("bid_id")},
				{
					RpcMethod: "AcceptBid", Use: "accept-bid [order-id] [bid-id]...", Short: "Clear your MANUAL order with one bid per replica",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "order_id"}, {ProtoField: "bid_ids", Varargs: true}},
				},
				{RpcMethod: "CloseLease", Use: "close-lease [lease-id]", Short: "End a lease (as its owner or provider); --detail records why", PositionalArgs: cliargs.Positional("lease_id")},
			},
		},
	}
}
