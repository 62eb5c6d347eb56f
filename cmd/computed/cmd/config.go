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
	// A query that scans (a filtered list with no index behind it) stops at this much gas
	// instead of walking all state on the node's time: tens of thousands of entries, while the
	// indexed lists the sidecar and buyers page through read a few dozen.
	cfg.QueryGasLimit = 50_000_000
	return serverconfig.DefaultConfigTemplate, cfg
}
