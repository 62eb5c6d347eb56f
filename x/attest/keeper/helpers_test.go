package keeper_test

import (
	"fmt"
	"strings"
	"testing"

	"cosmossdk.io/collections"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/computed-network/computed/testutil/apptest"
	"github.com/computed-network/computed/testutil/attestation"
	"github.com/computed-network/computed/x/attest/keeper"
	"github.com/computed-network/computed/x/attest/types"
	marketkeeper "github.com/computed-network/computed/x/market/keeper"
	markettypes "github.com/computed-network/computed/x/market/types"
)

const (
	sku   = types.DefaultSKU
	metro = "FRA"
)

type env struct {
	*apptest.Fixture
	srv    types.MsgServer
	q      types.QueryServer
	market markettypes.MsgServer
	issuer *attestation.Issuer
}

// setup starts a chain whose default genesis trusts the development issuer, which the tests sign
// with.
func setup(t *testing.T) *env {
	f := apptest.New(t)
	return &env{
		Fixture: f,
		srv:     keeper.NewMsgServerImpl(f.App.AttestKeeper),
		q:       keeper.NewQueryServerImpl(f.App.AttestKeeper),
		market:  marketkeeper.NewMsgServerImpl(f.App.MarketKeeper),
		issuer:  attestation.NewIssuerFromSeed([]byte(types.DevNRASIssuerSeed)),
	}
}

func (e *env) register(p sdk.AccAddress) {
	e.T.Helper()
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.RegisterProvider(ctx, &types.MsgRegisterProvider{Operator: p.String(), Metro: metro, Endpoint: "https://gpu.example.com:8443/v1"})
		return err
	})
	require.NoError(e.T, err)
}

func (e *env) challenge(p sdk.AccAddress) *types.MsgRequestChallengeResponse {
	e.T.Helper()
	var res *types.MsgRequestChallengeResponse
	_, err := e.Exec(func(ctx sdk.Context) (err error) {
		res, err = e.srv.RequestChallenge(ctx, &types.MsgRequestChallenge{Provider: p.String()})
		return err
	})
	require.NoError(e.T, err)
	return res
}

// eat is a valid NRAS detached EAT for n healthy H100s issued at the current block time.
func (e *env) eat(nonce []byte, n int, opts ...attestation.Option) []byte {
	e.T.Helper()
	ev, err := e.issuer.ValidEAT(nonce, e.Ctx().BlockTime(), n, opts...)
	require.NoError(e.T, err)
	return ev
}

func claims(n int) []types.ClaimedGPU {
	out := make([]types.ClaimedGPU, n)
	for i := range out {
		out[i] = types.ClaimedGPU{Sku: sku, VramGib: 80, Uuid: fmt.Sprintf("GPU-%08d-0000-0000-0000-000000000000", i)}
	}
	return out
}

func nrasMsg(p sdk.AccAddress, challengeID uint64, evidence []byte, gpus []types.ClaimedGPU) *types.MsgSubmitAttestation {
	return &types.MsgSubmitAttestation{
		Provider: p.String(), ChallengeId: challengeID, EvidenceType: markettypes.EVIDENCE_TYPE_NVIDIA_NRAS,
		Evidence: evidence, Gpus: gpus,
	}
}

func (e *env) submit(msg *types.MsgSubmitAttestation) (sdk.Events, error) {
	return e.Exec(func(ctx sdk.Context) error {
		_, err := e.srv.SubmitAttestation(ctx, msg)
		return err
	})
}

// attest registers p and gives it a valid NRAS record for n GPUs.
func (e *env) attest(p sdk.AccAddress, n int) {
	e.T.Helper()
	e.register(p)
	c := e.challenge(p)
	_, err := e.submit(nrasMsg(p, c.ChallengeId, e.eat(c.Nonce, n), claims(n)))
	require.NoError(e.T, err)
}

func (e *env) setParams(edit func(p *types.Params)) {
	e.T.Helper()
	ctx := e.Ctx()
	p, err := e.App.AttestKeeper.Params.Get(ctx)
	require.NoError(e.T, err)
	edit(&p)
	require.NoError(e.T, p.Validate())
	require.NoError(e.T, e.App.AttestKeeper.Params.Set(ctx, p))
}

func (e *env) records() []types.AttestationRecord {
	e.T.Helper()
	res, err := e.q.Attestations(e.Ctx(), &types.QueryAttestationsRequest{})
	require.NoError(e.T, err)
	return res.Records
}

// order opens an AUTO order for 8 H100s in FRA requiring the given evidence.
func (e *env) order(owner sdk.AccAddress, evidence ...markettypes.EvidenceType) uint64 {
	e.T.Helper()
	var id uint64
	_, err := e.Exec(func(ctx sdk.Context) error {
		res, err := e.market.CreateOrder(ctx, &markettypes.MsgCreateOrder{
			Owner: owner.String(),
			Requirements: markettypes.Requirements{
				GpuSku: sku, GpuCount: 8, MinVramGib: 80, Metro: metro, Evidence: evidence,
			},
			MaxPricePerBlock:    sdk.NewInt64Coin(apptest.USDC, 100),
			BiddingWindowBlocks: 5,
			Policy:              markettypes.ACCEPTANCE_POLICY_AUTO,
			Sla:                 markettypes.SLATerms{P95LatencyMs: 50, AvailabilityBps: 9990, WindowBlocks: 100, PenaltyBps: 500},
			Workload:            markettypes.Workload{WasmHash: strings.Repeat("ab", 32)},
			Replicas:            1,
			Deposit:             sdk.NewInt64Coin(apptest.USDC, 10_000),
		})
		if err == nil {
			id = res.OrderId
		}
		return err
	})
	require.NoError(e.T, err)
	return id
}

func (e *env) bid(p sdk.AccAddress, orderID uint64) error {
	_, err := e.Exec(func(ctx sdk.Context) error {
		_, err := e.market.CreateBid(ctx, &markettypes.MsgCreateBid{Provider: p.String(), OrderId: orderID, PricePerBlock: sdk.NewInt64Coin(apptest.USDC, 90)})
		return err
	})
	return err
}

func hasEvent(events []abci.Event, typ string) bool {
	for _, ev := range events {
		if ev.Type == typ {
			return true
		}
	}
	return false
}

// Queue key types, for walking the expiry queues.
type (
	pairKey   = collections.Pair[int64, uint64]
	tripleKey = collections.Triple[int64, []byte, int32]
)

func (e *env) checkInvariants() {
	e.T.Helper()
	msg, broken := keeper.AllInvariants(e.App.AttestKeeper)(e.Ctx())
	require.False(e.T, broken, msg)
}
