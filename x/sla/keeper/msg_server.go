package keeper

import (
	"context"

	"github.com/computed-network/computed/x/internal/govparams"
	"github.com/computed-network/computed/x/sla/types"
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

// Bond adds collateral.
func (m msgServer) Bond(ctx context.Context, msg *types.MsgBond) (*types.MsgBondResponse, error) {
	if err := m.k.bond(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgBondResponse{}, nil
}

// Unbond starts returning free collateral.
func (m msgServer) Unbond(ctx context.Context, msg *types.MsgUnbond) (*types.MsgUnbondResponse, error) {
	id, done, err := m.k.unbond(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgUnbondResponse{UnbondingId: id, CompletionHeight: done}, nil
}

// SubmitReceiptBatch anchors a receipt root.
func (m msgServer) SubmitReceiptBatch(ctx context.Context, msg *types.MsgSubmitReceiptBatch) (*types.MsgSubmitReceiptBatchResponse, error) {
	if err := m.k.submitBatch(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgSubmitReceiptBatchResponse{}, nil
}

// SubmitSLAReport reports a window.
func (m msgServer) SubmitSLAReport(ctx context.Context, msg *types.MsgSubmitSLAReport) (*types.MsgSubmitSLAReportResponse, error) {
	due, err := m.k.submitReport(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgSubmitSLAReportResponse{JudgedAtHeight: due}, nil
}

// OpenDispute challenges a window.
func (m msgServer) OpenDispute(ctx context.Context, msg *types.MsgOpenDispute) (*types.MsgOpenDisputeResponse, error) {
	d, err := m.k.openDispute(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgOpenDisputeResponse{DisputeId: d.Id, ResponseDeadline: d.DeadlineHeight}, nil
}

// RespondDispute answers a dispute.
func (m msgServer) RespondDispute(ctx context.Context, msg *types.MsgRespondDispute) (*types.MsgRespondDisputeResponse, error) {
	deadline, err := m.k.respondDispute(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgRespondDisputeResponse{VoteDeadline: deadline}, nil
}

// VoteDispute records an arbiter's vote.
func (m msgServer) VoteDispute(ctx context.Context, msg *types.MsgVoteDispute) (*types.MsgVoteDisputeResponse, error) {
	resolved, err := m.k.voteDispute(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgVoteDisputeResponse{Resolved: resolved}, nil
}

// CommitResult commits a replica's result.
func (m msgServer) CommitResult(ctx context.Context, msg *types.MsgCommitResult) (*types.MsgCommitResultResponse, error) {
	if err := m.k.commitResult(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgCommitResultResponse{}, nil
}

// RevealResult reveals a committed result.
func (m msgServer) RevealResult(ctx context.Context, msg *types.MsgRevealResult) (*types.MsgRevealResultResponse, error) {
	if err := m.k.revealResult(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgRevealResultResponse{}, nil
}
