#!/usr/bin/env bash
# The provider sidecar end to end on a running localnet (called by scripts/demo.sh):
# carol, an operator, lets a hot key act for her (authz + feegrant); the sidecar, with 8 mock
# H100s and the development attestation issuer, registers, attests and bonds carol; alice orders
# a WASM service in AMS with SLA terms; the sidecar bids, wins, runs it behind its ingress;
# requests go through; receipts are anchored and one is verified on chain (a tampered one is
# not); an SLA window is reported and judged; escrow draws down per block; earnings are
# withdrawn; alice closes the order and the sidecar stops the lease.
#   scripts/provider-demo.sh BIN
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
BIN=${1:-$ROOT/build/computed}
HOME_DIR=${LOCALNET_HOME:-$ROOT/.localnet}
OFF=${LOCALNET_PORT_OFFSET:-0}
source "$ROOT/scripts/sidecar-lib.sh"
trap stop_sidecar EXIT

step "the WASM workload: provider/exec/wasm/testdata/echo built for wasip1"
sidecar_wasm
echo "echo.wasm sha256 $wasm_hash"

step "carol (operator) grants a fresh sidecar key authz for the sidecar's messages and a feegrant"
sidecar_grant

step "computed provider init + start (mock 8×H100-SXM-80GB, dev attestation issuer)"
sidecar_init
sidecar_start
grep -E "registering|attested|bonding" "$PHOME/sidecar.log" | sed 's/^time=[^ ]* //' || true
echo "chain: carol's bond $(q sla bond "$carol" | grep -o '"bonded":\[[^]]*\]')"

step "orders the sidecar must not bid on: another metro, more GPUs than it has, a ceiling under its price, SEV-SNP evidence, another SKU"
decoys=()
decoy() { # REQUIREMENTS MAX_PRICE
  local res
  res=$(run_tx "$BIN" "$HOME_DIR" market create-order --requirements "$1" --max-price-per-block "$2" \
    --deposit 100000uusdc --bidding-window-blocks 5 --policy auto --replicas 1 \
    --workload "{\"wasm_hash\":\"$wasm_hash\"}" --from alice)
  decoys+=("$(event_attr "$res" order_id)")
}
nras='"evidence":["EVIDENCE_TYPE_NVIDIA_NRAS"]'
decoy '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"FRA",'"$nras"'}' 20000uusdc
decoy '{"gpu_sku":"H100-SXM-80GB","gpu_count":16,"min_vram_gib":80,"metro":"AMS",'"$nras"'}' 40000uusdc
decoy '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"AMS",'"$nras"'}' 1000uusdc
decoy '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"AMS","evidence":["EVIDENCE_TYPE_AMD_SEV_SNP"]}' 20000uusdc
decoy '{"gpu_sku":"H200-SXM-141GB","gpu_count":8,"min_vram_gib":141,"metro":"AMS",'"$nras"'}' 30000uusdc
echo "orders ${decoys[*]} created"

step "alice orders 8×H100 in AMS for the echo service: P95 ≤ 50 ms, availability ≥ 90%, 10-block windows"
order_service 10
echo "order $order created at height $created"
for ((i = 0; i < 30; i++)); do
  bid=$(q market bids --order-id "$order" | grep -o '"provider":"'"$carol"'"' | head -1) || true
  [ -n "$bid" ] && break
  sleep 0.5
done
[ -n "$bid" ] || die "the sidecar did not bid"
bid_h=$(q market bids --order-id "$order" | sed -n 's/.*"created_height":"\([0-9]*\)".*/\1/p' | head -1)
echo "sidecar's bid included at height $bid_h ($((bid_h - created)) block(s) after the order)"
[ $((bid_h - created)) -le 2 ] || die "bid took more than 2 blocks"
await_lease
echo "lease $lease: $(grep "lease running.*lease=$lease" "$PHOME/sidecar.log" | sed 's/^time=[^ ]* //')"
for d in "${decoys[@]}"; do
  q market bids --order-id "$d" | grep -q '"provider":"'"$carol"'"' && die "the sidecar bid on order $d"
  why=$(grep -E "not bidding\"? order=$d " "$PHOME/sidecar.log" | head -1 | sed 's/.*reason=//')
  [ -n "$why" ] || die "the sidecar logged no decision on order $d"
  echo "no bid on order $d: $why"
done

step "requests through the sidecar's ingress (http://$LISTEN/leases/$lease/)"
times=()
for i in $(seq 1 20); do
  out=$(curl -sf -w '\n%{time_total}' -d "request $i" "http://$LISTEN/leases/$lease/") || die "request $i failed"
  reply=${out%$'\n'*}
  times+=("${out##*$'\n'}")
done
echo "20 requests answered; last reply: $reply; slowest as curl saw them: $(printf '%s\n' "${times[@]}" | sort -rn | head -3 | awk '{printf "%.1f ms ", $1 * 1000}')"

step "receipts anchored on chain, one fetched from the sidecar and verified against the root"
for ((i = 0; i < 40; i++)); do
  batches=$(q sla batches "$lease")
  echo "$batches" | grep -q merkle_root && break
  sleep 0.5
done
echo "$batches" | grep -q merkle_root || die "no receipt batch anchored"
echo "batch: $(echo "$batches" | grep -o '"first_sequence":"[0-9]*","last_sequence":"[0-9]*","count":"[0-9]*","merkle_root":"[^"]*"' | head -1)"
"$BIN" provider receipt "$lease" 1 --sidecar "$LISTEN" --out "$PHOME/proof" "${H[@]}"
"$BIN" query sla verify-receipt "$lease" "$PHOME/proof/receipt.json" "$PHOME/proof/proof.json" "${H[@]}"
sed 's/"settlement_ref":"[^"]*"/"settlement_ref":"tampered"/; s/"settlement_ref": "[^"]*"/"settlement_ref": "tampered"/' "$PHOME/proof/receipt.json" >"$PHOME/proof/tampered.json"
if "$BIN" query sla verify-receipt "$lease" "$PHOME/proof/tampered.json" "$PHOME/proof/proof.json" "${H[@]}" 2>"$PHOME/proof/tampered.err"; then
  die "a tampered receipt verified"
fi
echo "tampered receipt refused: $(tail -1 "$PHOME/proof/tampered.err")"

step "escrow draws down per block"
acc1=$(q escrow account "$order" | sed -n 's/.*"balance":"\([0-9]*\)".*/\1/p'); h1=$(height)
sleep 3
acc2=$(q escrow account "$order" | sed -n 's/.*"balance":"\([0-9]*\)".*/\1/p'); h2=$(height)
echo "settled balance $acc1 at height $h1 → $acc2 at height $h2 (lazy settlement; the settled view below is exact)"
q escrow account "$order" | grep -o '"depletion_height":"[0-9]*"' || true

step "the first SLA window is reported by the sidecar and judged by the chain"
start=$(q market lease "$lease" | sed -n 's/.*"start_height":"\([0-9]*\)".*/\1/p')
grace=$(q sla params | sed -n 's/.*"report_grace_blocks":"\([0-9]*\)".*/\1/p')
due=$((start + 10 + ${grace:?no report_grace_blocks in the sla params}))
echo "window 1 covers heights $((start + 1))..$((start + 10)); judged in the EndBlock of $due"
for ((i = 0; i < 60; i++)); do
  rep=$(q sla reports "$lease")
  echo "$rep" | grep -q '"status":"WINDOW_STATUS_\(MET\|BREACHED\|MISSING\)"' && break
  sleep 0.5
done
echo "$rep" | grep -o '"window":"1","stats":{[^}]*}' | head -1
echo "$rep" | grep -q '"status":"WINDOW_STATUS_MET"' || die "window 1 not met: $rep"
echo "verdict: $(echo "$rep" | grep -o '"status":"WINDOW_STATUS_[A-Z]*"' | head -1); reputation $(q sla reputation "$carol")"

step "earnings withdrawn by the sidecar (every 10 blocks)"
for ((i = 0; i < 40; i++)); do
  grep -q 'what=withdraw' "$PHOME/sidecar.log" && die "withdraw failed: $(grep 'what=withdraw' "$PHOME/sidecar.log" | tail -1)"
  w=$(q escrow stream "$lease" | sed -n 's/.*"withdrawn":"\([0-9]*\)".*/\1/p')
  [ "${w:-0}" -gt 0 ] && break
  sleep 0.5
done
[ "${w:-0}" -gt 0 ] || die "nothing withdrawn"
echo "stream $lease: $w uusdc withdrawn so far (carol's uusdc balance now $(bal "$carol" uusdc))"

step "computed provider status"
"$BIN" provider status "${H[@]}" --config "$PHOME/provider.toml" | grep -v '^  GPU-' | sed 's/^/  /'

step "the sidecar's transactions, from its /metrics: time from broadcast to a block"
# The sidecar learns of a block's transactions by polling (up to 0.3 s after the chain has them).
for ((i = 0; i < 20; i++)); do
  metrics=$(curl -sf "http://$LISTEN/metrics") || die "no /metrics"
  [ "$(grep -c '^computed_provider_tx_inclusion_seconds_count{op="\(bid\|receipt_batch\|sla_report\|withdraw\)"}' <<<"$metrics")" = 4 ] && break
  sleep 0.25
done
for op in bid receipt_batch sla_report withdraw; do
  n=$(sed -n 's/^computed_provider_tx_inclusion_seconds_count{op="'"$op"'"} \([0-9]*\)$/\1/p' <<<"$metrics")
  sum=$(sed -n 's/^computed_provider_tx_inclusion_seconds_sum{op="'"$op"'"} \(.*\)$/\1/p' <<<"$metrics")
  [ "${n:-0}" -gt 0 ] || die "no $op transaction in computed_provider_tx_inclusion_seconds"
  echo "$op: $n, $(awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.2f", s / n }') s on average"
done

step "alice closes the order; the sidecar stops the lease"
run_tx "$BIN" "$HOME_DIR" market close-order "$order" --from alice >/dev/null
for ((i = 0; i < 30; i++)); do
  grep -q "lease closed.*lease=$lease" "$PHOME/sidecar.log" && break
  sleep 0.5
done
grep -q "lease closed.*lease=$lease" "$PHOME/sidecar.log" || die "sidecar did not stop the lease"
curl -s -o /dev/null -w '%{http_code}' -d x "http://$LISTEN/leases/$lease/" | grep -q 404 || die "ingress still serves the closed lease"
echo "lease $lease stopped; its ingress answers 404"
stop_sidecar
echo "sidecar stopped"
