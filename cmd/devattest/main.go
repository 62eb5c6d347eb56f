// Command devattest is a development tool: it signs NRAS detached EATs with the development
// issuer that the dev genesis trusts, so scripts and the demo can attest providers on machines
// without confidential-computing GPUs. It is a separate binary on purpose: the node must never
// carry test keys. The provider sidecar does the same from Go for its dev mode.
//
//	devattest nras --nonce HEX [--gpus N] [--forge] > evidence.json
//	devattest gpus [--gpus N]          # the matching --gpus claims, one JSON object per line
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/computed-network/computed/testutil/attestation"
	attesttest "github.com/computed-network/computed/x/attest/testutil"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devattest:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: devattest nras --nonce HEX [--gpus N] | devattest gpus [--gpus N]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	nonceHex := fs.String("nonce", "", "challenge nonce, hex (from EventChallengeIssued)")
	gpus := fs.Int("gpus", 8, "number of H100 GPUs to attest")
	forge := fs.Bool("forge", false, "sign with a fresh key under the trusted kid: evidence the chain must refuse")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *gpus < 1 || *gpus > 64 {
		return fmt.Errorf("--gpus must be in 1..64")
	}
	switch args[0] {
	case "nras":
		nonce, err := hex.DecodeString(*nonceHex)
		if err != nil || len(nonce) != 32 {
			return fmt.Errorf("--nonce must be 64 hex characters")
		}
		// Issued now: the chain checks iat/exp against block time with the params' leeway.
		var opts []attestation.Option
		if *forge {
			key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			if err != nil {
				return err
			}
			opts = append(opts, attestation.AllTokens(attestation.SignWith(key)))
		}
		evidence, err := attesttest.DevIssuer().ValidEAT(nonce, time.Now().UTC(), *gpus, opts...)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(evidence)
		return err
	case "gpus":
		enc := json.NewEncoder(os.Stdout)
		for _, g := range attesttest.Claims(*gpus) {
			if err := enc.Encode(map[string]any{"sku": g.Sku, "vram_gib": g.VramGib, "uuid": g.Uuid}); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}
