#!/usr/bin/env bash
# The market and escrow flow through the CLI against a running local chain (scripts/localnet.sh):
# an order, two bids, AUTO clearing into a lease, blocks passing, a withdrawal, a top-up, and the
# escrow running dry: the lease must close at exactly the depletion height escrow announced, with
# the depletion event in that block's finalize-block results.
#   scripts/market-flow.sh [BINARY]     (LOCALNET_HOME selects the chain's home)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
BIN=${1:-$ROOT/build/computed}
HOME_DIR=${LOCALNET_HOME:-$ROOT/.localnet}
H=(--home "$HOME_DIR")
q() { "$BIN" query "$@" "${H[@]}" -o json | tr -d ' \n'; }
addr() { "$BIN" keys show "$1" -a "${H[@]}"; }
now() { json_field "$("$BIN" status "${H[@]}" 2>/dev/null)" latest_block_height; }
wait_for() { # wait_for HEIGHT
  local i
  for ((i = 0; i < 240; i++)); do [ "$(now)" -ge "$1" ] && return 0; sleep 0.5; done
  echo "chain did not reach height $1" >&2; return 1
}
step() { printf '\n-- %s\n' "$*"; }

alice=$(addr alice) provider=$(addr provider) bob=$(addr bob)
rate=1000 deposit=20300 # 20 blocks of runway and change

step "provider and bob register in FRA and attest 8×H100 each (development NRAS issuer)"
attest_provider "$BIN" "$HOME_DIR" provider FRA
attest_provider "$BIN" "$HOME_DIR" bob FRA
# Replayed and forged evidence must be refused: the used challenge again, and a token for a
# fresh challenge that carries the old nonce.
res=$(run_tx "$BIN" "$HOME_DIR" attest request-challenge --from bob)
old_nonce=$(event_attr "$res" nonce)
id=$(event_attr "$res" challenge_id)
ev=$(mktemp)
"$(dirname "$BIN")/devattest" nras --nonce "$old_nonce" --gpus 8 >"$ev"
gpus=()
while read -r g; do gpus+=(--gpus "$g"); done < <("$(dirname "$BIN")/devattest" gpus --gpus 8)
run_tx "$BIN" "$HOME_DIR" attest submit-attestation "$id" nvidia-nras "$ev" "${gpus[@]}" --from bob >/dev/null
if run_tx "$BIN" "$HOME_DIR" attest submit-attestation "$id" nvidia-nras "$ev" "${gpus[@]}" --from bob >/dev/null 2>&1; then
  echo "a replayed challenge was accepted" >&2; exit 1
fi
echo "replayed challenge $id: refused"
res=$(run_tx "$BIN" "$HOME_DIR" attest request-challenge --from bob)
if run_tx "$BIN" "$HOME_DIR" attest submit-attestation "$(event_attr "$res" challenge_id)" nvidia-nras "$ev" "${gpus[@]}" --from bob >/dev/null 2>&1; then
  echo "evidence bound to another nonce was accepted" >&2; exit 1
fi
echo "evidence bound to a stale nonce: refused"
res=$(run_tx "$BIN" "$HOME_DIR" attest request-challenge --from bob)
"$(dirname "$BIN")/devattest" nras --nonce "$(event_attr "$res" nonce)" --gpus 8 --forge >"$ev"
if out=$(run_tx "$BIN" "$HOME_DIR" attest submit-attestation "$(event_attr "$res" challenge_id)" nvidia-nras "$ev" "${gpus[@]}" --from bob 2>&1); then
  echo "forged evidence was accepted" >&2; exit 1
fi
echo "forged evidence (right kid, wrong key): refused"
rm -f "$ev"
echo "bob's record lists $(q attest attestation "$bob" | grep -o '"sku":"H100-SXM-80GB"' | wc -l) attested H100s"

step "alice orders 8×H100 in FRA at up to 1000 uusdc/block, depositing $deposit uusdc"
res=$(run_tx "$BIN" "$HOME_DIR" market create-order --from alice \
  --requirements '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"FRA"}' \
  --max-price-per-block ${rate}uusdc --deposit ${deposit}uusdc --bidding-window-blocks 5 \
  --policy auto --replicas 1 --workload "{\"wasm_hash\":\"$(printf 'ab%.0s' {1..32})\"}" \
  --sla '{"p95_latency_ms":50,"availability_bps":9990,"window_blocks":100,"penalty_bps":500}')
order=$(q market orders --owner "$alice" | sed -n 's/.*"id":"\([0-9]*\)".*/\1/p' | tail -1)
closes=$(json_field "$(q market order "$order")" bidding_closes_height)
echo "order $order open; bidding closes at height $closes"

step "two providers bid: provider at 900, bob at 800"
run_tx "$BIN" "$HOME_DIR" market create-bid "$order" 900uusdc --from provider >/dev/null
run_tx "$BIN" "$HOME_DIR" market create-bid "$order" 800uusdc --from bob >/dev/null
q market bids --order-id "$order" | grep -o '"price_per_block":{[^}]*}' || true

step "an unattested account's bid is refused by the chain"
if out=$(run_tx "$BIN" "$HOME_DIR" market create-bid "$order" 700uusdc --from validator 2>&1); then
  echo "an unattested bid was accepted: $out" >&2; exit 1
fi
echo "refused: $(echo "$out" | grep -o 'provider not registered' | head -1)"

step "the window closes and the order clears automatically"
wait_for $((closes + 1))
lease_json=$(q market leases --owner "$alice")
lease=$(json_field "$lease_json" id)
winner=$(json_field "$lease_json" provider)
start=$(json_field "$lease_json" start_height)
echo "lease $lease to $winner from height $start: $(echo "$lease_json" | grep -o '"price_per_block":{[^}]*}')"
[ "$winner" = "$bob" ] || { echo "expected the cheaper bid (bob) to win" >&2; exit 1; }
d1=$(json_field "$(q escrow account "$order")" depletion_height)
[ "$d1" -eq $((start + deposit / 800)) ] || { echo "depletion $d1, expected $((start + deposit / 800))" >&2; exit 1; }
echo "escrow runs dry at height $d1 (deposit $deposit / 800 per block)"

step "blocks pass; bob withdraws his earnings"
wait_for $((start + 3))
w=$(run_tx "$BIN" "$HOME_DIR" escrow withdraw "$lease" --from bob)
attr() { echo "$w" | grep -o "\"key\":\"$1\",\"value\":\"[^,]*" | head -1 | sed 's/.*"value":"//; s/\\"//g; s/"$//'; }
echo "withdrawn at height $(json_field "$w" height): paid $(attr paid), protocol take $(attr take)"
echo "$w" | grep -q 'computed.escrow.v1.EventWithdrawn' || { echo "no withdrawal event" >&2; exit 1; }

step "alice tops up 4000 uusdc: five more blocks"
run_tx "$BIN" "$HOME_DIR" escrow deposit "$order" 4000uusdc --from alice >/dev/null
d2=$(json_field "$(q escrow account "$order")" depletion_height)
[ "$d2" -eq $((d1 + 5)) ] || { echo "depletion moved to $d2, expected $((d1 + 5))" >&2; exit 1; }
echo "escrow now runs dry at height $d2"

step "escrow runs dry: the lease closes at height $d2"
wait_for $((d2 + 1))
l=$(q market lease "$lease")
echo "lease: state $(json_field "$l" state), reason $(json_field "$l" close_reason), closed at $(json_field "$l" closed_height)"
[ "$(json_field "$l" close_reason)" = CLOSE_REASON_INSUFFICIENT_FUNDS ] || { echo "wrong close reason" >&2; exit 1; }
[ "$(json_field "$l" closed_height)" -eq "$d2" ] || { echo "closed at the wrong height" >&2; exit 1; }
"$BIN" query block-results "$d2" "${H[@]}" -o json | tr -d ' \n' | grep -q 'computed.escrow.v1.EventAccountDepleted' ||
  { echo "no depletion event in block $d2's finalize-block results" >&2; exit 1; }
echo "EventAccountDepleted and EventLeaseClosed are in block $d2's finalize-block events"
echo "market flow: OK"
