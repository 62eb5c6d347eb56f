// Package cli is `computed provider ...`: init writes the sidecar's config, start runs it,
// status asks a running sidecar, grant sets up the authz grant and feegrant the sidecar acts
// through.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/provider/attest"
	"github.com/computed-network/computed/provider/chain"
	"github.com/computed-network/computed/provider/config"
	"github.com/computed-network/computed/provider/daemon"
	"github.com/computed-network/computed/provider/exec"
	"github.com/computed-network/computed/provider/exec/docker"
	"github.com/computed-network/computed/provider/exec/process"
	"github.com/computed-network/computed/provider/exec/wasm"
	"github.com/computed-network/computed/provider/state"
)

const flagConfig = "config"

// Command is `computed provider`.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Run and manage the GPU provider sidecar",
		Long: `The provider sidecar runs next to a provider's GPUs: it keeps the provider attested and
bonded, bids on orders it can serve, runs won leases behind a latency-measuring ingress, anchors
compute receipts and reports SLA windows. Its config is <home>/provider.toml (--config).`,
		RunE: client.ValidateCmd,
	}
	cmd.PersistentFlags().String(flagConfig, "", "sidecar config file (default <home>/provider.toml)")
	cmd.AddCommand(initCmd(), startCmd(), statusCmd(), gpusCmd(), grantCmd(), receiptCmd())
	return cmd
}

// loadConfig reads the sidecar config, and on a missing file says how to write one.
func loadConfig(cmd *cobra.Command) (config.Config, error) {
	path := configPath(cmd)
	c, err := config.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		where := "--home " + filepath.Dir(path)
		if p, _ := cmd.Flags().GetString(flagConfig); p != "" {
			where = "--config " + p
		}
		return c, fmt.Errorf("no sidecar config at %s; write one with `computed provider init %s`", path, where)
	}
	return c, err
}

func configPath(cmd *cobra.Command) string {
	if p, _ := cmd.Flags().GetString(flagConfig); p != "" {
		return p
	}
	home, _ := cmd.Flags().GetString(flags.FlagHome)
	return filepath.Join(home, "provider.toml")
}

func initCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented sidecar config with development defaults",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString(flags.FlagHome)
			// Absolute, so that the paths written under it mean the same whatever directory
			// the sidecar later starts in (Load reads relative ones as the config file's).
			home, err := filepath.Abs(home)
			if err != nil {
				return err
			}
			c := config.Default(home)
			set := func(flag string, dst *string) {
				if v, _ := cmd.Flags().GetString(flag); v != "" {
					*dst = v
				}
			}
			set("metro", &c.Provider.Metro)
			set("operator", &c.Provider.Operator)
			set("key", &c.Chain.KeyName)
			set("chain-id", &c.Chain.ChainID)
			set("chain-rpc", &c.Chain.RPC)
			set("listen", &c.Listen.HTTP)
			set("gpu-backend", &c.GPU.Backend)
			set("bond", &c.Provider.Bond)
			set(flags.FlagKeyringBackend, &c.Chain.KeyringBackend)
			if v, _ := cmd.Flags().GetString("devattest"); v != "" {
				c.Attest.TokenCommand[0], c.Attest.ClaimsCommand[0] = v, v
			}
			if c.Listen.HTTP != "" {
				c.Provider.Endpoint = "http://" + c.Listen.HTTP
			}
			if err := c.Validate(); err != nil {
				return err
			}
			force, _ := cmd.Flags().GetBool("force")
			path := configPath(cmd)
			if err := config.Write(path, c, force); err != nil {
				return err
			}
			if err := os.MkdirAll(c.Executors.WASMDir, 0o755); err != nil {
				return err
			}
			cmd.Printf("wrote %s\n", path)
			return nil
		},
	}
	cmd.Flags().String("metro", "", "metro the provider serves (e.g. FRA)")
	cmd.Flags().String("operator", "", "operator address the sidecar acts for (through an authz grant)")
	cmd.Flags().String("key", "", "the sidecar's key name")
	cmd.Flags().String("chain-id", "", "chain id")
	cmd.Flags().String("chain-rpc", "", "node RPC (tcp://host:26657)")
	cmd.Flags().String("listen", "", "ingress/status/metrics listen address (host:port)")
	cmd.Flags().String("gpu-backend", "", "nvml or mock")
	cmd.Flags().String("bond", "", "collateral to keep bonded (e.g. 1000000uusdc)")
	cmd.Flags().String("devattest", "", "path of the development attestation issuer (build/devattest)")
	cmd.Flags().String(flags.FlagKeyringBackend, "", "keyring backend")
	cmd.Flags().Bool("force", false, "overwrite an existing config")
	return cmd
}

func startCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run the sidecar until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d, closeAll, err := build(cmd, c)
			if err != nil {
				return err
			}
			defer closeAll()
			return d.Run(ctx)
		},
	}
	return cmd
}

// build assembles a daemon from config, reaching the node and the keyring the config names.
func build(cmd *cobra.Command, c config.Config) (*daemon.Daemon, func(), error) {
	clientCtx, err := client.GetClientQueryContext(cmd)
	if err != nil {
		return nil, nil, err
	}
	rpc, err := rpchttp.New(c.Chain.RPC, "/websocket")
	if err != nil {
		return nil, nil, fmt.Errorf("chain.rpc: %w", err)
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), c.Chain.KeyringBackend, c.Chain.KeyringDir, os.Stdin, clientCtx.Codec)
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	clientCtx = clientCtx.WithClient(rpc).WithNodeURI(c.Chain.RPC).WithChainID(c.Chain.ChainID).WithKeyring(kr)
	return Assemble(c, clientCtx, rpc, nil, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
}

// Assemble builds the daemon `computed provider start` runs from config: chain client, state
// store, GPUs, executors and collector. clientCtx must carry the codec, tx config, keyring and
// chain id, and rpc the node's websocket client. A nil collector is the one the config selects;
// tests pass one that signs in process. The returned func releases the store and the GPUs.
func Assemble(c config.Config, clientCtx client.Context, rpc rpcclient.Client, collector attest.Collector, log *slog.Logger) (*daemon.Daemon, func(), error) {
	fees, err := sdk.ParseCoinsNormalized(c.Chain.Fees)
	if err != nil {
		return nil, nil, fmt.Errorf("chain.fees: %w", err)
	}
	cl, err := chain.New(clientCtx, chain.Config{KeyName: c.Chain.KeyName, Provider: c.Provider.Operator, Fees: fees, Gas: c.Chain.Gas, FeeGranter: c.Chain.FeeGranter})
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, nil, err
	}
	store, err := state.Open(filepath.Join(c.DataDir, "sidecar.db"))
	if err != nil {
		return nil, nil, err
	}
	gpus, err := openGPUs(c.GPU.Backend, c.GPU.MockCount)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	closeAll := func() { store.Close(); gpus.Close() }
	wd, err := wasm.New(wasm.Config{
		ModuleDir: c.Executors.WASMDir, Timeout: c.Executors.JobTimeout.Duration, CacheDir: filepath.Join(c.DataDir, "wasm-cache"),
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	drivers := map[string]exec.Driver{"wasm": wd}
	if len(c.Executors.ProcessAllow) > 0 {
		drivers["process"] = process.New(process.Config{Allow: c.Executors.ProcessAllow})
	}
	if c.Executors.Docker {
		shared := docker.EngineNetwork(c.Executors.DockerNetwork)
		dd, err := docker.New(docker.Config{
			GPURuntime: c.Executors.DockerGPUs, DefaultMemoryMiB: c.Executors.DefaultMemMiB,
			Network: c.Executors.DockerNetwork, IsolateNetwork: !shared,
		})
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("docker: %w", err)
		}
		drivers["docker"] = dd
		if shared {
			log.Warn("docker executor on the engine's own network: lease containers can reach one another; set executors.docker_network (e.g. \"computed-leases\") to isolate them", "network", c.Executors.DockerNetwork)
		}
	}
	if collector == nil {
		collector = attest.Command{TokenCmd: c.Attest.TokenCommand, ClaimsCmd: c.Attest.ClaimsCommand}
		if c.Attest.Mode == "nras" {
			collector = attest.NRAS{URL: c.Attest.NRASURL, Backend: gpus}
		}
	}
	d, err := daemon.New(c, daemon.Deps{
		Chain: cl, Watcher: chain.NewWatcher(rpc), Store: store, GPUs: gpus, Drivers: drivers, Collector: collector, Log: log,
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return d, closeAll, nil
}

func statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Print a running sidecar's GPUs, attestation, bond, bids and leases",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			hc := http.Client{Timeout: 10 * time.Second}
			res, err := hc.Get("http://" + c.Listen.HTTP + "/status")
			if err != nil {
				return fmt.Errorf("sidecar at %s: %w (is `computed provider start` running?)", c.Listen.HTTP, err)
			}
			defer res.Body.Close()
			var st daemon.Status
			if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&st); err != nil {
				return err
			}
			return printStatus(cmd.OutOrStdout(), st)
		},
	}
}

func printStatus(w io.Writer, st daemon.Status) error {
	fmt.Fprintf(w, "provider   %s (height %d)\n", st.Provider, st.Height)
	fmt.Fprintf(w, "chain      %s\n", st.Chain)
	fmt.Fprintf(w, "attest     %s\n", st.Attestation)
	fmt.Fprintf(w, "bond       %s (locked %s)\n", st.Bond, st.Locked)
	fmt.Fprintf(w, "reputation %d bps\n", st.Reputation)
	fmt.Fprintf(w, "gpus       %d\n", len(st.GPUs))
	for _, g := range st.GPUs {
		fmt.Fprintf(w, "  %s %s util %d%% reserved=%v\n", g.UUID, g.SKU, g.Utilisation, g.Reserved)
	}
	fmt.Fprintf(w, "open bids  %v\n", st.OpenBids)
	fmt.Fprintf(w, "leases     %d\n", len(st.Leases))
	for _, l := range st.Leases {
		fmt.Fprintf(w, "  lease %d order %d %s ingress %s runway %d blocks, SLA %d/%d windows met, %d breaches, %d receipts anchored\n",
			l.ID, l.Order, l.Executor, l.Ingress, l.RunwayBlocks, l.WindowsMet, l.WindowsJudged, l.Breaches, l.Anchored)
	}
	return nil
}
