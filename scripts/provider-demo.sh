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
RPC=tcp://127.0.0.1:$((26657 + OFF))
CHAIN_ID=$(sed -n 's/^chain-id = "\(.*\)"/\1/p' "$HOME_DIR/config/client.toml")
PHOME=$HOME_DIR/sidecar
LISTEN=127.0.0.1:$((8480 + OFF))
H=(--home "$HOME_DIR")
step() { printf '\n-- %s\n' "$*"; }
die() { echo "provider-demo: $*" >&2; [ -f "$PHOME/sidecar.log" ] && tail -30 "$PHOME/sidecar.log" >&2; exit 1; }
q() { "$BIN" query "$@" "${H[@]}" -o json | tr -d ' \n'; }
height() { "$BIN" status "${H[@]}" 2>/dev/null | tr -d ' \n' | sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p'; }
bal() { q bank balance "$1" "$2" | sed -n 's/.*"amount":"\([0-9]*\)".*/\1/p'; }
stop_sidecar() { stop_pid "$PHOME/sidecar.pid"; }
trap stop_sidecar EXIT

step "the WASM workload: provider/exec/wasm/testdata/echo built for wasip1"
mkdir -p "$PHOME/wasm"
"$ROOT/scripts/build-wasm.sh" "$PHOME/echo.wasm" >/dev/null
wasm_hash=$(sha256sum "$PHOME/echo.wasm" | cut -d' ' -f1)
cp "$PHOME/echo.wasm" "$PHOME/wasm/$wasm_hash.wasm"
echo "echo.wasm sha256 $wasm_hash"

step "carol (operator) grants a fresh sidecar key authz for the sidecar's messages and a feegrant"
"$BIN" keys add sidecar --keyring-backend test "${H[@]}" --output json >"$PHOME/sidecar.key.json" 2>&1 || true
carol=$("$BIN" keys show carol -a "${H[@]}")
alice=$("$BIN" keys show alice -a "${H[@]}")
sidecar=$("$BIN" keys show sidecar -a "${H[@]}")
run_tx "$BIN" "$HOME_DIR" bank send carol "$sidecar" 1ucmpt >/dev/null # the account must exist to sign
out=$("$BIN" provider grant "$sidecar" --from carol "${H[@]}" --fees 20000ucmpt --gas 800000 --yes -o json 2>&1 | tr -d ' \n')
[ "$(json_field "$out" code)" = 0 ] || die "grant refused: $out"
for ((i = 0; i < 20; i++)); do
  grants=$(q authz grants "$carol" "$sidecar" 2>/dev/null | grep -o '"msg":"[^"]*"' | wc -l) || true
  [ "${grants:-0}" -ge 13 ] && break
  sleep 0.5
done
echo "sidecar $sidecar may send $grants message types for carol; fees paid by carol's feegrant"

step "computed provider init + start (mock 8×H100-SXM-80GB, dev attestation issuer)"
rm -f "$PHOME/provider.toml"
"$BIN" provider init "${H[@]}" --config "$PHOME/provider.toml" --key sidecar --operator "$carol" --metro AMS \
  --chain-id "$CHAIN_ID" --chain-rpc "$RPC" --listen "$LISTEN" --gpu-backend mock --bond 5000000uusdc \
  --devattest "$ROOT/build/devattest" --keyring-backend test
sed -i "s#^wasm_dir = .*#wasm_dir = \"$PHOME/wasm\"#; s#^data_dir = .*#data_dir = \"$PHOME/data\"#; s#^fee_granter = .*#fee_granter = \"$carol\"#; s#^withdraw_every_blocks = .*#withdraw_every_blocks = 10#; s#^max_age = .*#max_age = \"2s\"#" "$PHOME/provider.toml"
"$BIN" provider start "${H[@]}" --config "$PHOME/provider.toml" >"$PHOME/sidecar.log" 2>&1 &
sidecar_pid=$!
echo "$sidecar_pid" >"$PHOME/sidecar.pid"
for ((i = 0; i < 60; i++)); do
  grep -q "sidecar running" "$PHOME/sidecar.log" && break
  kill -0 "$sidecar_pid" 2>/dev/null || die "sidecar exited"
  sleep 0.5
done
grep -q "sidecar running" "$PHOME/sidecar.log" || die "sidecar did not come up"
grep -E "registering|attested|bonding" "$PHOME/sidecar.log" | sed 's/^time=[^ ]* //' || true
echo "chain: carol's bond $(q sla bond "$carol" | grep -o '"bonded":\[[^]]*\]')"

step "alice orders 8×H100 in AMS for the echo service: P95 ≤ 50 ms, availability ≥ 90%, 10-block windows"
res=$(run_tx "$BIN" "$HOME_DIR" market create-order \
  --requirements '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"AMS","evidence":["EVIDENCE_TYPE_NVIDIA_NRAS"],"min_provider_bond":{"denom":"uusdc","amount":"1000000"}}' \
  --max-price-per-block 20000uusdc --deposit 3000000uusdc --bidding-window-blocks 5 --policy auto --replicas 1 \
  --workload "{\"wasm_hash\":\"$wasm_hash\"}" --sla '{"p95_latency_ms":50,"availability_bps":9000,"window_blocks":10,"penalty_bps":500}' --from alice)
order=$(event_attr "$res" order_id)
created=$(json_field "$res" height)
echo "order $order created at height $created"
for ((i = 0; i < 30; i++)); do
  bid=$(q market bids --order-id "$order" | grep -o '"provider":"'"$carol"'"' | head -1) || true
  [ -n "$bid" ] && break
  sleep 0.5
done
[ -n "$bid" ] || die "the sidecar did not bid"
bid_h=$(q market bids --order-id "$order" | sed -n 's/.*"created_height":"\([0-9]*\)".*/\1/p' | head -1)
echo "sidecar's bid included at height $bid_h ($((bid_h - created)) block(s) after the order)"
for ((i = 0; i < 30; i++)); do
  lease=$(q market leases --owner "$alice" --state active | sed -n 's/.*"id":"\([0-9]*\)","order_id":"'"$order"'".*/\1/p' | head -1) || true
  [ -n "$lease" ] && grep -q "lease running.*lease=$lease" "$PHOME/sidecar.log" && break
  sleep 0.5
done
[ -n "$lease" ] || die "no lease"
echo "lease $lease: $(grep "lease running.*lease=$lease" "$PHOME/sidecar.log" | sed 's/^time=[^ ]* //')"

step "requests through the sidecar's ingress (http://$LISTEN/leases/$lease/)"
for i in $(seq 1 20); do
  reply=$(curl -sf -d "request $i" "http://$LISTEN/leases/$lease/") || die "request $i failed"
done
echo "20 requests answered; last reply: $reply"

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
due=$((start + 10 + 2))
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
