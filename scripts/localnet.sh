#!/usr/bin/env bash
# Single-validator development chain: 1 s blocks, state under .localnet/ (git-ignored), every port
# on 127.0.0.1. Dev genesis funds validator, alice, bob and provider with ucmpt and uusdc.
#   scripts/localnet.sh start|stop|status [BINARY]
# Environment: LOCALNET_HOME (default .localnet), LOCALNET_CHAIN_ID (computed-local),
# LOCALNET_PORT_OFFSET (0: RPC 26657, P2P 26656, gRPC 9090, REST 1317).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"

action=${1:-}
BIN=${2:-$ROOT/build/computed}
HOME_DIR=${LOCALNET_HOME:-$ROOT/.localnet}
CHAIN_ID=${LOCALNET_CHAIN_ID:-computed-local}
OFF=${LOCALNET_PORT_OFFSET:-0}
RPC_PORT=$((26657 + OFF)) P2P_PORT=$((26656 + OFF)) ABCI_PORT=$((26658 + OFF))
GRPC_PORT=$((9090 + OFF)) API_PORT=$((1317 + OFF))
RPC=tcp://127.0.0.1:$RPC_PORT
KEYS=(validator alice bob provider carol dave)

init_chain() {
  rm -rf "$HOME_DIR"
  local kr=(--keyring-backend test --home "$HOME_DIR")
  "$BIN" init localnet --chain-id "$CHAIN_ID" --home "$HOME_DIR" >/dev/null 2>&1
  for k in "${KEYS[@]}"; do
    # Dev keys only: the mnemonic is kept next to the chain so a developer can import it elsewhere.
    "$BIN" keys add "$k" "${kr[@]}" --output json >"$HOME_DIR/$k.key.json" 2>&1
    "$BIN" genesis add-genesis-account "$("$BIN" keys show "$k" -a "${kr[@]}")" \
      1000000000000ucmpt,1000000000000uusdc --home "$HOME_DIR"
  done
  "$BIN" genesis gentx validator 100000000000ucmpt --chain-id "$CHAIN_ID" "${kr[@]}" >/dev/null 2>&1
  "$BIN" genesis collect-gentxs --home "$HOME_DIR" >/dev/null 2>&1
  short_gov "$HOME_DIR/config/genesis.json"
  dev_sla "$HOME_DIR/config/genesis.json"
  "$BIN" genesis validate --home "$HOME_DIR" >/dev/null

  local cfg=$HOME_DIR/config/config.toml app=$HOME_DIR/config/app.toml client=$HOME_DIR/config/client.toml
  set_toml "$cfg" "" proxy_app "\"tcp://127.0.0.1:$ABCI_PORT\""
  set_toml "$cfg" rpc laddr "\"$RPC\""
  set_toml "$cfg" rpc pprof_laddr '""'
  set_toml "$cfg" p2p laddr "\"tcp://127.0.0.1:$P2P_PORT\""
  set_toml "$cfg" consensus timeout_commit '"1s"'
  set_toml "$app" api enable true
  set_toml "$app" api address "\"tcp://127.0.0.1:$API_PORT\""
  set_toml "$app" grpc address "\"127.0.0.1:$GRPC_PORT\""
  set_toml "$client" "" chain-id "\"$CHAIN_ID\""
  set_toml "$client" "" keyring-backend '"test"'
  set_toml "$client" "" node "\"$RPC\""
  touch "$HOME_DIR/.initialised" # start trusts only a home that finished initialising
}

case "$action" in
start)
  [ -x "$BIN" ] || { echo "binary $BIN not found: run make build" >&2; exit 1; }
  if [ -f "$HOME_DIR/node.pid" ] && kill -0 "$(cat "$HOME_DIR/node.pid")" 2>/dev/null; then
    echo "localnet already running (pid $(cat "$HOME_DIR/node.pid")), RPC $RPC"
    exit 0
  fi
  [ -f "$HOME_DIR/.initialised" ] || init_chain
  nohup "$BIN" start --home "$HOME_DIR" >"$HOME_DIR/node.log" 2>&1 &
  echo $! >"$HOME_DIR/node.pid"
  if ! wait_height "$BIN" "$RPC" 2 60 "$(cat "$HOME_DIR/node.pid")" "$CHAIN_ID"; then
    tail -20 "$HOME_DIR/node.log" >&2
    stop_pid "$HOME_DIR/node.pid"
    exit 1
  fi
  echo "localnet $CHAIN_ID running: RPC $RPC, gRPC 127.0.0.1:$GRPC_PORT, REST http://127.0.0.1:$API_PORT, home $HOME_DIR"
  ;;
stop)
  stop_pid "$HOME_DIR/node.pid"
  echo "localnet stopped"
  ;;
status)
  echo "height $(height "$BIN" "$RPC")"
  ;;
*)
  echo "usage: $0 start|stop|status [BINARY]" >&2
  exit 2
  ;;
esac
