package cli

import (
	"testing"
	"time"

	"cosmossdk.io/x/feegrant"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// The feegrant is capped per day by default: without a cap a leaked hot key could burn the
// operator's whole balance on fees (a failing MsgExec still pays its fee).
func TestFeeAllowance(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(365 * 24 * time.Hour)
	allowance := func(flags ...string) (feegrant.FeeAllowanceI, error) {
		cmd := grantCmd()
		if err := cmd.ParseFlags(flags); err != nil {
			t.Fatal(err)
		}
		return feeAllowance(cmd, now, exp)
	}

	a, err := allowance()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := a.(*feegrant.PeriodicAllowance)
	if !ok {
		t.Fatalf("default allowance %T, want a daily-capped PeriodicAllowance", a)
	}
	want := sdk.NewCoins(sdk.NewInt64Coin("ucmpt", 432_000_000))
	if !p.PeriodSpendLimit.Equal(want) || !p.PeriodCanSpend.Equal(want) || p.Period != 24*time.Hour || !p.PeriodReset.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("default daily cap: %+v", p)
	}
	if p.Basic.Expiration == nil || !p.Basic.Expiration.Equal(exp) || p.Basic.SpendLimit != nil {
		t.Fatalf("basic part: %+v", p.Basic)
	}

	a, err = allowance("--daily-limit", "1000ucmpt", "--spend-limit", "50000ucmpt")
	if err != nil {
		t.Fatal(err)
	}
	p = a.(*feegrant.PeriodicAllowance)
	if !p.PeriodSpendLimit.Equal(sdk.NewCoins(sdk.NewInt64Coin("ucmpt", 1000))) || !p.Basic.SpendLimit.Equal(sdk.NewCoins(sdk.NewInt64Coin("ucmpt", 50_000))) {
		t.Fatalf("both caps: %+v", p)
	}

	a, err = allowance("--daily-limit", "", "--spend-limit", "50000ucmpt")
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := a.(*feegrant.BasicAllowance); !ok || !b.SpendLimit.Equal(sdk.NewCoins(sdk.NewInt64Coin("ucmpt", 50_000))) {
		t.Fatalf("no daily cap: %T %+v", a, a)
	}

	for _, bad := range [][]string{
		{"--daily-limit", "lots"},
		{"--spend-limit", "-5ucmpt"},
		{"--daily-limit", "1000uusdc", "--spend-limit", "50000ucmpt"}, // the daily cap's denom is not capped in total
	} {
		if _, err := allowance(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
