package app_test

import (
	"encoding/json"
	"testing"

	"cosmossdk.io/log"
	dbm "github.com/cosmos/cosmos-db"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"

	ibctesting "github.com/cosmos/ibc-go/v8/testing"
	ibctestingtypes "github.com/cosmos/ibc-go/v8/testing/types"

	"github.com/computed-network/computed/app"
)

// testingApp adapts App to ibc-go's TestingApp, whose staking accessor returns an interface.
type testingApp struct {
	*app.App
}

func (a testingApp) GetStakingKeeper() ibctestingtypes.StakingKeeper { return a.StakingKeeper }

func newApp() (*app.App, error) {
	return app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.EmptyAppOptions{})
}

func setupTestingApp() (ibctesting.TestingApp, map[string]json.RawMessage) {
	a, err := newApp()
	if err != nil {
		panic(err)
	}
	return testingApp{a}, a.DefaultGenesis()
}

// newCoordinator starts n computed chains driven block by block by ibc-go's testing harness.
func newCoordinator(t *testing.T, n int) *ibctesting.Coordinator {
	t.Helper()
	app.SetAddressPrefixes()
	ibctesting.DefaultTestingAppInit = setupTestingApp
	return ibctesting.NewCoordinator(t, n)
}

func appOf(chain *ibctesting.TestChain) *app.App {
	return chain.App.(testingApp).App
}
