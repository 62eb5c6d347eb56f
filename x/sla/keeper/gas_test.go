package keeper_test

import (
	"fmt"
	"testing"

	storetypes "cosmossdk.io/store/types"
	"github.com/stretchr/testify/require"

	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	signingtypes "github.com/cosmos/cosmos-sdk/types/tx/signing"

	"github.com/computed-network/computed/testutil/keepertest"
	"github.com/computed-network/computed/x/sla/keeper"
	"github.com/computed-network/computed/x/sla/types"
)

var batchSizes = []uint64{10, 1_000, 10_000}

// TestReceiptBatchGasIsFlat prices receipt batches as whole signed transactions (ante handler:
// tx size, signature, account; then the message) by simulating them against the chain's state: a
// batch anchors one root whatever it covers, so 10,000 receipts cost the gas of 10 up to the few
// bytes their larger sequence numbers take, and the gas per receipt falls a thousandfold.
// Simulation, not delivery, because the test harness signs with a random memo whose size moves
// the gas by up to 1,000; gas is otherwise deterministic, so this is exact, not a timing.
func TestReceiptBatchGasIsFlat(t *testing.T) {
	e := setup(t)
	sender := e.Chain.SenderAccounts[1]
	p := sender.SenderAccount.GetAddress()
	lease := e.lease(p, slaOrder(e.buyer))
	gas := map[uint64]uint64{}
	for _, n := range batchSizes {
		gas[n] = e.simulateGas(sender.SenderPrivKey, batchMsg(p, lease, 1, n, root(1)))
		t.Logf("batch of %5d receipts: %d gas per batch, %.2f gas per receipt", n, gas[n], float64(gas[n])/float64(n))
	}
	require.InDelta(t, gas[10], gas[10_000], float64(gas[10])/100, "within 1%%: %v", gas)
	require.GreaterOrEqual(t, gas[10_000], gas[10], "only the numbers grow")
	require.Less(t, gas[10_000]*10, gas[10]*10_000/500, "per receipt at least 500 times cheaper")

	// Delivered for real, the batches are taken and cost what was simulated, give or take the memo.
	e.Chain.SenderAccount, e.Chain.SenderPrivKey = sender.SenderAccount, sender.SenderPrivKey
	next := uint64(1)
	for _, n := range batchSizes {
		res, err := e.Chain.SendMsgs(batchMsg(p, lease, next, next+n-1, root(1)))
		require.NoError(t, err)
		require.InDelta(t, gas[n], res.GasUsed, 2_500, "receipts=%d", n)
		next += n
	}
	require.Equal(t, next-1, e.slaLease(lease).LastSequence)
}

// simulateGas is the gas a transaction of msg signed by priv uses, with an empty memo.
func (e *env) simulateGas(priv cryptotypes.PrivKey, msg sdk.Msg) uint64 {
	t := e.T
	acc := e.App.AccountKeeper.GetAccount(e.Ctx(), sdk.AccAddress(priv.PubKey().Address()))
	txb := e.Chain.TxConfig.NewTxBuilder()
	require.NoError(t, txb.SetMsgs(msg))
	txb.SetGasLimit(10_000_000)
	require.NoError(t, txb.SetSignatures(signingtypes.SignatureV2{
		PubKey: priv.PubKey(), Sequence: acc.GetSequence(),
		Data: &signingtypes.SingleSignatureData{SignMode: signingtypes.SignMode_SIGN_MODE_DIRECT},
	}))
	bz, err := e.Chain.TxConfig.TxEncoder()(txb.GetTx())
	require.NoError(t, err)
	info, _, err := e.App.Simulate(bz)
	require.NoError(t, err)
	return info.GasUsed
}

// BenchmarkReceiptBatchGas reports the store gas MsgSubmitReceiptBatch consumes for batches of
// 10, 1,000 and 10,000 receipts (the keeper's work only; the signed transaction around it adds a
// constant, see TestReceiptBatchGasIsFlat). It measures; it asserts nothing.
func BenchmarkReceiptBatchGas(b *testing.B) {
	for _, n := range batchSizes {
		b.Run(fmt.Sprintf("receipts=%d", n), func(b *testing.B) {
			env := keepertest.New(b, types.StoreKey)
			k := keeper.NewKeeper(env.Cdc, env.Store, env.AddressCodec, env.Authority, nil, nil, nil, nil)
			srv := keeper.NewMsgServerImpl(k)
			ctx := env.Ctx.WithBlockHeight(100)
			provider, _ := env.AddressCodec.BytesToString(make([]byte, 20))
			must := func(err error) {
				if err != nil {
					b.Fatal(err)
				}
			}
			must(k.Params.Set(ctx, types.DefaultParams()))
			must(k.Leases.Set(ctx, 1, types.LeaseSLA{
				LeaseId: 1, OrderId: 1, Provider: provider, Buyer: provider, PricePerBlock: usdcCoin(price),
				StartHeight: 1, NextWindow: 1, Active: true, LockedBond: usdcCoin(0),
			}))
			env.Commit()
			next := uint64(1)
			var total uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				gctx := ctx.WithGasMeter(storetypes.NewInfiniteGasMeter()).WithKVGasConfig(storetypes.KVGasConfig())
				_, err := srv.SubmitReceiptBatch(gctx, &types.MsgSubmitReceiptBatch{
					Provider: provider, LeaseId: 1, FirstSequence: next, LastSequence: next + n - 1, Count: n,
					MerkleRoot: root(byte(i)), Usage: usdcCoin(int64(n)),
				})
				must(err)
				total += gctx.GasMeter().GasConsumed()
				next += n
			}
			perBatch := float64(total) / float64(b.N)
			b.ReportMetric(perBatch, "gas/batch")
			b.ReportMetric(perBatch/float64(n), "gas/receipt")
		})
	}
}
