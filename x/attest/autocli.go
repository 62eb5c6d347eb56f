package attest

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/computed-network/computed/x/attest/types"

	// Registers the protobuf-v2 types autocli builds messages from (Coin fields need them).
	_ "github.com/computed-network/computed/api/computed/attest/v1"
)

// AutoCLIOptions builds `computed query attest ...` and `computed tx attest ...` from the services.
func (am AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/attest params in force"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Params change only through a gov proposal carrying MsgUpdateParams (see README).
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
