// Package cmd builds the computed command tree.
package cmd

import (
	"os"

	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/depinject"
	"cosmossdk.io/log"
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtxconfig "github.com/cosmos/cosmos-sdk/x/auth/tx/config"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/computed-network/computed/app"
)

// NewRootCmd builds `computed` with every node, key, genesis, tx and query command.
func NewRootCmd() *cobra.Command {
	app.SetAddressPrefixes()

	var (
		autoCliOpts        autocli.AppOptions
		moduleBasicManager module.BasicManager
		clientCtx          client.Context
	)
	if err := depinject.Inject(
		depinject.Configs(app.AppConfig(),
			depinject.Supply(log.NewNopLogger()),
			depinject.Provide(ProvideClientContext),
		),
		&autoCliOpts,
		&moduleBasicManager,
		&clientCtx,
	); err != nil {
		panic(err)
	}

	rootCmd := &cobra.Command{
		Use:           app.Name,
		Short:         "computed: a verifiable market for GPU compute (node, client and provider)",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())

			if err := requireInitialisedHome(cmd); err != nil {
				return err
			}

			clientCtx = clientCtx.WithCmdContext(cmd.Context())
			clientCtx, err := client.ReadPersistentCommandFlags(clientCtx, cmd.Flags())
			if err != nil {
				return err
			}
			if sidecarOnly(cmd) {
				// The sidecar reads provider.toml; the SDK's handlers below would write a node's
				// config.toml, app.toml and client.toml into its home.
				return client.SetCmdClientContextHandler(clientCtx, cmd)
			}
			// A fresh viper per command: viper keeps every config path it was given, and the first
			// one holding a client.toml would win over --home.
			clientCtx, err = config.ReadFromClientConfig(clientCtx.WithViper("COMPUTED"))
			if err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(clientCtx, cmd); err != nil {
				return err
			}
			appTemplate, appConfig := initAppConfig()
			return server.InterceptConfigsPreRunHandler(cmd, appTemplate, appConfig, initCometBFTConfig())
		},
	}

	// IBC modules are not built by depinject, so the CLI registers them itself.
	for name, mod := range app.RegisterIBC(clientCtx.InterfaceRegistry) {
		moduleBasicManager[name] = module.CoreAppModuleBasicAdaptor(name, mod)
		autoCliOpts.Modules[name] = mod
	}

	initRootCmd(rootCmd, clientCtx.TxConfig, moduleBasicManager)

	overwriteFlagDefaults(rootCmd, map[string]string{
		flags.FlagChainID:        app.Name,
		flags.FlagKeyringBackend: "test",
	})

	if err := autoCliOpts.EnhanceRootCommand(rootCmd); err != nil {
		panic(err)
	}
	silenceUsage(rootCmd)
	return rootCmd
}

// ProvideClientContext builds the client context the CLI starts from.
func ProvideClientContext(
	appCodec codec.Codec,
	interfaceRegistry codectypes.InterfaceRegistry,
	txConfigOpts tx.ConfigOptions,
	legacyAmino *codec.LegacyAmino,
) client.Context {
	clientCtx := client.Context{}.
		WithCodec(appCodec).
		WithInterfaceRegistry(interfaceRegistry).
		WithLegacyAmino(legacyAmino).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(app.DefaultNodeHome).
		WithViper("COMPUTED")

	// client.toml is read per command in PersistentPreRunE, once --home is known; reading it here
	// would create ~/.computed on every invocation and pin viper to the default home.

	// SIGN_MODE_TEXTUAL needs coin metadata; the CLI reads it over gRPC rather than from a keeper.
	txConfigOpts.TextualCoinMetadataQueryFn = authtxconfig.NewGRPCCoinMetadataQueryFn(clientCtx)
	txConfig, err := tx.NewTxConfigWithOptions(clientCtx.Codec, txConfigOpts)
	if err != nil {
		panic(err)
	}
	return clientCtx.WithTxConfig(txConfig)
}

func overwriteFlagDefaults(c *cobra.Command, defaults map[string]string) {
	set := func(s *cobra.Command, key, val string) {
		if f := s.Flags().Lookup(key); f != nil {
			f.DefValue = val
			_ = f.Value.Set(val)
		}
		if f := s.PersistentFlags().Lookup(key); f != nil {
			f.DefValue = val
			_ = f.Value.Set(val)
		}
	}
	for key, val := range defaults {
		set(c, key, val)
		for _, sub := range c.Commands() {
			overwriteFlagDefaults(sub, map[string]string{key: val})
		}
	}
}

// silenceUsage stops every command from dumping its usage on a runtime error; flag errors still
// name the flag in the one error line main prints.
func silenceUsage(c *cobra.Command) {
	c.SilenceUsage = true
	c.SilenceErrors = true
	for _, sub := range c.Commands() {
		silenceUsage(sub)
	}
}
