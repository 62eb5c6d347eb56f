package escrow

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/computed-network/computed/x/escrow/types"
	"github.com/computed-network/computed/x/internal/cliargs"

	// Registers the protobuf-v2 types autocli builds messages from (Coin fields need them).
	_ "github.com/computed-network/computed/api/computed/escrow/v1"
)

// AutoCLIOptions builds `computed query escrow ...` and `computed tx escrow ...` from the services.
func (am AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/escrow params in force"},
				{RpcMethod: "Account", Use: "account [id]", Short: "Show an order's escrow account, settled to now", PositionalArgs: cliargs.Positional("id")},
				{RpcMethod: "Accounts", Use: "accounts", Short: "List escrow accounts (--owner)"},
				{RpcMethod: "Stream", Use: "stream [lease-id]", Short: "Show a lease's payment stream, settled to now", PositionalArgs: cliargs.Positional("lease_id")},
				{RpcMethod: "Streams", Use: "streams", Short: "List payment streams (--account-id)"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Params change only through a gov proposal carrying MsgUpdateParams (see README).
				{RpcMethod: "UpdateParams", Skip: true},
				{RpcMethod: "Deposit", Use: "deposit [account-id] [amount]", Short: "Top up an open escrow account (anyone may)", PositionalArgs: cliargs.Positional("account_id", "amount")},
				{RpcMethod: "Withdraw", Use: "withdraw [lease-id]", Short: "Withdraw a lease's earnings (payee only), less the protocol take", PositionalArgs: cliargs.Positional("lease_id")},
				{
					RpcMethod: "SetRefillPolicy", Use: "set-refill-policy [account-id] [amount] [cap] [low-water-blocks]",
					Short:          "Pre-authorise automatic top-ups from your balance (amount 0 removes the policy)",
					PositionalArgs: cliargs.Positional("account_id", "amount", "cap", "low_water_blocks"),
				},
			},
		},
	}
}
