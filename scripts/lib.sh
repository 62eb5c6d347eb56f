# Shared helpers for the localnet, testnet, demo and smoke scripts (sourced, not run).

# set_toml FILE SECTION KEY VALUE: sets KEY inside [SECTION] (or the top level when SECTION is
# empty) of a CometBFT/SDK TOML file. VALUE is written as given (quote strings yourself).
set_toml() {
  local file=$1 section=$2 key=$3 value=$4
  if [ -z "$section" ]; then
    sed -i "0,/^${key} = .*/s||${key} = ${value}|" "$file"
  else
    sed -i "/^\[${section}\]/,/^\[/ s|^${key} = .*|${key} = ${value}|" "$file"
  fi
}

# height BIN RPC: the node's latest block height, or 0 while it does not answer.
height() {
  local out
  out=$("$1" status --node "$2" 2>/dev/null) || { echo 0; return; }
  echo "$out" | sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p' | grep . || echo 0
}

# wait_height BIN RPC H TIMEOUT_S: waits until the node reaches height H.
wait_height() {
  local bin=$1 rpc=$2 want=$3 timeout=${4:-60} i
  for ((i = 0; i < timeout * 2; i++)); do
    if [ "$(height "$bin" "$rpc")" -ge "$want" ]; then return 0; fi
    sleep 0.5
  done
  echo "node at $rpc did not reach height $want within ${timeout}s" >&2
  return 1
}

# stop_pid FILE: stops the process whose pid is in FILE, gracefully first.
stop_pid() {
  local file=$1 pid i
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# short_gov GENESIS: governance periods short enough to try proposals on a dev chain.
short_gov() {
  sed -i 's/"max_deposit_period": "[0-9]*s"/"max_deposit_period": "60s"/;
          s/"voting_period": "[0-9]*s"/"voting_period": "30s"/;
          s/"expedited_voting_period": "[0-9]*s"/"expedited_voting_period": "15s"/' "$1"
}

# json_field JSON KEY: the first string or number value of KEY in compact JSON (no jq needed).
json_field() {
  echo "$1" | tr -d ' \n' | sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p" | head -1
}

# run_tx BIN HOME ARGS...: broadcasts a transaction, waits for its block, fails unless code 0, and
# prints the committed result as compact JSON.
run_tx() {
  local bin=$1 home=$2 out hash res i
  shift 2
  out=$("$bin" tx "$@" --home "$home" --fees 5000ucmpt --gas 400000 --yes -o json 2>&1 | tr -d ' \n') || true
  hash=$(json_field "$out" txhash)
  if [ -z "$hash" ] || [ "$(json_field "$out" code)" != "0" ]; then
    echo "tx $* refused: $out" >&2
    return 1
  fi
  for ((i = 0; i < 40; i++)); do
    if res=$("$bin" query tx "$hash" --home "$home" -o json 2>/dev/null | tr -d ' \n') && [ -n "$res" ]; then
      if [ "$(json_field "$res" code)" != "0" ]; then
        echo "tx $* failed: $(json_field "$res" raw_log)" >&2
        return 1
      fi
      echo "$res"
      return 0
    fi
    sleep 0.5
  done
  echo "tx $hash not committed in 20 s" >&2
  return 1
}
