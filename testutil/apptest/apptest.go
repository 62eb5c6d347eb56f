// Package apptest runs the real computed app block by block (ibc-go's testing harness drives
// FinalizeBlock and Commit), with funded accounts and helpers to execute messages with
// transaction semantics: a failing message leaves no trace.
package apptest

import (
	"encoding/json"

	abci "github.com/cometbft/cometbft/abci/types"
	"testing"

	"cosmossdk.io/log"
	sdkmath "cosmossdk.io/math"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	ibctesting "github.com/cosmos/ibc-go/v8/testing"
	ibctestingtypes "github.com/cosmos/ibc-go/v8/testing/types"

	"github.com/computed-network/computed/app"
	escrowkeeper "github.com/computed-network/computed/x/escrow/keeper"
	marketkeeper "github.com/computed-network/computed/x/market/keeper"
	slakeeper "github.com/computed-network/computed/x/sla/keeper"
)

// USDC is the dev stable denom tests pay in.
const USDC = "uusdc"

// TestingApp adapts App to ibc-go's TestingApp, whose staking accessor returns an interface, and
// records each FinalizeBlock response so tests can see events emitted in EndBlock.
type TestingApp struct {
	*app.App
	last *abci.ResponseFinalizeBlock
}

// FinalizeBlock runs the block and keeps its response.
func (a TestingApp) FinalizeBlock(req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	res, err := a.App.FinalizeBlock(req)
	if res != nil {
		*a.last = *res
	}
	return res, err
}

// GetStakingKeeper implements ibctesting.TestingApp.
func (a TestingApp) GetStakingKeeper() ibctestingtypes.StakingKeeper { return a.StakingKeeper }

// NewApp builds a fresh app on an in-memory database.
func NewApp() (*app.App, error) {
	return app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.EmptyAppOptions{})
}

// SetupTestingApp is ibctesting.DefaultTestingAppInit for computed.
func SetupTestingApp() (ibctesting.TestingApp, map[string]json.RawMessage) {
	a, err := NewApp()
	if err != nil {
		panic(err)
	}
	return TestingApp{App: a, last: &abci.ResponseFinalizeBlock{}}, a.DefaultGenesis()
}

// NewCoordinator starts n computed chains driven by ibc-go's testing harness.
func NewCoordinator(t testing.TB, n int) *ibctesting.Coordinator {
	t.Helper()
	app.SetAddressPrefixes()
	ibctesting.DefaultTestingAppInit = SetupTestingApp
	return ibctesting.NewCoordinator(t.(*testing.T), n)
}

// AppOf returns the computed app behind a test chain.
func AppOf(chain *ibctesting.TestChain) *app.App { return chain.App.(TestingApp).App }

// Fixture is one computed chain with funded accounts.
type Fixture struct {
	T        *testing.T
	Coord    *ibctesting.Coordinator
	Chain    *ibctesting.TestChain
	App      *app.App
	Accounts []sdk.AccAddress
}

// New starts a chain whose sender accounts also hold 10^12 uusdc each.
func New(t *testing.T) *Fixture {
	t.Helper()
	coord := NewCoordinator(t, 1)
	chain := coord.GetChain(ibctesting.GetChainID(1))
	f := &Fixture{T: t, Coord: coord, Chain: chain, App: AppOf(chain)}
	for _, sa := range chain.SenderAccounts {
		f.Accounts = append(f.Accounts, sa.SenderAccount.GetAddress())
		f.Fund(sa.SenderAccount.GetAddress(), sdk.NewCoins(sdk.NewCoin(USDC, sdkmath.NewInt(1_000_000_000_000))))
	}
	f.NextBlock()
	return f
}

// Ctx is a context for the block being built (its EndBlock runs at the next NextBlock).
func (f *Fixture) Ctx() sdk.Context { return f.Chain.GetContext() }

// Height is the height of the block being built.
func (f *Fixture) Height() int64 { return f.Ctx().BlockHeight() }

// NextBlock finalises the block being built (running every EndBlocker) and commits it.
func (f *Fixture) NextBlock() { f.Coord.CommitBlock(f.Chain) }

// BlockEvents are the events of the last finalised block outside transactions (BeginBlock and
// EndBlock), as CometBFT reports them in finalize-block results.
func (f *Fixture) BlockEvents() []abci.Event { return f.Chain.App.(TestingApp).last.Events }

// Advance finalises n blocks.
func (f *Fixture) Advance(n int) {
	for i := 0; i < n; i++ {
		f.NextBlock()
	}
}

// Fund mints coins to addr (test set-up only).
func (f *Fixture) Fund(addr sdk.AccAddress, coins sdk.Coins) {
	ctx := f.Ctx()
	require.NoError(f.T, f.App.BankKeeper.MintCoins(ctx, minttypes.ModuleName, coins))
	require.NoError(f.T, f.App.BankKeeper.SendCoinsFromModuleToAccount(ctx, minttypes.ModuleName, addr, coins))
}

// Exec runs fn like a transaction: its writes and events are kept only if it succeeds.
func (f *Fixture) Exec(fn func(ctx sdk.Context) error) (sdk.Events, error) {
	ctx := f.Ctx().WithEventManager(sdk.NewEventManager())
	cache, write := ctx.CacheContext()
	if err := fn(cache); err != nil {
		return nil, err
	}
	write()
	return ctx.EventManager().Events(), nil
}

// Balance is addr's balance of denom.
func (f *Fixture) Balance(addr sdk.AccAddress, denom string) sdkmath.Int {
	return f.App.BankKeeper.GetBalance(f.Ctx(), addr, denom).Amount
}

// CheckInvariants fails the test if any market, escrow or bank invariant is broken.
func (f *Fixture) CheckInvariants() {
	f.T.Helper()
	ctx := f.Ctx()
	for name, inv := range map[string]sdk.Invariant{
		"escrow": escrowkeeper.AllInvariants(f.App.EscrowKeeper),
		"market": marketkeeper.AllInvariants(f.App.MarketKeeper),
		"sla":    slakeeper.AllInvariants(f.App.SLAKeeper),
	} {
		msg, broken := inv(ctx)
		require.False(f.T, broken, "%s invariant: %s", name, msg)
	}
}
