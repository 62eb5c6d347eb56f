// Command computed is the one binary of the computed network: the validator node, the tx/query
// client and (later) the provider sidecar.
package main

import (
	"fmt"
	"os"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/computed-network/computed/app"
	"github.com/computed-network/computed/cmd/computed/cmd"
)

func main() {
	rootCmd := cmd.NewRootCmd()
	if err := svrcmd.Execute(rootCmd, "", app.DefaultNodeHome); err != nil {
		// One clear line, never a usage dump or a stack trace.
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
