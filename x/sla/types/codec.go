package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the amino names that Ledger and other amino-JSON signers use.
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "computed/x/sla/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgBond{}, "computed/x/sla/MsgBond")
	legacy.RegisterAminoMsg(cdc, &MsgUnbond{}, "computed/x/sla/MsgUnbond")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitReceiptBatch{}, "computed/x/sla/MsgSubmitReceiptBatch")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitSLAReport{}, "computed/x/sla/MsgSubmitSLAReport")
	legacy.RegisterAminoMsg(cdc, &MsgOpenDispute{}, "computed/x/sla/MsgOpenDispute")
	legacy.RegisterAminoMsg(cdc, &MsgRespondDispute{}, "computed/x/sla/MsgRespondDispute")
	legacy.RegisterAminoMsg(cdc, &MsgVoteDispute{}, "computed/x/sla/MsgVoteDispute")
	legacy.RegisterAminoMsg(cdc, &MsgCommitResult{}, "computed/x/sla/MsgCommitResult")
	legacy.RegisterAminoMsg(cdc, &MsgRevealResult{}, "computed/x/sla/MsgRevealResult")
	cdc.RegisterConcrete(&Params{}, "computed/x/sla/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgUpdateParams{}, &MsgBond{}, &MsgUnbond{}, &MsgSubmitReceiptBatch{}, &MsgSubmitSLAReport{},
		&MsgOpenDispute{}, &MsgRespondDispute{}, &MsgVoteDispute{}, &MsgCommitResult{}, &MsgRevealResult{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
