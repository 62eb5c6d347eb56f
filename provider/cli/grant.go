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
The feegrant is capped per day (--daily-limit, by default enough for a transaction every second
at the sidecar's default fee) and, with --spend-limit, in total: a leaked hot key can then burn
at most that much of the operator's balance on fees. --expire-days bounds both grants.`,
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
			allowance, err := feeAllowance(cmd, time.Now(), exp)
			if err != nil {
				return err
			}
			allowed, err := feegrant.NewAllowedMsgAllowance(allowance, []string{sdk.MsgTypeURL(&authz.MsgExec{})})
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
	cmd.Flags().String("spend-limit", "", "feegrant total spend limit (e.g. 10000000000ucmpt; empty: none beyond the daily limit)")
	cmd.Flags().String("daily-limit", defaultDailyLimit, "feegrant spend limit per day (empty: none; with no --spend-limit either, the hot key can spend the operator's whole balance on fees)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// defaultDailyLimit is a day of one transaction a second at the sidecar's default fee (5000ucmpt).
const defaultDailyLimit = "432000000ucmpt"

// feeAllowance is the feegrant's allowance from the flags: a basic one (total limit, expiry),
// inside a periodic one that resets daily unless --daily-limit is empty.
func feeAllowance(cmd *cobra.Command, now, exp time.Time) (feegrant.FeeAllowanceI, error) {
	basic := &feegrant.BasicAllowance{Expiration: &exp}
	var err error
	if s, _ := cmd.Flags().GetString("spend-limit"); s != "" {
		if basic.SpendLimit, err = sdk.ParseCoinsNormalized(s); err != nil {
			return nil, fmt.Errorf("--spend-limit: %w", err)
		}
	}
	s, _ := cmd.Flags().GetString("daily-limit")
	if s == "" {
		return basic, nil
	}
	daily, err := sdk.ParseCoinsNormalized(s)
	if err != nil {
		return nil, fmt.Errorf("--daily-limit: %w", err)
	}
	p := &feegrant.PeriodicAllowance{
		Basic: *basic, Period: 24 * time.Hour, PeriodSpendLimit: daily, PeriodCanSpend: daily, PeriodReset: now.Add(24 * time.Hour),
	}
	if err := p.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("--daily-limit with --spend-limit: %w", err)
	}
	return p, nil
}
