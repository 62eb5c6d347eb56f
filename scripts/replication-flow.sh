#!/usr/bin/env bash
# Replicated execution with two sidecars on a running localnet: carol's (acting through an authz
# grant) and dave's (signing with the operator key itself). alice orders a deterministic WASM
# job with 2 replicas; both sidecars bid, win a replica each, run the job, commit
# SHA-256(result ‖ provider ‖ salt), reveal after the commit deadline; the chain agrees on the
# digest, records it on the order, pays both replicas and closes the leases COMPLETED.
#   scripts/replication-flow.sh BIN
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
BIN=${1:-$ROOT/build/computed}
HOME_DIR=${LOCALNET_HOME:-$ROOT/.localnet}
OFF=${LOCALNET_PORT_OFFSET:-0}
source "$ROOT/scripts/sidecar-lib.sh"
P2=$HOME_DIR/sidecar-dave
cleanup() { stop_sidecar; stop_pid "$P2/sidecar.pid"; }
trap cleanup EXIT

step "two sidecars in AMS: carol's (authz grantee) and dave's (operator key)"
sidecar_wasm
sidecar_grant
sidecar_init
sidecar_start
mkdir -p "$P2/wasm"
cp "$PHOME/wasm/$wasm_hash.wasm" "$P2/wasm/"
"$BIN" provider init "${H[@]}" --config "$P2/provider.toml" --key dave --metro AMS --chain-id "$CHAIN_ID" \
  --chain-rpc "$RPC" --listen 127.0.0.1:$((8490 + OFF)) --gpu-backend mock --bond 5000000uusdc \
  --devattest "$ROOT/build/devattest" --keyring-backend test >/dev/null
sed -i "s#^wasm_dir = .*#wasm_dir = \"$P2/wasm\"#; s#^data_dir = .*#data_dir = \"$P2/data\"#" "$P2/provider.toml"
"$BIN" provider start "${H[@]}" --config "$P2/provider.toml" >"$P2/sidecar.log" 2>&1 &
echo $! >"$P2/sidecar.pid"
for ((i = 0; i < 80; i++)); do grep -q "sidecar running" "$P2/sidecar.log" && break; sleep 0.25; done
grep -q "sidecar running" "$P2/sidecar.log" || { tail "$P2/sidecar.log"; die "dave's sidecar did not come up"; }
dave=$("$BIN" keys show dave -a "${H[@]}")
echo "both sidecars attested and bonded"

step "alice orders a replicated job: echo.wasm on a 64-hex input, 2 replicas"
input=$(printf hello | sha256sum | cut -d" " -f1)
res=$(run_tx "$BIN" "$HOME_DIR" market create-order \
  --requirements '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"AMS","min_provider_bond":{"denom":"uusdc","amount":"1000000"}}' \
  --max-price-per-block 20000uusdc --deposit 2000000uusdc --bidding-window-blocks 5 --policy auto --replicas 2 \
  --workload "{\"wasm_hash\":\"$wasm_hash\",\"input_commitment\":\"$input\"}" \
  --sla '{"p95_latency_ms":0,"availability_bps":0,"window_blocks":0,"penalty_bps":0}' --from alice)
order=$(event_attr "$res" order_id)
echo "order $order"
for ((i = 0; i < 90; i++)); do
  rep=$(q sla replication "$order" 2>/dev/null || true)
  echo "$rep" | grep -q 'REPLICATION_STATUS_\(AGREED\|FAILED\)' && break
  sleep 0.5
done
echo "$rep" | grep -q REPLICATION_STATUS_AGREED || die "replication did not agree: $rep"
grep -h "result committed\|result revealed" "$PHOME/sidecar.log" "$P2/sidecar.log" | sed 's/^time=[^ ]* //'
want=$(printf '%s' "$input" | sha256sum | cut -d' ' -f1)
got=$(q market order "$order" | sed -n 's/.*"result_digest":"\([0-9a-f]*\)".*/\1/p')
echo "agreed digest $got (sha256 of the input, which echo returns: $want)"
[ "$got" = "$want" ] || die "order records $got, expected $want"
leases=0
for id in $(echo "$rep" | grep -o '"lease_id":"[0-9]*"' | grep -o '[0-9]*'); do
  q market lease "$id" | grep -q '"close_reason":"CLOSE_REASON_COMPLETED"' && leases=$((leases + 1))
done
[ "$leases" -eq 2 ] || die "expected 2 leases closed COMPLETED, got $leases"
paid=$(echo "$rep" | grep -o '"paid":{"denom":"uusdc","amount":"[0-9]*"}' | grep -o '[0-9]*"}' | tr -d '"}' | tr '\n' ' ')
echo "both replicas paid for the blocks they ran: $paid uusdc; both leases closed COMPLETED"
