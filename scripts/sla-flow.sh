#!/usr/bin/env bash
# x/sla through the CLI on a running local chain, after scripts/market-flow.sh attested bob in
# FRA: bob bonds; alice's order requires a bond and SLA terms; bob's bid wins; the lease locks
# bob's bond (an unbond of it is refused); receipt batches of 10 and 10,000 receipts are anchored
# and their gas compared; a breaching SLA report moves exactly the penalty from bob's bond to
# alice in the block the window is judged; the order closes and the lock is released.
#   scripts/sla-flow.sh [BINARY]     (LOCALNET_HOME selects the chain's home)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
BIN=${1:-$ROOT/build/computed}
HOME_DIR=${LOCALNET_HOME:-$ROOT/.localnet}
H=(--home "$HOME_DIR")
q() { "$BIN" query "$@" "${H[@]}" -o json | tr -d ' \n'; }
now() { json_field "$("$BIN" status "${H[@]}" 2>/dev/null)" latest_block_height; }
wait_for() {
  local i
  for ((i = 0; i < 240; i++)); do [ "$(now)" -ge "$1" ] && return 0; sleep 0.5; done
  echo "chain did not reach height $1" >&2; return 1
}
bal_at() { # bal_at ADDR DENOM HEIGHT
  "$BIN" query bank balance "$1" "$2" --height "$3" "${H[@]}" -o json | tr -d ' \n' | sed -n 's/.*"amount":"\([0-9]*\)".*/\1/p'
}
step() { printf '\n-- %s\n' "$*"; }
fail() { echo "sla-flow: $*" >&2; exit 1; }
# refused ARGS...: runs a transaction that must fail on chain and prints why.
refused() { local out; if out=$(run_tx "$BIN" "$HOME_DIR" "$@" 2>&1 >/dev/null); then return 1; fi; echo "$out"; }
alice=$("$BIN" keys show alice -a "${H[@]}") bob=$("$BIN" keys show bob -a "${H[@]}")

step "bob bonds 2000000uusdc"
run_tx "$BIN" "$HOME_DIR" sla bond 2000000uusdc --from bob >/dev/null
echo "bond: $(q sla bond "$bob" | grep -o '"bonded":\[[^]]*\]')"

step "alice orders 8×H100 in FRA: min bond 1000000uusdc, P95 ≤ 50 ms, availability ≥ 99%, 10-block windows, 10% penalty"
res=$(run_tx "$BIN" "$HOME_DIR" market create-order \
  --requirements '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"FRA","min_provider_bond":{"denom":"uusdc","amount":"1000000"}}' \
  --max-price-per-block 1000uusdc --deposit 100000uusdc --bidding-window-blocks 5 --policy auto --replicas 1 \
  --workload '{"wasm_hash":"'"$(printf 'ab%.0s' {1..32})"'"}' --sla '{"p95_latency_ms":50,"availability_bps":9900,"window_blocks":10,"penalty_bps":1000}' --from alice)
order=$(event_attr "$res" order_id)
closes=$(event_attr "$res" bidding_closes_height)
run_tx "$BIN" "$HOME_DIR" market create-bid "$order" 800uusdc --from bob >/dev/null
wait_for $((closes + 1))
lease=$(q market leases --owner "$alice" --state active | sed -n 's/.*"id":"\([0-9]*\)","order_id":"'"$order"'".*/\1/p' | head -1)
[ -n "$lease" ] || fail "no lease for order $order"
start=$(q market lease "$lease" | sed -n 's/.*"start_height":"\([0-9]*\)".*/\1/p')
echo "lease $lease started at height $start; locks: $(q sla bond "$bob" | grep -o '"locked":\[[^]]*\]')"
bond=$(q sla bond "$bob")
bonded=$(echo "$bond" | sed -n 's/.*"bonded":\[{"denom":"uusdc","amount":"\([0-9]*\)".*/\1/p')
locked=$(echo "$bond" | sed -n 's/.*"locked":\[{"denom":"uusdc","amount":"\([0-9]*\)".*/\1/p')
free=$((bonded - locked))
out=$(refused sla unbond $((free + 1))uusdc --from bob) || fail "unbonding locked bond was not refused"
echo "$out" | grep -q "freebondis${free}uusdc" || fail "unexpected refusal: $out"
echo "unbonding $((free + 1))uusdc is refused: only $free of $bonded is free, $locked is locked by the lease"

step "receipt batches: gas of anchoring 10 and 10,000 receipts"
root=$(printf '%064x' 1)
r10=$(run_tx "$BIN" "$HOME_DIR" sla submit-receipt-batch "$lease" 1 10 10 "$root" 8000uusdc --from bob)
r10k=$(run_tx "$BIN" "$HOME_DIR" sla submit-receipt-batch "$lease" 11 10010 10000 "$root" 8000000uusdc --from bob)
g10=$(json_field "$r10" gas_used) g10k=$(json_field "$r10k" gas_used)
echo "10 receipts: $g10 gas ($((g10 / 10)) per receipt); 10,000 receipts: $g10k gas ($((g10k / 10000)) per receipt)"
[ "$g10k" -lt $((g10 * 11 / 10)) ] || fail "a 10,000-receipt batch costs more than 1.1x a 10-receipt batch"
out=$(refused sla submit-receipt-batch "$lease" 5 20 16 "$root" 1uusdc --from bob) || fail "an overlapping batch was taken"
echo "$out" | grep -q 'thenextbatchmuststartat10011' || fail "unexpected refusal: $out"
echo "an overlapping batch (5..20) is refused: the next batch must start at 10011"

step "bob reports window 1 breaching the terms (P95 200 ms); alice is paid the penalty when it is judged"
end=$((start + 10))
grace=$(q sla params | sed -n 's/.*"report_grace_blocks":"\([0-9]*\)".*/\1/p')
due=$((end + ${grace:?no report_grace_blocks in the sla params}))
wait_for "$end"
run_tx "$BIN" "$HOME_DIR" sla submit-sla-report "$lease" 1 --requests 1000 --p95-latency-us 200000 --p99-latency-us 250000 \
  --availability-bps 10000 --samples-root "$root" --from bob >/dev/null
wait_for $((due + 1))
before=$(bal_at "$alice" uusdc $((due - 1))) after=$(bal_at "$alice" uusdc "$due")
penalty=$((800 * 10 * 1000 / 10000))
echo "window 1 judged at height $due: alice $before → $after uusdc (+$((after - before))), penalty $penalty"
[ $((after - before)) -eq "$penalty" ] || fail "alice was paid $((after - before)), not the penalty $penalty"
q sla reports "$lease" | grep -o '"window":"1"[^]]*"status":"WINDOW_STATUS_BREACHED"' >/dev/null || fail "window 1 not breached"
echo "bob's reputation: $(q sla reputation "$bob")"

step "alice closes the order; bob's lock is released"
run_tx "$BIN" "$HOME_DIR" market close-order "$order" --from alice >/dev/null
echo "bond: $(q sla bond "$bob" | grep -o "\"locked\":\[[^]]*\]")"
