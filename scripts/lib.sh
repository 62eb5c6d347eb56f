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

# wait_height BIN RPC H TIMEOUT_S [PID CHAIN_ID]: waits until the node reaches height H. With
# PID and CHAIN_ID, it fails at once when that process has died (a port already taken, say) or
# when the node answering at RPC is another chain's: a node left running on the same ports must
# not pass for the one just started.
wait_height() {
  local bin=$1 rpc=$2 want=$3 timeout=${4:-60} pid=${5:-} chain=${6:-} i out
  for ((i = 0; i < timeout * 2; i++)); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "node process $pid exited before reaching height $want" >&2
      return 1
    fi
    if [ -n "$chain" ] && out=$("$bin" status --node "$rpc" 2>/dev/null) &&
      ! echo "$out" | grep -q "\"network\":\"$chain\""; then
      echo "the node at $rpc is not chain $chain: is another node running on these ports?" >&2
      return 1
    fi
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

# dev_sla GENESIS: x/sla deadlines short enough to watch on a 1 s-block dev chain
# (DEV_REPORT_GRACE_BLOCKS, default 4: a report sent as its window ends lands within it on a
# loaded host; more for a test that restarts the node between a window's end and its report).
dev_sla() {
  sed -i 's/"report_grace_blocks": "[0-9]*"/"report_grace_blocks": "'"${DEV_REPORT_GRACE_BLOCKS:-4}"'"/;
          s/"unbonding_blocks": "[0-9]*"/"unbonding_blocks": "80"/;
          s/"dispute_window_blocks": "[0-9]*"/"dispute_window_blocks": "30"/;
          s/"dispute_response_blocks": "[0-9]*"/"dispute_response_blocks": "10"/;
          s/"dispute_vote_blocks": "[0-9]*"/"dispute_vote_blocks": "10"/;
          s/"commit_blocks": "[0-9]*"/"commit_blocks": "5"/;
          s/"reveal_blocks": "[0-9]*"/"reveal_blocks": "5"/' "$1"
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

# event_attr TXJSON KEY: the value of the first event attribute named KEY in a compact tx result.
event_attr() {
  echo "$1" | grep -o "\"key\":\"$2\",\"value\":\"[^,]*" | head -1 | sed 's/.*"value":"//; s/\\"//g; s/"$//'
}

# attest_provider BIN HOME KEY METRO: registers KEY as a provider in METRO and attests 8 H100s
# with a token from the development NRAS issuer (build/devattest), as the sidecar will.
attest_provider() {
  local bin=$1 home=$2 key=$3 metro=$4 res id nonce ev devattest
  devattest="$(dirname "$bin")/devattest"
  run_tx "$bin" "$home" attest register-provider "$metro" "https://$key.gpu.example" --from "$key" >/dev/null
  res=$(run_tx "$bin" "$home" attest request-challenge --from "$key")
  id=$(event_attr "$res" challenge_id)
  nonce=$(event_attr "$res" nonce)
  ev=$(mktemp)
  "$devattest" nras --nonce "$nonce" --gpus 8 >"$ev"
  local gpus=()
  while read -r g; do gpus+=(--gpus "$g"); done < <("$devattest" gpus --gpus 8)
  run_tx "$bin" "$home" attest submit-attestation "$id" nvidia-nras "$ev" "${gpus[@]}" --from "$key" >/dev/null
  rm -f "$ev"
}
