package keeper

import (
	"context"

	"github.com/computed-network/computed/x/attest/types"
	"github.com/computed-network/computed/x/internal/govparams"
)

type msgServer struct {
	k Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the module's Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

// UpdateParams replaces params; only the authority may call it.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	event := &types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params}
	if err := govparams.Apply(ctx, m.k.Params, m.k.authority, msg.Authority, msg.Params, types.ErrInvalidParams, event); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

// RegisterProvider registers the signer as a provider.
func (m msgServer) RegisterProvider(ctx context.Context, msg *types.MsgRegisterProvider) (*types.MsgRegisterProviderResponse, error) {
	if err := m.k.registerProvider(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgRegisterProviderResponse{}, nil
}

// UpdateProvider replaces the signer's registration details.
func (m msgServer) UpdateProvider(ctx context.Context, msg *types.MsgUpdateProvider) (*types.MsgUpdateProviderResponse, error) {
	if err := m.k.updateProvider(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgUpdateProviderResponse{}, nil
}

// DeregisterProvider removes the signer's registration and records.
func (m msgServer) DeregisterProvider(ctx context.Context, msg *types.MsgDeregisterProvider) (*types.MsgDeregisterProviderResponse, error) {
	if err := m.k.deregisterProvider(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgDeregisterProviderResponse{}, nil
}

// RequestChallenge issues a fresh single-use nonce.
func (m msgServer) RequestChallenge(ctx context.Context, msg *types.MsgRequestChallenge) (*types.MsgRequestChallengeResponse, error) {
	c, err := m.k.requestChallenge(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgRequestChallengeResponse{ChallengeId: c.Id, Nonce: c.Nonce, ExpiryHeight: c.ExpiryHeight}, nil
}

// SubmitAttestation verifies evidence and records the attested GPUs.
func (m msgServer) SubmitAttestation(ctx context.Context, msg *types.MsgSubmitAttestation) (*types.MsgSubmitAttestationResponse, error) {
	rec, err := m.k.submitAttestation(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgSubmitAttestationResponse{ValidUntil: rec.ValidUntil, GpuCount: uint32(len(rec.Gpus))}, nil
}
