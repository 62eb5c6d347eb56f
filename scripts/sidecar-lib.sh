# Shared by provider-demo.sh and provider-crash.sh (source after lib.sh with BIN, HOME_DIR, OFF
# set): a sidecar for operator carol acting through an authz-granted hot key.

RPC=tcp://127.0.0.1:$((26657 + OFF))
CHAIN_ID=$(sed -n 's/^chain-id = "\(.*\)"/\1/p' "$HOME_DIR/config/client.toml")
PHOME=$HOME_DIR/sidecar
LISTEN=127.0.0.1:$((8480 + OFF))
H=(--home "$HOME_DIR")
step() { printf '\n-- %s\n' "$*"; }
# die: the sidecar log's tail, then the reason last, where a caller's tail of the output sees it.
die() { [ -f "$PHOME/sidecar.log" ] && tail -30 "$PHOME/sidecar.log" >&2; echo "${0##*/}: $*" >&2; exit 1; }
q() { "$BIN" query "$@" "${H[@]}" -o json | tr -d ' \n'; }
height() { "$BIN" status "${H[@]}" 2>/dev/null | tr -d ' \n' | sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p'; }
bal() { q bank balance "$1" "$2" | sed -n 's/.*"amount":"\([0-9]*\)".*/\1/p'; }
stop_sidecar() { stop_pid "$PHOME/sidecar.pid"; }

# sidecar_wasm: builds the echo workload into the sidecar's module dir; sets wasm_hash.
sidecar_wasm() {
  mkdir -p "$PHOME/wasm"
  "$ROOT/scripts/build-wasm.sh" "$PHOME/echo.wasm" >/dev/null
  wasm_hash=$(sha256sum "$PHOME/echo.wasm" | cut -d' ' -f1)
  cp "$PHOME/echo.wasm" "$PHOME/wasm/$wasm_hash.wasm"
}

# sidecar_grant: carol lets a fresh key act for her; sets carol, alice, sidecar.
sidecar_grant() {
  local out grants i
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
}

# sidecar_init: writes the sidecar's config (mock GPUs, dev attestation issuer, metro AMS).
sidecar_init() {
  rm -f "$PHOME/provider.toml"
  "$BIN" provider init "${H[@]}" --config "$PHOME/provider.toml" --key sidecar --operator "$carol" --metro AMS \
    --chain-id "$CHAIN_ID" --chain-rpc "$RPC" --listen "$LISTEN" --gpu-backend mock --bond 5000000uusdc \
    --devattest "$ROOT/build/devattest" --keyring-backend test
  sed -i "s#^wasm_dir = .*#wasm_dir = \"$PHOME/wasm\"#; s#^data_dir = .*#data_dir = \"$PHOME/data\"#;
          s#^fee_granter = .*#fee_granter = \"$carol\"#; s#^withdraw_every_blocks = .*#withdraw_every_blocks = 10#;
          s#^max_age = .*#max_age = \"2s\"#" "$PHOME/provider.toml"
}

# sidecar_start: starts the sidecar and waits until it runs.
sidecar_start() {
  sidecar_launch
  sidecar_await
}

# sidecar_launch: starts the sidecar in the background (through the socket holder if there is
# one); sidecar_await then waits until it runs.
sidecar_launch() {
  local i
  running_before=$(log_count "sidecar running")
  if [ -n "${holder_fifo:-}" ]; then
    rm -f "$PHOME/sidecar.pid"
    echo "$PHOME/sidecar.pid $BIN provider start ${H[*]} --config $PHOME/provider.toml" >"$holder_fifo"
    for ((i = 0; i < 100; i++)); do [ -s "$PHOME/sidecar.pid" ] && return 0; sleep 0.05; done
    die "the socket holder did not start the sidecar"
  fi
  "$BIN" provider start "${H[@]}" --config "$PHOME/provider.toml" >>"$PHOME/sidecar.log" 2>&1 &
  echo "$!" >"$PHOME/sidecar.pid"
}

# sidecar_hold_socket: a holder (scripts/socket-holder.sh under systemd-socket-activate) keeps
# the sidecar's listening socket open across its restarts, as systemd does for a socket-activated
# service, and sidecar_launch starts the sidecar on it. Sets holder_pid and holder_fifo; returns
# 1, holding nothing, without systemd-socket-activate.
sidecar_hold_socket() {
  command -v systemd-socket-activate >/dev/null || return 1
  local listening execing
  listening=$(log_count "Listening on $LISTEN")
  execing=$(log_count "Execing bash")
  rm -f "$PHOME/holder.fifo"
  mkfifo "$PHOME/holder.fifo"
  systemd-socket-activate -l "$LISTEN" bash "$ROOT/scripts/socket-holder.sh" "$PHOME/holder.fifo" \
    >>"$PHOME/sidecar.log" 2>&1 </dev/null &
  holder_pid=$!
  await_log "Listening on $LISTEN" "$listening" || die "the socket holder does not listen on $LISTEN"
  # This systemd-socket-activate (Debian 12's) starts its command at the first connection only.
  : <"/dev/tcp/${LISTEN%:*}/${LISTEN#*:}" || die "the socket holder does not listen on $LISTEN"
  await_log "Execing bash" "$execing" || die "the socket holder did not start"
  holder_fifo=$PHOME/holder.fifo
}

# log_count PATTERN: how many lines of the sidecar log match PATTERN (0 before there is a log).
log_count() {
  local n
  n=$(grep -c "$1" "$PHOME/sidecar.log" 2>/dev/null) || true
  echo "${n:-0}"
}

# await_log PATTERN N: waits up to 5 s for more than N lines of the sidecar log to match PATTERN.
await_log() {
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(log_count "$1")" -gt "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# gone PID: waits up to 5 s for a process (not necessarily this shell's child) to be gone.
gone() {
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  return 1
}

sidecar_await() {
  local pid i
  pid=$(cat "$PHOME/sidecar.pid")
  for ((i = 0; i < 80; i++)); do
    [ "$(log_count "sidecar running")" -gt "${running_before:-0}" ] && return 0
    kill -0 "$pid" 2>/dev/null || die "sidecar exited"
    sleep 0.25
  done
  die "sidecar did not come up"
}

# order_service WINDOW [AVAILABILITY_BPS]: alice orders the echo service in AMS (availability
# target 9000 bps unless given); sets order.
order_service() {
  local res
  res=$(run_tx "$BIN" "$HOME_DIR" market create-order \
    --requirements '{"gpu_sku":"H100-SXM-80GB","gpu_count":8,"min_vram_gib":80,"metro":"AMS","evidence":["EVIDENCE_TYPE_NVIDIA_NRAS"],"min_provider_bond":{"denom":"uusdc","amount":"1000000"}}' \
    --max-price-per-block 20000uusdc --deposit 3000000uusdc --bidding-window-blocks 5 --policy auto --replicas 1 \
    --workload "{\"wasm_hash\":\"$wasm_hash\"}" --sla "{\"p95_latency_ms\":50,\"availability_bps\":${2:-9000},\"window_blocks\":$1,\"penalty_bps\":500}" --from alice)
  order=$(event_attr "$res" order_id)
  created=$(json_field "$res" height)
}

# await_lease: waits for the order's lease to run on the sidecar; sets lease.
await_lease() {
  local i
  for ((i = 0; i < 40; i++)); do
    lease=$(q market leases --owner "$alice" --state active | sed -n 's/.*"id":"\([0-9]*\)","order_id":"'"$order"'".*/\1/p' | head -1) || true
    [ -n "$lease" ] && grep -q "lease running.*lease=$lease " "$PHOME/sidecar.log" && return 0
    sleep 0.5
  done
  die "no lease running for order $order"
}
