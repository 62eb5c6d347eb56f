package app_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctesting "github.com/cosmos/ibc-go/v8/testing"
)

// TestICS20RoundTrip: a counterparty chain sends its token to computed over ICS-20, the receiver
// holds the ibc/... voucher, sends it back, and both sides end where they started.
func TestICS20RoundTrip(t *testing.T) {
	coord := newCoordinator(t, 2)
	counterparty := coord.GetChain(ibctesting.GetChainID(1))
	computed := coord.GetChain(ibctesting.GetChainID(2))

	path := ibctesting.NewTransferPath(counterparty, computed)
	coord.Setup(path)

	sender := counterparty.SenderAccount.GetAddress()
	receiver := computed.SenderAccount.GetAddress()
	denom := sdk.DefaultBondDenom
	amount := sdkmath.NewInt(1_234_567)
	senderBefore := appOf(counterparty).BankKeeper.GetBalance(counterparty.GetContext(), sender, denom)

	// Counterparty → computed.
	timeout := clienttypes.NewHeight(1, 1000)
	msg := transfertypes.NewMsgTransfer(path.EndpointA.ChannelConfig.PortID, path.EndpointA.ChannelID,
		sdk.NewCoin(denom, amount), sender.String(), receiver.String(), timeout, 0, "")
	res, err := counterparty.SendMsgs(msg)
	require.NoError(t, err)
	packet, err := ibctesting.ParsePacketFromEvents(res.Events)
	require.NoError(t, err)
	require.NoError(t, path.RelayPacket(packet))

	voucher := transfertypes.ParseDenomTrace(
		transfertypes.GetPrefixedDenom(path.EndpointB.ChannelConfig.PortID, path.EndpointB.ChannelID, denom)).IBCDenom()
	require.Regexp(t, `^ibc/[0-9A-F]{64}$`, voucher)
	got := appOf(computed).BankKeeper.GetBalance(computed.GetContext(), receiver, voucher)
	require.Equal(t, amount, got.Amount, "receiver on computed holds the voucher")
	escrowed := appOf(counterparty).BankKeeper.GetBalance(counterparty.GetContext(),
		transfertypes.GetEscrowAddress(path.EndpointA.ChannelConfig.PortID, path.EndpointA.ChannelID), denom)
	require.Equal(t, amount, escrowed.Amount, "counterparty escrows the original")

	// computed → counterparty: the voucher is burnt and the original released.
	back := transfertypes.NewMsgTransfer(path.EndpointB.ChannelConfig.PortID, path.EndpointB.ChannelID,
		sdk.NewCoin(voucher, amount), receiver.String(), sender.String(), timeout, 0, "")
	res, err = computed.SendMsgs(back)
	require.NoError(t, err)
	packet, err = ibctesting.ParsePacketFromEvents(res.Events)
	require.NoError(t, err)
	require.NoError(t, path.RelayPacket(packet))

	require.True(t, appOf(computed).BankKeeper.GetBalance(computed.GetContext(), receiver, voucher).IsZero())
	require.True(t, appOf(computed).BankKeeper.GetSupply(computed.GetContext(), voucher).IsZero(), "voucher supply burnt")
	senderAfter := appOf(counterparty).BankKeeper.GetBalance(counterparty.GetContext(), sender, denom)
	require.Equal(t, senderBefore, senderAfter, "sender got the original back")
}
