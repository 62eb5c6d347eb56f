package attest

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	attesttypes "github.com/computed-network/computed/x/attest/types"
)

// script writes an executable shell script; the development issuer is an external command, so
// the collector is tested against real processes.
func script(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func testNonce() []byte {
	n := make([]byte, 32)
	for i := range n {
		n[i] = byte(0xa0 + i)
	}
	return n
}

const twoClaims = `printf '%s\n' '{"sku":"H100-SXM-80GB","vram_gib":80,"uuid":"GPU-a"}' '  {"sku":"H200-SXM-141GB","vram_gib":141,"uuid":"GPU-b"}'`

func TestCommandCollect(t *testing.T) {
	nonce := testNonce()
	hexNonce := hex.EncodeToString(nonce)
	c := Command{
		// {nonce} is replaced both as a whole argument and inside one.
		TokenCmd:  []string{script(t, "token", `printf '%s' "$*"`), "nras", "--nonce={nonce}", "{nonce}"},
		ClaimsCmd: []string{script(t, "claims", twoClaims)},
	}
	ev, err := c.Collect(context.Background(), nonce)
	if err != nil {
		t.Fatal(err)
	}
	if want := "nras --nonce=" + hexNonce + " " + hexNonce; string(ev.Token) != want {
		t.Errorf("Token = %q, want %q", ev.Token, want)
	}
	want := []attesttypes.ClaimedGPU{
		{Sku: "H100-SXM-80GB", VramGib: 80, Uuid: "GPU-a"},
		{Sku: "H200-SXM-141GB", VramGib: 141, Uuid: "GPU-b"},
	}
	if !slices.Equal(ev.GPUs, want) {
		t.Errorf("GPUs = %+v, want %+v", ev.GPUs, want)
	}
}

func TestCommandCollectErrors(t *testing.T) {
	okToken := script(t, "token", `printf 'eat-%s' "$1"`)
	okClaims := script(t, "claims", twoClaims)
	for _, tc := range []struct {
		name          string
		token, claims []string
		want          []string
	}{
		{"token command not configured", nil, []string{okClaims}, []string{"not configured"}},
		{"claims command not configured", []string{okToken, "{nonce}"}, nil, []string{"not configured"}},
		// The issuer's stderr is what tells the operator what went wrong.
		{"token command fails", []string{script(t, "bad-token", `echo "issuer key missing" >&2; exit 3`)}, []string{okClaims},
			[]string{"bad-token", "exit status 3", "issuer key missing"}},
		{"claims command fails", []string{okToken, "{nonce}"}, []string{script(t, "bad-claims", `echo "no driver" >&2; exit 1`)},
			[]string{"bad-claims", "no driver"}},
		{"no such command", []string{filepath.Join(t.TempDir(), "absent")}, []string{okClaims}, []string{"absent"}},
		{"no claims", []string{okToken, "{nonce}"}, []string{script(t, "empty", `true`)}, []string{"printed no GPU"}},
		{"claims not JSON", []string{okToken, "{nonce}"}, []string{script(t, "garbage", `echo 'sku=H100'`)}, []string{"claims:"}},
		{"claims wrong type", []string{okToken, "{nonce}"}, []string{script(t, "typed", `echo '{"sku":"H100-SXM-80GB","vram_gib":"80"}'`)}, []string{"claims:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Command{TokenCmd: tc.token, ClaimsCmd: tc.claims}.Collect(context.Background(), testNonce())
			if err == nil {
				t.Fatalf("Collect = %+v, want an error", ev)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestCommandCollectCancelled: a hung issuer does not hang the sidecar past its context.
func TestCommandCollectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := Command{TokenCmd: []string{script(t, "slow", `sleep 30`)}, ClaimsCmd: []string{script(t, "claims", twoClaims)}}
	if _, err := c.Collect(ctx, testNonce()); err == nil {
		t.Fatal("Collect with a cancelled context succeeded")
	}
}
