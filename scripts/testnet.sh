#!/usr/bin/env bash
# Four-validator network on 127.0.0.1, state under .testnet/ (git-ignored). Node i listens on
# P2P 16656+10i, RPC 16657+10i, ABCI 16658+10i, gRPC 19090+i, REST 11317+i: all below Linux's
# ephemeral range (32768-60999), where any outgoing connection on the machine may already hold
# the port and the node's bind fails.
#   scripts/testnet.sh init|start|stop|status [BINARY]
# Environment: TESTNET_HOME (default .testnet), TESTNET_NODES (4), TESTNET_CHAIN_ID (computed-testnet).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"

action=${1:-}
BIN=${2:-$ROOT/build/computed}
DIR=${TESTNET_HOME:-$ROOT/.testnet}
N=${TESTNET_NODES:-4}
CHAIN_ID=${TESTNET_CHAIN_ID:-computed-testnet}

home() { echo "$DIR/node$1"; }
p2p_port() { echo $((16656 + 10 * $1)); }
rpc() { echo "tcp://127.0.0.1:$((16657 + 10 * $1))"; }

init_files() {
  rm -rf "$DIR"
  mkdir -p "$DIR"
  local i h kr
  for ((i = 0; i < N; i++)); do
    h=$(home $i)
    "$BIN" init "node$i" --chain-id "$CHAIN_ID" --home "$h" >/dev/null 2>&1
    "$BIN" keys add "node$i" --keyring-backend test --home "$h" --output json >"$h/node$i.key.json" 2>&1
  done
  # One genesis with every validator's account, then each validator signs its gentx against it.
  local g0=$(home 0)/config/genesis.json
  for ((i = 0; i < N; i++)); do
    h=$(home $i)
    "$BIN" genesis add-genesis-account "$("$BIN" keys show "node$i" -a --keyring-backend test --home "$h")" \
      1000000000000ucmpt,1000000000000uusdc --home "$(home 0)"
  done
  short_gov "$g0"
  for ((i = 0; i < N; i++)); do
    h=$(home $i)
    [ $i -eq 0 ] || cp "$g0" "$h/config/genesis.json"
    "$BIN" genesis gentx "node$i" 100000000000ucmpt --chain-id "$CHAIN_ID" --keyring-backend test --home "$h" \
      --ip 127.0.0.1 --p2p-port "$(p2p_port $i)" >/dev/null 2>&1
    [ $i -eq 0 ] || cp "$h"/config/gentx/*.json "$(home 0)/config/gentx/"
  done
  "$BIN" genesis collect-gentxs --home "$(home 0)" >/dev/null 2>&1
  "$BIN" genesis validate --home "$(home 0)" >/dev/null

  local peers=""
  for ((i = 0; i < N; i++)); do
    peers+="${peers:+,}$("$BIN" comet show-node-id --home "$(home $i)")@127.0.0.1:$(p2p_port $i)"
  done
  for ((i = 0; i < N; i++)); do
    h=$(home $i)
    [ $i -eq 0 ] || cp "$g0" "$h/config/genesis.json"
    local cfg=$h/config/config.toml app=$h/config/app.toml client=$h/config/client.toml
    set_toml "$cfg" "" proxy_app "\"tcp://127.0.0.1:$((16658 + 10 * i))\""
    set_toml "$cfg" rpc laddr "\"$(rpc $i)\""
    set_toml "$cfg" rpc pprof_laddr '""'
    set_toml "$cfg" p2p laddr "\"tcp://127.0.0.1:$(p2p_port $i)\""
    set_toml "$cfg" p2p persistent_peers "\"$peers\""
    set_toml "$cfg" p2p addr_book_strict false
    set_toml "$cfg" p2p allow_duplicate_ip true
    set_toml "$cfg" consensus timeout_commit '"1s"'
    set_toml "$app" api enable true
    set_toml "$app" api address "\"tcp://127.0.0.1:$((11317 + i))\""
    set_toml "$app" grpc address "\"127.0.0.1:$((19090 + i))\""
    set_toml "$client" "" chain-id "\"$CHAIN_ID\""
    set_toml "$client" "" keyring-backend '"test"'
    set_toml "$client" "" node "\"$(rpc $i)\""
  done
  touch "$DIR/.initialised" # start trusts only a layout that finished
  echo "testnet $CHAIN_ID: $N validators laid out under $DIR"
}

case "$action" in
init)
  init_files
  ;;
start)
  [ -f "$DIR/.initialised" ] || init_files
  for ((i = 0; i < N; i++)); do
    h=$(home $i)
    if [ -f "$h/node.pid" ] && kill -0 "$(cat "$h/node.pid")" 2>/dev/null; then continue; fi
    nohup "$BIN" start --home "$h" >"$h/node.log" 2>&1 &
    echo $! >"$h/node.pid"
  done
  for ((i = 0; i < N; i++)); do
    wait_height "$BIN" "$(rpc $i)" 3 120 "$(cat "$(home $i)/node.pid")" "$CHAIN_ID" || { tail -20 "$(home $i)/node.log" >&2; exit 1; }
  done
  echo "testnet running: RPC $(rpc 0) .. $(rpc $((N - 1)))"
  ;;
stop)
  for ((i = 0; i < N; i++)); do stop_pid "$(home $i)/node.pid"; done
  echo "testnet stopped"
  ;;
status)
  for ((i = 0; i < N; i++)); do echo "node$i height $(height "$BIN" "$(rpc $i)")"; done
  ;;
*)
  echo "usage: $0 init|start|stop|status [BINARY]" >&2
  exit 2
  ;;
esac
