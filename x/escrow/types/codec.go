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
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "computed/x/escrow/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgDeposit{}, "computed/x/escrow/MsgDeposit")
	legacy.RegisterAminoMsg(cdc, &MsgWithdraw{}, "computed/x/escrow/MsgWithdraw")
	legacy.RegisterAminoMsg(cdc, &MsgSetRefillPolicy{}, "computed/x/escrow/MsgSetRefillPolicy")
	cdc.RegisterConcrete(&Params{}, "computed/x/escrow/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgUpdateParams{}, &MsgDeposit{}, &MsgWithdraw{}, &MsgSetRefillPolicy{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
