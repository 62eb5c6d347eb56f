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
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "computed/x/market/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgCreateOrder{}, "computed/x/market/MsgCreateOrder")
	legacy.RegisterAminoMsg(cdc, &MsgCloseOrder{}, "computed/x/market/MsgCloseOrder")
	legacy.RegisterAminoMsg(cdc, &MsgCreateBid{}, "computed/x/market/MsgCreateBid")
	legacy.RegisterAminoMsg(cdc, &MsgCloseBid{}, "computed/x/market/MsgCloseBid")
	legacy.RegisterAminoMsg(cdc, &MsgAcceptBid{}, "computed/x/market/MsgAcceptBid")
	legacy.RegisterAminoMsg(cdc, &MsgCloseLease{}, "computed/x/market/MsgCloseLease")
	cdc.RegisterConcrete(&Params{}, "computed/x/market/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgUpdateParams{}, &MsgCreateOrder{}, &MsgCloseOrder{}, &MsgCreateBid{},
		&MsgCloseBid{}, &MsgAcceptBid{}, &MsgCloseLease{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
