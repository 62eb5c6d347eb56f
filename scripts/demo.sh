#!/usr/bin/env bash
# make demo: a fresh single-validator chain, the four computed modules answering, a bank transfer
# of the dev stable coin through the real tx path, the market flow (scripts/market-flow.sh), x/sla's
# bond/receipt/breach flow (scripts/sla-flow.sh), the provider sidecar end to end (scripts/provider-demo.sh), a clean stop.
# Exits non-zero if any step or check fails; leaves nothing running.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
BIN=${1:-$ROOT/build/computed}
export LOCALNET_HOME=${DEMO_HOME:-$ROOT/.demo}
export LOCALNET_CHAIN_ID=computed-demo
export LOCALNET_PORT_OFFSET=${DEMO_PORT_OFFSET:-0}
H=(--home "$LOCALNET_HOME")

step() { printf '\n== %s\n' "$*"; }
cleanup() { "$ROOT/scripts/localnet.sh" stop "$BIN" >/dev/null 2>&1 || true; }
trap cleanup EXIT

step "starting a fresh single-validator chain"
rm -rf "$LOCALNET_HOME"
"$ROOT/scripts/localnet.sh" start "$BIN"
"$BIN" version --long 2>/dev/null | grep -E '^(name|version|commit):' || true

step "computed modules answer (x/market, x/escrow, x/attest, x/sla params)"
for m in market escrow attest sla; do
  printf '%-7s ' "$m"
  "$BIN" query "$m" params "${H[@]}" -o json | tr -d ' \n'
  echo
done

alice=$("$BIN" keys show alice -a "${H[@]}")
bob=$("$BIN" keys show bob -a "${H[@]}")
bal() { "$BIN" query bank balance "$1" "$2" "${H[@]}" -o json | tr -d ' \n' | sed -n 's/.*"amount":"\([0-9]*\)".*/\1/p'; }

step "balances before"
a0=$(bal "$alice" uusdc) b0=$(bal "$bob" uusdc)
echo "alice $alice: $a0 uusdc"
echo "bob   $bob: $b0 uusdc"

amount=2500000
step "alice sends bob $amount uusdc (2.5 USDC in the dev stable denom)"
out=$("$BIN" tx bank send alice "$bob" ${amount}uusdc --fees 5000ucmpt --yes "${H[@]}" -o json | tr -d ' \n')
hash=$(echo "$out" | sed -n 's/.*"txhash":"\([0-9A-F]*\)".*/\1/p')
[ -n "$hash" ] || { echo "broadcast failed: $out" >&2; exit 1; }
echo "tx $hash broadcast"
for ((i = 0; i < 40; i++)); do
  if res=$("$BIN" query tx "$hash" "${H[@]}" -o json 2>/dev/null | tr -d ' \n') && [ -n "$res" ]; then break; fi
  sleep 0.5
done
code=$(echo "$res" | sed -n 's/.*"code":\([0-9]*\),.*/\1/p' | head -1)
txh=$(echo "$res" | sed -n 's/.*"height":"\([0-9]*\)".*/\1/p' | head -1)
[ "${code:-1}" = 0 ] || { echo "tx failed: $res" >&2; exit 1; }
echo "committed at height $txh with code 0"

step "balances after"
a1=$(bal "$alice" uusdc) b1=$(bal "$bob" uusdc)
echo "alice: $a1 uusdc"
echo "bob:   $b1 uusdc"
[ $((b1 - b0)) -eq $amount ] && [ $((a0 - a1)) -eq $amount ] || { echo "balances do not add up" >&2; exit 1; }

step "the GPU market: an order, two bids, a lease paid per block from escrow until it runs dry"
"$ROOT/scripts/market-flow.sh" "$BIN"

step "x/sla through the CLI: a bond, a locked unbond, receipt batches' gas, a breaching window paid to the buyer"
"$ROOT/scripts/sla-flow.sh" "$BIN"

step "the provider sidecar: authz-granted hot key, mock GPUs, bid, lease, ingress, receipts, SLA window, withdrawal"
"$ROOT/scripts/provider-demo.sh" "$BIN"

step "stopping"
cleanup
trap - EXIT
printf '\nsummary: chain %s ran; 4 computed modules answered; %s uusdc moved alice -> bob; an order cleared into a lease that escrow paid per block until it closed at the announced height; a breaching SLA window paid the buyer its penalty from the bond; a sidecar bid, ran a WASM lease behind its ingress, anchored receipts (one verified on chain), reported an SLA window judged met and withdrew earnings; node and sidecar stopped.\n' \
  "$LOCALNET_CHAIN_ID" "$amount"
