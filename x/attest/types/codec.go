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
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "computed/x/attest/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgRegisterProvider{}, "computed/x/attest/MsgRegisterProvider")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateProvider{}, "computed/x/attest/MsgUpdateProvider")
	legacy.RegisterAminoMsg(cdc, &MsgDeregisterProvider{}, "computed/x/attest/MsgDeregisterProvider")
	legacy.RegisterAminoMsg(cdc, &MsgRequestChallenge{}, "computed/x/attest/MsgRequestChallenge")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitAttestation{}, "computed/x/attest/MsgSubmitAttestation")
	cdc.RegisterConcrete(&Params{}, "computed/x/attest/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgUpdateParams{},
		&MsgRegisterProvider{},
		&MsgUpdateProvider{},
		&MsgDeregisterProvider{},
		&MsgRequestChallenge{},
		&MsgSubmitAttestation{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
