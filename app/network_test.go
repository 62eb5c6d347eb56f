package app_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	clitestutil "github.com/cosmos/cosmos-sdk/testutil/cli"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	"github.com/computed-network/computed/app"
	computednet "github.com/computed-network/computed/testutil/network"
	attesttest "github.com/computed-network/computed/x/attest/testutil"
	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
)

// deliver signs msgs with validator signer's key, broadcasts through validator 0's RPC (the only
// one serving RPC) and returns the committed result.
func deliver(t *testing.T, net *network.Network, signer int, msgs ...sdk.Msg) sdk.TxResponse {
	t.Helper()
	val := net.Validators[signer]
	return deliverAs(t, net, val.ClientCtx.Keyring, fmt.Sprintf("node%d", signer), val.Address, msgs...)
}

// deliverAs signs with any key of kr.
func deliverAs(t *testing.T, net *network.Network, kr keyring.Keyring, name string, addr sdk.AccAddress, msgs ...sdk.Msg) sdk.TxResponse {
	t.Helper()
	ctx := net.Validators[0].ClientCtx.
		WithKeyring(kr).
		WithFromAddress(addr).
		WithFromName(name)
	txf := clienttx.Factory{}.
		WithChainID(net.Config.ChainID).
		WithKeybase(ctx.Keyring).
		WithTxConfig(ctx.TxConfig).
		WithAccountRetriever(ctx.AccountRetriever).
		WithGas(400_000).
		WithFees("10" + app.BondDenom).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT)
	txf, err := txf.Prepare(ctx)
	require.NoError(t, err)
	builder, err := txf.BuildUnsignedTx(msgs...)
	require.NoError(t, err)
	require.NoError(t, clienttx.Sign(context.Background(), txf, ctx.FromName, builder, true))
	bz, err := ctx.TxConfig.TxEncoder()(builder.GetTx())
	require.NoError(t, err)
	res, err := ctx.BroadcastTxSync(bz)
	require.NoError(t, err)
	require.Zero(t, res.Code, "CheckTx: %s", res.RawLog)
	committed, err := clitestutil.GetTxResponse(net, ctx, res.TxHash)
	require.NoError(t, err)
	return committed
}

// TestNetwork starts two in-process validators and drives the real tx path: a bank transfer via
// the CLI, a MsgUpdateParams from a non-authority (refused in DeliverTx), and a governance
// proposal carrying MsgUpdateParams that passes and changes x/market's params.
func TestNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real CometBFT nodes")
	}
	cfg, err := computednet.DefaultConfig()
	require.NoError(t, err)
	cfg.NumValidators = 2

	// Short governance periods so a proposal can pass within the test.
	var govGen govv1.GenesisState
	require.NoError(t, cfg.Codec.UnmarshalJSON(cfg.GenesisState[govtypes.ModuleName], &govGen))
	voting, expedited := 15*time.Second, 10*time.Second
	govGen.Params.VotingPeriod = &voting
	govGen.Params.ExpeditedVotingPeriod = &expedited
	cfg.GenesisState[govtypes.ModuleName] = cfg.Codec.MustMarshalJSON(&govGen)

	// Attestation records valid for a minute, so the test can watch one lapse.
	var attestGen attesttypes.GenesisState
	require.NoError(t, cfg.Codec.UnmarshalJSON(cfg.GenesisState[attesttypes.ModuleName], &attestGen))
	attestGen.Params.RecordValiditySeconds = 60
	cfg.GenesisState[attesttypes.ModuleName] = cfg.Codec.MustMarshalJSON(&attestGen)

	// A buyer and a provider that are not validators, funded with the dev stable coin.
	users := fundedUsers(t, &cfg, "buyer", "provider", "shortlived")

	net, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	_, err = net.WaitForHeight(2)
	require.NoError(t, err)

	val0, val1 := net.Validators[0], net.Validators[1]
	bank := banktypes.NewQueryClient(val0.ClientCtx)
	balance := func(addr sdk.AccAddress) sdkmath.Int {
		res, err := bank.Balance(context.Background(), &banktypes.QueryBalanceRequest{Address: addr.String(), Denom: app.BondDenom})
		require.NoError(t, err)
		return res.Balance.Amount
	}

	t.Run("bank transfer through the CLI", func(t *testing.T) {
		before0, before1 := balance(val0.Address), balance(val1.Address)
		amount := sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 7_654_321))
		out, err := clitestutil.MsgSendExec(val0.ClientCtx, val0.Address, val1.Address, amount,
			val0.ClientCtx.InterfaceRegistry.SigningContext().AddressCodec(),
			"--fees=10"+app.BondDenom, "--yes", "--output=json")
		require.NoError(t, err)
		var sync sdk.TxResponse
		require.NoError(t, val0.ClientCtx.Codec.UnmarshalJSON(out.Bytes(), &sync))
		require.Zero(t, sync.Code, sync.RawLog)
		res, err := clitestutil.GetTxResponse(net, val0.ClientCtx, sync.TxHash)
		require.NoError(t, err)
		require.Zero(t, res.Code, res.RawLog)
		require.Positive(t, res.Height)

		require.Equal(t, before1.Add(amount[0].Amount), balance(val1.Address))
		require.Equal(t, before0.Sub(amount[0].Amount).SubRaw(10), balance(val0.Address))
	})

	gov := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	market := markettypes.NewQueryClient(val0.ClientCtx)

	t.Run("MsgUpdateParams from a non-authority is refused", func(t *testing.T) {
		p := markettypes.DefaultParams()
		p.MaxReplicas = 3
		res := deliver(t, net, 0, &markettypes.MsgUpdateParams{Authority: val0.Address.String(), Params: p})
		require.Equal(t, govtypes.ErrInvalidSigner.ABCICode(), res.Code)
		require.Equal(t, govtypes.ErrInvalidSigner.Codespace(), res.Codespace)
		require.Contains(t, res.RawLog, "invalid authority; expected "+gov)
		got, err := market.Params(context.Background(), &markettypes.QueryParamsRequest{})
		require.NoError(t, err)
		require.Equal(t, markettypes.DefaultParams(), got.Params)
	})

	t.Run("MsgUpdateParams through a passed gov proposal applies", func(t *testing.T) {
		p := markettypes.DefaultParams()
		p.MaxReplicas = 5
		p.MaxBidsPerOrder = 50
		proposal, err := govv1.NewMsgSubmitProposal(
			[]sdk.Msg{&markettypes.MsgUpdateParams{Authority: gov, Params: p}},
			govGen.Params.MinDeposit, val0.Address.String(), "", "market params", "raise bid cap", false)
		require.NoError(t, err)
		res := deliver(t, net, 0, proposal)
		require.Zero(t, res.Code, res.RawLog)
		proposalID := uint64(eventAttrInt(t, res, govtypes.EventTypeSubmitProposal, govtypes.AttributeKeyProposalID))
		govq := govv1.NewQueryClient(val0.ClientCtx)
		pr, err := govq.Proposal(context.Background(), &govv1.QueryProposalRequest{ProposalId: proposalID})
		require.NoError(t, err)
		require.Equal(t, govv1.StatusVotingPeriod, pr.Proposal.Status, "deposit %s, ends %s", pr.Proposal.TotalDeposit, pr.Proposal.VotingEndTime)

		for i := range net.Validators {
			vote := govv1.NewMsgVote(net.Validators[i].Address, proposalID, govv1.OptionYes, "")
			vres := deliver(t, net, i, vote)
			require.Zero(t, vres.Code, "%s: %s", vres.Codespace, vres.RawLog)
		}

		require.Eventually(t, func() bool {
			res, err := govq.Proposal(context.Background(), &govv1.QueryProposalRequest{ProposalId: proposalID})
			return err == nil && res.Proposal.Status == govv1.StatusPassed
		}, 45*time.Second, 500*time.Millisecond, "proposal passes")

		got, err := market.Params(context.Background(), &markettypes.QueryParamsRequest{})
		require.NoError(t, err)
		require.Equal(t, p, got.Params)
	})

	t.Run("order, two bids, AUTO clearing, lease, withdrawal: the money adds up", func(t *testing.T) {
		buyer, provider := users["buyer"], users["provider"]
		usdc := func(a sdk.AccAddress) sdkmath.Int {
			res, err := bank.Balance(context.Background(), &banktypes.QueryBalanceRequest{Address: a.String(), Denom: "uusdc"})
			require.NoError(t, err)
			return res.Balance.Amount
		}
		distrq := distrtypes.NewQueryClient(val0.ClientCtx)
		pool := func() sdkmath.Int {
			res, err := distrq.CommunityPool(context.Background(), &distrtypes.QueryCommunityPoolRequest{})
			require.NoError(t, err)
			return res.Pool.AmountOf("uusdc").TruncateInt()
		}
		// Both bidders prove their GPUs first: register, take a challenge, answer it with a token
		// from the development NRAS issuer the dev genesis trusts.
		val1Key := user{name: "node1", addr: val1.Address, kr: val1.ClientCtx.Keyring}
		for _, p := range []user{val1Key, provider} {
			attestThroughTxs(t, net, p)
		}
		buyer0, provider0, pool0 := usdc(buyer.addr), usdc(provider.addr), pool()

		res := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCreateOrder{
			Owner:            buyer.addr.String(),
			Requirements:     markettypes.Requirements{GpuSku: "H100-SXM-80GB", GpuCount: 8, MinVramGib: 80, Metro: "FRA"},
			MaxPricePerBlock: sdk.NewInt64Coin("uusdc", 1000), BiddingWindowBlocks: 5,
			Policy: markettypes.ACCEPTANCE_POLICY_AUTO, Replicas: 1,
			Workload: markettypes.Workload{WasmHash: strings.Repeat("cd", 32)},
			Sla:      markettypes.SLATerms{P95LatencyMs: 50, AvailabilityBps: 9990, WindowBlocks: 100, PenaltyBps: 500},
			Deposit:  sdk.NewInt64Coin("uusdc", 1_000_000),
		})
		require.Zero(t, res.Code, res.RawLog)
		orderID := uint64(1)

		require.Zero(t, deliver(t, net, 1, &markettypes.MsgCreateBid{Provider: val1.Address.String(), OrderId: orderID,
			PricePerBlock: sdk.NewInt64Coin("uusdc", 800)}).Code)
		require.Zero(t, deliverAs(t, net, provider.kr, provider.name, provider.addr, &markettypes.MsgCreateBid{
			Provider: provider.addr.String(), OrderId: orderID, PricePerBlock: sdk.NewInt64Coin("uusdc", 600)}).Code)

		marketq := markettypes.NewQueryClient(val0.ClientCtx)
		var lease markettypes.Lease
		require.Eventually(t, func() bool {
			res, err := marketq.Leases(context.Background(), &markettypes.QueryLeasesRequest{Owner: buyer.addr.String()})
			if err != nil || len(res.Leases) == 0 {
				return false
			}
			lease = res.Leases[0]
			return true
		}, 40*time.Second, 500*time.Millisecond, "order clears into a lease")
		require.Equal(t, provider.addr.String(), lease.Provider, "the cheaper bid wins")
		require.Equal(t, int64(600), lease.PricePerBlock.Amount.Int64())

		_, err := net.WaitForHeight(lease.StartHeight + 3)
		require.NoError(t, err)
		w := deliverAs(t, net, provider.kr, provider.name, provider.addr, &escrowtypes.MsgWithdraw{Payee: provider.addr.String(), LeaseId: lease.Id})
		require.Zero(t, w.Code, w.RawLog)

		closed := deliverAs(t, net, buyer.kr, buyer.name, buyer.addr, &markettypes.MsgCloseOrder{Owner: buyer.addr.String(), OrderId: orderID})
		require.Zero(t, closed.Code, closed.RawLog)
		final := deliverAs(t, net, provider.kr, provider.name, provider.addr, &escrowtypes.MsgWithdraw{Payee: provider.addr.String(), LeaseId: lease.Id})
		require.Zero(t, final.Code, final.RawLog)

		l, err := marketq.Lease(context.Background(), &markettypes.QueryLeaseRequest{Id: lease.Id})
		require.NoError(t, err)
		blocks := l.Lease.ClosedHeight - l.Lease.StartHeight
		require.Positive(t, blocks)
		spent := buyer0.Sub(usdc(buyer.addr))
		require.Equal(t, sdkmath.NewInt(600*blocks), spent, "buyer paid exactly price × blocks leased")
		earned := usdc(provider.addr).Sub(provider0)
		take := pool().Sub(pool0)
		require.Equal(t, spent, earned.Add(take), "buyer's spend = provider's earnings + community pool take")
		require.True(t, take.IsPositive())
	})

	t.Run("attestation record visible in queries, then lapses at valid_until", func(t *testing.T) {
		u := users["shortlived"]
		attestThroughTxs(t, net, u)
		attestq := attesttypes.NewQueryClient(val0.ClientCtx)
		res, err := attestq.Attestation(context.Background(), &attesttypes.QueryAttestationRequest{Provider: u.addr.String()})
		require.NoError(t, err)
		require.Len(t, res.Records, 1)
		rec := res.Records[0]
		require.Len(t, rec.Gpus, 8)
		require.Equal(t, rec.VerifiedAt+60, rec.ValidUntil)

		require.Eventually(t, func() bool {
			_, err := attestq.Attestation(context.Background(), &attesttypes.QueryAttestationRequest{Provider: u.addr.String()})
			return status.Code(err) == codes.NotFound // a provider without records is "not found"
		}, 120*time.Second, time.Second, "record lapses")
		// It lapsed in the first block whose time reached valid_until, not before.
		h, err := net.LatestHeight()
		require.NoError(t, err)
		var lapsedAt int64
		for height := h; height > rec.VerifiedHeight && lapsedAt == 0; height-- {
			br, err := val0.RPCClient.BlockResults(context.Background(), &height)
			require.NoError(t, err)
			for _, ev := range br.FinalizeBlockEvents {
				if ev.Type == "computed.attest.v1.EventAttestationLapsed" {
					lapsedAt = height
				}
			}
		}
		require.NotZero(t, lapsedAt, "lapse event in finalize-block results")
		block := func(h int64) time.Time {
			b, err := val0.RPCClient.Block(context.Background(), &h)
			require.NoError(t, err)
			return b.Block.Time
		}
		require.GreaterOrEqual(t, block(lapsedAt).Unix(), rec.ValidUntil)
		require.Less(t, block(lapsedAt-1).Unix(), rec.ValidUntil)
	})

	t.Run("REST: queries over the gateway, verify-receipt's POST body read", func(t *testing.T) {
		api := val0.APIAddress
		require.NotEmpty(t, api)
		resp, err := http.Get(api + "/computed/market/v1/params")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Contains(t, string(body), "bid_deposit")

		// The receipt names another lease than the request: the verdict quotes both, so the
		// body (not query parameters) was decoded.
		resp, err = http.Post(api+"/computed/sla/v1/verify-receipt", "application/json",
			strings.NewReader(`{"lease_id":"4242","receipt":{"lease_id":"7"}}`))
		require.NoError(t, err)
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Contains(t, string(body), "receipt is for lease 7, not 4242")
	})
}

type user struct {
	name string
	addr sdk.AccAddress
	kr   keyring.Keyring
}

func fundedUsers(t *testing.T, cfg *network.Config, names ...string) map[string]user {
	t.Helper()
	kr := keyring.NewInMemory(cfg.Codec)
	var authGen authtypes.GenesisState
	require.NoError(t, cfg.Codec.UnmarshalJSON(cfg.GenesisState[authtypes.ModuleName], &authGen))
	var bankGen banktypes.GenesisState
	require.NoError(t, cfg.Codec.UnmarshalJSON(cfg.GenesisState[banktypes.ModuleName], &bankGen))
	accounts, err := authtypes.UnpackAccounts(authGen.Accounts)
	require.NoError(t, err)
	users := map[string]user{}
	for _, name := range names {
		rec, _, err := kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
		require.NoError(t, err)
		addr, err := rec.GetAddress()
		require.NoError(t, err)
		users[name] = user{name: name, addr: addr, kr: kr}
		accounts = append(accounts, authtypes.NewBaseAccount(addr, nil, 0, 0))
		bankGen.Balances = append(bankGen.Balances, banktypes.Balance{Address: addr.String(),
			Coins: sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 100_000_000), sdk.NewInt64Coin("uusdc", 1_000_000_000))})
	}
	packed, err := authtypes.PackAccounts(accounts)
	require.NoError(t, err)
	authGen.Accounts = packed
	cfg.GenesisState[authtypes.ModuleName] = cfg.Codec.MustMarshalJSON(&authGen)
	cfg.GenesisState[banktypes.ModuleName] = cfg.Codec.MustMarshalJSON(&bankGen)
	return users
}

// attestThroughTxs registers u as a provider in FRA and attests 8 H100s with signed transactions.
func attestThroughTxs(t *testing.T, net *network.Network, u user) {
	t.Helper()
	res := deliverAs(t, net, u.kr, u.name, u.addr, &attesttypes.MsgRegisterProvider{
		Operator: u.addr.String(), Metro: "FRA", Endpoint: "https://gpu.example",
	})
	require.Zero(t, res.Code, res.RawLog)
	res = deliverAs(t, net, u.kr, u.name, u.addr, &attesttypes.MsgRequestChallenge{Provider: u.addr.String()})
	require.Zero(t, res.Code, res.RawLog)
	var id uint64
	var nonce []byte
	for _, ev := range res.Events {
		if ev.Type != "computed.attest.v1.EventChallengeIssued" {
			continue
		}
		for _, a := range ev.Attributes {
			switch a.Key {
			case "challenge_id":
				require.NoError(t, json.Unmarshal([]byte(strings.Trim(a.Value, `"`)), &id))
			case "nonce":
				var err error
				nonce, err = hex.DecodeString(strings.Trim(a.Value, `"`))
				require.NoError(t, err)
			}
		}
	}
	require.NotZero(t, id)
	evidence, err := attesttest.DevIssuer().ValidEAT(nonce, time.Now(), 8)
	require.NoError(t, err)
	res = deliverAs(t, net, u.kr, u.name, u.addr, &attesttypes.MsgSubmitAttestation{
		Provider: u.addr.String(), ChallengeId: id, EvidenceType: markettypes.EVIDENCE_TYPE_NVIDIA_NRAS,
		Evidence: evidence, Gpus: attesttest.Claims(8),
	})
	require.Zero(t, res.Code, res.RawLog)
}
