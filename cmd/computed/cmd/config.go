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

// initAppConfig sets a positive minimum gas price so a fresh node does not relay or include free
// transactions (a zero price passed the SDK's start-up check and took them). The sidecar's
// default fee (5000ucmpt for 500,000 gas) and the scripts' pay 0.01ucmpt a unit and more.
func initAppConfig() (string, interface{}) {
	cfg := serverconfig.DefaultConfig()
	cfg.MinGasPrices = "0.001" + app.BondDenom
	return serverconfig.DefaultConfigTemplate, cfg
}
