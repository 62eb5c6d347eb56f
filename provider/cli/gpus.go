package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/computed-network/computed/provider/gpu"
)

// gpusCmd prints what a backend reports, without a chain or a config: what an operator checks
// before starting the sidecar, and what the sidecar would advertise (SKU, VRAM, CC).
func gpusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gpus",
		Short: "List the GPUs the sidecar would see (NVML or mock), with the market SKU each maps to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			backend, _ := cmd.Flags().GetString("backend")
			count, _ := cmd.Flags().GetInt("mock-count")
			asJSON, _ := cmd.Flags().GetBool("json")
			b, err := openGPUs(backend, count)
			if errors.Is(err, gpu.ErrNoNVML) {
				return fmt.Errorf("%w (no NVIDIA driver here? --backend mock shows the development inventory)", err)
			} else if err != nil {
				return err
			}
			defer b.Close()
			devs, err := b.Devices(cmd.Context())
			if errors.Is(err, gpu.ErrUnreadable) {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", err) // the others are listed
			} else if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(devs)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "INDEX\tNAME\tSKU\tVRAM\tMEMORY\tUTIL\tTEMP\tCC\tDRIVER\tUUID")
			for _, d := range devs {
				cc := fmt.Sprint(d.CCEnabled)
				if d.CCEnabled && !d.CCReady {
					cc = "true (not ready)"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%d GiB\t%d MiB\t%d%%\t%d C\t%s\t%s\t%s\n",
					d.Index, d.Name, d.SKU, d.VRAMGiB, d.MemoryMiB, d.UtilizationPct, d.TemperatureC, cc, d.DriverVersion, d.UUID)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			cmd.Printf("%d GPU(s) from the %s backend\n", len(devs), b.Name())
			return nil
		},
	}
	cmd.Flags().String("backend", "nvml", "inventory backend: nvml (this machine's GPUs) or mock")
	cmd.Flags().Int("mock-count", 8, "GPUs in the mock backend")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

// openGPUs opens the inventory backend by its config name: "nvml" for this machine's GPUs, or
// "mock" for a development node of mockCount H100s (0: the default eight).
func openGPUs(backend string, mockCount int) (gpu.Backend, error) {
	switch backend {
	case "nvml":
		return gpu.NewNVML()
	case "mock":
		mc := gpu.H100Node()
		if mockCount > 0 {
			mc.Count = mockCount
		}
		return gpu.NewMock(mc), nil
	}
	return nil, fmt.Errorf("--backend must be nvml or mock, got %q", backend)
}
