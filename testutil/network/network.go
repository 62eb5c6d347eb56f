// Package network builds in-process computed networks (real CometBFT nodes running the real app)
// for integration tests.
package network

import (
	"fmt"
	"net"

	"cosmossdk.io/log"
	pruningtypes "cosmossdk.io/store/pruning/types"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/computed-network/computed/app"
)

// DefaultConfig is a network of the real app with the default genesis of every module, IBC
// included. Validator 0 serves RPC, gRPC and REST on free 127.0.0.1 ports.
func DefaultConfig() (network.Config, error) {
	app.SetAddressPrefixes()
	tmp, err := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.EmptyAppOptions{})
	if err != nil {
		return network.Config{}, err
	}
	enc := moduletestutil.TestEncodingConfig{
		InterfaceRegistry: tmp.InterfaceRegistry(),
		Codec:             tmp.AppCodec(),
		TxConfig:          tmp.TxConfig(),
		Amino:             tmp.LegacyAmino(),
	}
	cfg := network.DefaultConfig(func() network.TestFixture {
		return network.TestFixture{
			AppConstructor: func(val network.ValidatorI) servertypes.Application {
				a, err := app.New(val.GetCtx().Logger, dbm.NewMemDB(), nil, true,
					simtestutil.NewAppOptionsWithFlagHome(val.GetCtx().Config.RootDir),
					baseapp.SetPruning(pruningtypes.NewPruningOptionsFromString(val.GetAppConfig().Pruning)),
					baseapp.SetMinGasPrices(val.GetAppConfig().MinGasPrices),
					baseapp.SetChainID(val.GetCtx().Viper.GetString(flags.FlagChainID)),
				)
				if err != nil {
					panic(err) // the network harness has no error path here; it fails the test
				}
				return a
			},
			GenesisState:   tmp.DefaultGenesis(),
			EncodingConfig: enc,
		}
	})
	cfg.BondDenom = app.BondDenom
	cfg.MinGasPrices = "0.000006" + app.BondDenom
	for _, addr := range []*string{&cfg.RPCAddress, &cfg.APIAddress, &cfg.GRPCAddress} {
		port, err := freePort()
		if err != nil {
			return network.Config{}, err
		}
		*addr = fmt.Sprintf("tcp://127.0.0.1:%d", port)
	}
	cfg.GRPCAddress = cfg.GRPCAddress[len("tcp://"):]
	return cfg, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
