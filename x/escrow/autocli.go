package escrow

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/computed-network/computed/x/escrow/types"
)

// AutoCLIOptions builds `computed query escrow ...` and `computed tx escrow ...` from the services.
func (am AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/escrow params in force"},
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
