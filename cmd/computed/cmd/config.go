package cmd

import (
	cmtcfg "github.com/cometbft/cometbft/config"

	serverconfig "github.com/cosmos/cosmos-sdk/server/config"

	"github.com/computed-network/computed/app"
)

// initCometBFTConfig returns CometBFT defaults; the localnet scripts shorten block times per node.
func initCometBFTConfig() *cmtcfg.Config {
	return cmtcfg.DefaultConfig()
}

// initAppConfig sets a non-empty minimum gas price so a fresh node does not accept free spam.
func initAppConfig() (string, interface{}) {
	cfg := serverconfig.DefaultConfig()
	cfg.MinGasPrices = "0" + app.BondDenom
	return serverconfig.DefaultConfigTemplate, cfg
}
