package attest

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/internal/cliargs"

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
				{RpcMethod: "Provider", Use: "provider [operator]", Short: "Show a registered provider", PositionalArgs: cliargs.Positional("operator")},
				{RpcMethod: "Providers", Use: "providers", Short: "List registered providers"},
				{RpcMethod: "Challenge", Use: "challenge [id]", Short: "Show an outstanding challenge", PositionalArgs: cliargs.Positional("id")},
				{RpcMethod: "Attestation", Use: "attestation [provider]", Short: "Show a provider's attestation records", PositionalArgs: cliargs.Positional("provider")},
				{RpcMethod: "Attestations", Use: "attestations", Short: "List all attestation records"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Params change only through a gov proposal carrying MsgUpdateParams (see README).
				{RpcMethod: "UpdateParams", Skip: true},
				{
					RpcMethod: "RegisterProvider", Use: "register-provider [metro] [endpoint]",
					Short:          "Register the signer as a provider (--hot-key for the sidecar's account)",
					PositionalArgs: cliargs.Positional("metro", "endpoint"),
				},
				{
					RpcMethod: "UpdateProvider", Use: "update-provider [metro] [endpoint]",
					Short:          "Replace the signer's metro, endpoint and hot key",
					PositionalArgs: cliargs.Positional("metro", "endpoint"),
				},
				{RpcMethod: "DeregisterProvider", Use: "deregister-provider", Short: "Remove the signer's registration and attestation records"},
				{RpcMethod: "RequestChallenge", Use: "request-challenge", Short: "Get a single-use nonce to bind attestation evidence to"},
				{
					RpcMethod: "SubmitAttestation", Use: "submit-attestation [challenge-id] [evidence-type] [evidence]",
					Short: "Submit evidence bound to a challenge; evidence is a file path (or hex, or base64), --gpus in evidence order",
					Example: `computed tx attest submit-attestation 7 nvidia-nras ./eat.json --from provider \
  --gpus '{"sku":"H100-SXM-80GB","vram_gib":80,"uuid":"GPU-6f1c..."}' --gpus '{"sku":"H100-SXM-80GB","vram_gib":80,"uuid":"GPU-77aa..."}'`,
					PositionalArgs: cliargs.Positional("challenge_id", "evidence_type", "evidence"),
				},
			},
		},
	}
}
