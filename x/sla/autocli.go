package sla

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/computed-network/computed/x/internal/cliargs"
	"github.com/computed-network/computed/x/sla/types"

	// Registers the protobuf-v2 types autocli builds messages from (Coin fields need them).
	_ "github.com/computed-network/computed/api/computed/sla/v1"
)

// AutoCLIOptions builds `computed query sla ...` and `computed tx sla ...` from the services.
// verify-receipt is hand-written (cli.go): it reads the receipt and proof from files.
func (am AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Query_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/sla params in force"},
				{RpcMethod: "Bond", Use: "bond [provider]", Short: "Show a provider's bond, locks and unbondings", PositionalArgs: cliargs.Positional("provider")},
				{RpcMethod: "LeaseSLA", Use: "lease [lease-id]", Short: "Show what x/sla enforces on a lease (windows, breaches, receipts)", PositionalArgs: cliargs.Positional("lease_id")},
				{RpcMethod: "Reports", Use: "reports [lease-id]", Short: "List a lease's SLA windows and verdicts", PositionalArgs: cliargs.Positional("lease_id")},
				{RpcMethod: "ReceiptBatches", Use: "batches [lease-id]", Short: "List a lease's anchored receipt batches", PositionalArgs: cliargs.Positional("lease_id")},
				{RpcMethod: "ReceiptBatch", Use: "batch [lease-id] [sequence]", Short: "Show the anchored batch holding a receipt", PositionalArgs: cliargs.Positional("lease_id", "sequence")},
				{RpcMethod: "VerifyReceipt", Skip: true},
				{RpcMethod: "Dispute", Use: "dispute [id]", Short: "Show a dispute", PositionalArgs: cliargs.Positional("id")},
				{RpcMethod: "Disputes", Use: "disputes", Short: "List disputes (--lease-id)"},
				{RpcMethod: "Reputation", Use: "reputation [provider]", Short: "Show a provider's reputation in basis points", PositionalArgs: cliargs.Positional("provider")},
				{RpcMethod: "Replication", Use: "replication [order-id]", Short: "Show a replicated order's commit-reveal", PositionalArgs: cliargs.Positional("order_id")},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Params change only through a gov proposal carrying MsgUpdateParams (see README).
				{RpcMethod: "UpdateParams", Skip: true},
				{RpcMethod: "Bond", Use: "bond [amount]", Short: "Bond collateral as a provider", PositionalArgs: cliargs.Positional("amount")},
				{RpcMethod: "Unbond", Use: "unbond [amount]", Short: "Start returning free bond (after unbonding_blocks)", PositionalArgs: cliargs.Positional("amount")},
				{
					RpcMethod: "SubmitReceiptBatch", Use: "submit-receipt-batch [lease-id] [first] [last] [count] [merkle-root-hex] [usage]",
					Short: "Anchor the Merkle root of a lease's next receipts", PositionalArgs: cliargs.Positional("lease_id", "first_sequence", "last_sequence", "count", "merkle_root", "usage"),
				},
				{
					RpcMethod: "SubmitSLAReport", Use: "submit-sla-report [lease-id] [window]",
					Short:          "Report a window (--requests --p95-latency-us --p99-latency-us --availability-bps --samples-root hex)",
					PositionalArgs: cliargs.Positional("lease_id", "window"),
				},
				{
					RpcMethod: "OpenDispute", Use: "open-dispute [lease-id] [window]",
					Short:          "Dispute a window judged met (--requests --p95-latency-us --p99-latency-us --availability-bps --evidence-root hex); locks the dispute deposit",
					PositionalArgs: cliargs.Positional("lease_id", "window"),
				},
				{RpcMethod: "RespondDispute", Use: "respond-dispute [dispute-id] [evidence-root-hex]", Short: "Answer a dispute as its provider (--statement)", PositionalArgs: cliargs.Positional("dispute_id", "evidence_root")},
				{RpcMethod: "VoteDispute", Use: "vote-dispute [dispute-id] [for-buyer]", Short: "Vote on an answered dispute as an arbiter (true: buyer wins)", PositionalArgs: cliargs.Positional("dispute_id", "for_buyer")},
				{RpcMethod: "CommitResult", Use: "commit-result [lease-id] [commitment-hex]", Short: "Commit SHA-256(result ‖ provider ‖ salt) for a replicated order", PositionalArgs: cliargs.Positional("lease_id", "commitment")},
				{RpcMethod: "RevealResult", Use: "reveal-result [lease-id] [result-digest-hex] [salt-hex]", Short: "Reveal a committed result", PositionalArgs: cliargs.Positional("lease_id", "result_digest", "salt")},
			},
		},
	}
}
