package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/computed-network/computed/provider/receipts"
)

// receiptCmd is for buyers: fetch a receipt and its proof from a provider's sidecar and write
// receipt.json and proof.json for `computed query sla verify-receipt`.
func receiptCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "receipt [lease-id] [sequence]",
		Short: "Fetch a compute receipt and its inclusion proof from a sidecar (GET /receipts/{lease}/{seq})",
		Long: `Writes <out>/receipt.json and <out>/proof.json; check them against the chain with
computed query sla verify-receipt <lease-id> <out>/receipt.json <out>/proof.json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, _ := cmd.Flags().GetString("sidecar")
			out, _ := cmd.Flags().GetString("out")
			hc := http.Client{Timeout: 10 * time.Second}
			res, err := hc.Get(fmt.Sprintf("http://%s/receipts/%s/%s", addr, args[0], args[1]))
			if err != nil {
				return err
			}
			defer res.Body.Close()
			body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("sidecar answered %s: %s", res.Status, body)
			}
			var pr receipts.ProofResponse
			if err := json.Unmarshal(body, &pr); err != nil {
				return err
			}
			if _, err := pr.Verify(); err != nil {
				return fmt.Errorf("the sidecar's own proof does not verify: %w", err)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			rp, pp, err := receipts.WriteFiles(out, pr)
			if err != nil {
				return err
			}
			cmd.Printf("wrote %s and %s (batch %d..%d, root %s)\n", rp, pp, pr.Batch.First, pr.Batch.Last, pr.Root)
			return nil
		},
	}
	cmd.Flags().String("sidecar", "127.0.0.1:8480", "the sidecar's listen address")
	cmd.Flags().String("out", ".", "directory for receipt.json and proof.json")
	return cmd
}
