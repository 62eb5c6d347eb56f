// Package cli holds the x/sla commands autocli cannot build.
package cli

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/computed-network/computed/x/sla/types"
)

// QueryCmd is `computed query sla`; autocli adds the generated queries to it.
func QueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "Query x/sla: bonds, SLA windows, receipts, disputes, reputation",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(VerifyReceiptCmd())
	return cmd
}

// VerifyReceiptCmd checks a receipt's inclusion proof against the root anchored on chain. It
// prints the verdict and exits non-zero when the proof does not verify.
func VerifyReceiptCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-receipt [lease-id] [receipt.json] [proof.json]",
		Short: "Check a compute receipt against the Merkle root its provider anchored",
		Long: `Reads a receipt (receipt.json: the ReceiptLeaf in proto JSON) and its inclusion proof
(proof.json: CometBFT merkle proof JSON), as the sidecar serves them at
GET /receipts/{lease}/{seq}, and asks the chain whether the proof hashes to the root anchored for
the batch holding the receipt's sequence. Prints "valid" or "INVALID: <reason>"; exits 1 when invalid.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			leaseID, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || leaseID == 0 {
				return fmt.Errorf("lease id %q: must be a positive integer", args[0])
			}
			rb, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			receipt, err := types.DecodeReceiptJSON(rb)
			if err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			pb, err := os.ReadFile(args[2])
			if err != nil {
				return err
			}
			proof, err := types.DecodeProofJSON(pb)
			if err != nil {
				return fmt.Errorf("%s: %w", args[2], err)
			}
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			res, err := types.NewQueryClient(clientCtx).VerifyReceipt(cmd.Context(), &types.QueryVerifyReceiptRequest{
				LeaseId: leaseID, Receipt: receipt,
				Proof: types.MerkleProof{Total: proof.Total, Index: proof.Index, LeafHash: proof.LeafHash, Aunts: proof.Aunts},
			})
			if err != nil {
				return err
			}
			if !res.Valid {
				cmd.SilenceUsage = true
				return fmt.Errorf("INVALID: %s", res.Reason)
			}
			return clientCtx.PrintString(fmt.Sprintf("valid: receipt %d of lease %d is in batch %d..%d (root %X, anchored at height %d)\n",
				receipt.Sequence, leaseID, res.Batch.FirstSequence, res.Batch.LastSequence, res.Batch.MerkleRoot, res.Batch.Height))
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}
