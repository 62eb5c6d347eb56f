package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"cosmossdk.io/x/feegrant"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/authz"

	attesttypes "github.com/computed-network/computed/x/attest/types"
	escrowtypes "github.com/computed-network/computed/x/escrow/types"
	markettypes "github.com/computed-network/computed/x/market/types"
	slatypes "github.com/computed-network/computed/x/sla/types"
)

// SidecarMsgs are the message types the sidecar sends for its operator; the grant covers
// exactly these.
func SidecarMsgs() []sdk.Msg {
	return []sdk.Msg{
		&attesttypes.MsgRegisterProvider{}, &attesttypes.MsgRequestChallenge{}, &attesttypes.MsgSubmitAttestation{},
		&markettypes.MsgCreateBid{}, &markettypes.MsgCloseBid{}, &markettypes.MsgCloseLease{},
		&escrowtypes.MsgWithdraw{},
		&slatypes.MsgBond{}, &slatypes.MsgSubmitReceiptBatch{}, &slatypes.MsgSubmitSLAReport{},
		&slatypes.MsgRespondDispute{}, &slatypes.MsgCommitResult{}, &slatypes.MsgRevealResult{},
	}
}

func grantCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "grant [sidecar-address]",
		Short: "Let the sidecar's key act for the operator (--from): authz for its messages, and a feegrant",
		Long: `Grants the sidecar's hot key an authz GenericAuthorization for each message type the sidecar
sends (and nothing else), plus a feegrant limited to MsgExec so the operator pays the fees.
--spend-limit caps the feegrant (empty: unlimited); --expire-days bounds both grants.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			grantee, err := sdk.AccAddressFromBech32(args[0])
			if err != nil {
				return fmt.Errorf("sidecar address: %w", err)
			}
			days, _ := cmd.Flags().GetInt("expire-days")
			exp := time.Now().Add(time.Duration(days) * 24 * time.Hour)
			var msgs []sdk.Msg
			for _, m := range SidecarMsgs() {
				g, err := authz.NewMsgGrant(clientCtx.GetFromAddress(), grantee, authz.NewGenericAuthorization(sdk.MsgTypeURL(m)), &exp)
				if err != nil {
					return err
				}
				msgs = append(msgs, g)
			}
			basic := &feegrant.BasicAllowance{Expiration: &exp}
			if s, _ := cmd.Flags().GetString("spend-limit"); s != "" {
				if basic.SpendLimit, err = sdk.ParseCoinsNormalized(s); err != nil {
					return fmt.Errorf("--spend-limit: %w", err)
				}
			}
			allowed, err := feegrant.NewAllowedMsgAllowance(basic, []string{sdk.MsgTypeURL(&authz.MsgExec{})})
			if err != nil {
				return err
			}
			fg, err := feegrant.NewMsgGrantAllowance(allowed, clientCtx.GetFromAddress(), grantee)
			if err != nil {
				return err
			}
			msgs = append(msgs, fg)
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msgs...)
		},
	}
	cmd.Flags().Int("expire-days", 365, "days until the grants expire")
	cmd.Flags().String("spend-limit", "", "feegrant spend limit (e.g. 10000000ucmpt; empty: unlimited)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}
