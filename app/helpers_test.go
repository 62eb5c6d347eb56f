package app_test

import (
	"testing"

	ibctesting "github.com/cosmos/ibc-go/v8/testing"

	"github.com/computed-network/computed/app"
	"github.com/computed-network/computed/testutil/apptest"
)

func newApp() (*app.App, error) { return apptest.NewApp() }

func newCoordinator(t *testing.T, n int) *ibctesting.Coordinator { return apptest.NewCoordinator(t, n) }

func appOf(chain *ibctesting.TestChain) *app.App { return apptest.AppOf(chain) }
