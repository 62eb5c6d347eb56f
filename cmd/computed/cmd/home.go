package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client/flags"
)

// nodeCommands read a node's config or data and are meaningless without an initialised home.
var nodeCommands = map[string]bool{
	"start": true, "export": true, "rollback": true, "genesis": true, "comet": true,
	"tendermint": true, "prune": true, "snapshots": true,
}

// homeFree commands may run against a home that does not exist yet (they create it or ignore it).
var homeFree = map[string]bool{
	"init": true, "keys": true, "version": true, "help": true, "completion": true, "config": true,
	"testnet": true, "provider": true,
}

// sidecarOnly: `computed provider` commands that need neither a node's config nor client.toml
// (`grant` is a transaction and reads client.toml like any other).
func sidecarOnly(cmd *cobra.Command) bool {
	return topLevel(cmd) == "provider" && cmd.Name() != "grant"
}

func topLevel(cmd *cobra.Command) string {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	return cmd.Name()
}

func homeOf(cmd *cobra.Command) (string, bool) {
	f := cmd.Flags().Lookup(flags.FlagHome)
	if f == nil {
		return "", false
	}
	return f.Value.String(), f.Changed
}

// requireInitialisedHome fails fast, before the SDK writes default config files, when a command
// needs a node home that does not exist. Without it `computed start --home /typo` would leave a
// half-made home behind and then fail on a missing genesis.
func requireInitialisedHome(cmd *cobra.Command) error {
	top := topLevel(cmd)
	if homeFree[top] {
		return nil
	}
	home, explicit := homeOf(cmd)
	if home == "" || (!explicit && !nodeCommands[top]) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(home, "config")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("home %s is not initialised (no config directory); run `computed init <moniker> --home %s` first", home, home)
		}
		return fmt.Errorf("home %s: %w", home, err)
	}
	return nil
}

// safeInitCmd makes `init` all-or-nothing: if it fails on a home that did not exist before, the
// home is removed again, so a retry starts clean.
func safeInitCmd(initCmd *cobra.Command) *cobra.Command {
	var created string
	cleanup := func() {
		if created != "" {
			_ = os.RemoveAll(created)
		}
	}
	initCmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if home, _ := homeOf(cmd); home != "" {
			if _, err := os.Stat(home); errors.Is(err, os.ErrNotExist) {
				created = home
			}
		}
		if err := cmd.Root().PersistentPreRunE(cmd, args); err != nil {
			cleanup()
			return err
		}
		return nil
	}
	run := initCmd.RunE
	initCmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := run(cmd, args); err != nil {
			cleanup()
			return err
		}
		return nil
	}
	return initCmd
}
