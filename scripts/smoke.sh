#!/usr/bin/env bash
# CLI smoke test of the built binary, run by `make test`: bad input fails with one clear line and
# leaves nothing half-written; the demo chain runs and exports; a 4-validator testnet makes blocks.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
BIN=${1:-$ROOT/build/computed}
TMP=$(mktemp -d)
pass=0 fail=0
cleanup() {
  LOCALNET_HOME=$TMP/demo "$ROOT/scripts/localnet.sh" stop "$BIN" >/dev/null 2>&1
  LOCALNET_HOME=$TMP/crash "$ROOT/scripts/localnet.sh" stop "$BIN" >/dev/null 2>&1
  TESTNET_HOME=$TMP/testnet "$ROOT/scripts/testnet.sh" stop "$BIN" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "PASS $*"; pass=$((pass + 1)); }
ko() { echo "FAIL $*"; fail=$((fail + 1)); }

# expect_one_line_error NAME CMD...: the command must exit non-zero and print exactly one line.
expect_one_line_error() {
  local name=$1 out rc lines
  shift
  out=$("$@" 2>&1)
  rc=$?
  lines=$(printf '%s\n' "$out" | grep -c .)
  if [ $rc -ne 0 ] && [ "$lines" -eq 1 ]; then ok "$name: $out"; else ko "$name (rc=$rc, $lines lines): $out"; fi
}

# --- bad input -----------------------------------------------------------------------------
H=$TMP/home
"$BIN" init smoke --chain-id smoke-1 --home "$H" >/dev/null 2>&1 || ko "init"
"$BIN" keys add alice --keyring-backend test --home "$H" >/dev/null 2>&1 || ko "keys add"
alice=$("$BIN" keys show alice -a --keyring-backend test --home "$H")
sum=$(md5sum "$H/config/genesis.json")

expect_one_line_error "start with a missing home" "$BIN" start --home "$TMP/missing"
[ ! -e "$TMP/missing" ] && ok "missing home not created" || ko "missing home was created"
expect_one_line_error "query with a missing home" "$BIN" query market params --home "$TMP/missing2"
[ ! -e "$TMP/missing2" ] && ok "query left no home behind" || ko "query created a home"
expect_one_line_error "init with an unknown flag" "$BIN" init x --home "$TMP/new" --no-such-flag
[ ! -e "$TMP/new" ] && ok "failed init left no home" || ko "failed init left a home"
expect_one_line_error "init over an existing home" "$BIN" init smoke --home "$H"
[ -f "$H/config/genesis.json" ] && ok "existing home kept after refused init" || ko "existing home damaged"
expect_one_line_error "genesis account with a bad address" "$BIN" genesis add-genesis-account notanaddress 1ucmpt --home "$H"
expect_one_line_error "genesis account with a bad amount" "$BIN" genesis add-genesis-account "$alice" notacoin --home "$H"
[ "$(md5sum "$H/config/genesis.json")" = "$sum" ] && ok "genesis unchanged by refused commands" || ko "genesis changed"
expect_one_line_error "balance query with a bad address" "$BIN" query bank balances notanaddress --home "$H"
expect_one_line_error "send to a bad address" "$BIN" tx bank send alice cmpt1bad 1ucmpt --home "$H" --keyring-backend test --yes
expect_one_line_error "unknown command" "$BIN" frobnicate
expect_one_line_error "provider gpus with an unknown backend" "$BIN" provider gpus --backend x
expect_one_line_error "provider start without a config" "$BIN" provider start --home "$TMP/nosidecar"
out=$("$BIN" provider status --home "$TMP/nosidecar" 2>&1)
[[ $out == *"computed provider init --home $TMP/nosidecar"* ]] &&
  ok "provider status without a config says how to write one" || ko "provider status without a config: $out"
[ ! -e "$TMP/nosidecar" ] && ok "provider commands left no home behind" || ko "provider commands wrote into $TMP/nosidecar"
out=$("$BIN" provider gpus --backend mock 2>&1)
[ "$(echo "$out" | grep -c ' H100-SXM-80GB ')" = 8 ] && echo "$out" | grep -q '^8 GPU(s) from the mock backend' &&
  ok "provider gpus lists the mock node's 8 H100-SXM-80GB" || ko "provider gpus --backend mock: $out"

# --- standard init flow, blocks, module queries, export ---------------------------------------
if DEMO_HOME=$TMP/demo DEMO_PORT_OFFSET=3000 "$ROOT/scripts/demo.sh" "$BIN" >"$TMP/demo.log" 2>&1; then
  ok "demo: $(tail -1 "$TMP/demo.log")"
else
  ko "demo"; tail -20 "$TMP/demo.log"
fi
if "$BIN" export --home "$TMP/demo" >"$TMP/export.json" 2>"$TMP/export.err"; then
  missing=""
  for m in market escrow attest sla ibc transfer; do grep -q "\"$m\":" "$TMP/export.json" || missing+=" $m"; done
  [ -z "$missing" ] && ok "export holds every module" || ko "export lacks:$missing"
else
  ko "export: $(tail -1 "$TMP/export.err")"
fi

# --- the sidecar survives SIGKILL: receipts without gap or duplicate, every window reported ----
# A report deadline of 10 blocks: the node restart in the crash test takes about 5 blocks' time,
# a restarted node admits no transaction until it has committed its first block, and a sidecar
# back after a whole window down must still report the window before it on a busy host.
export LOCALNET_HOME=$TMP/crash LOCALNET_PORT_OFFSET=3200 LOCALNET_CHAIN_ID=computed-crash DEV_REPORT_GRACE_BLOCKS=10
if "$ROOT/scripts/localnet.sh" start "$BIN" >"$TMP/crash.log" 2>&1 &&
  "$ROOT/scripts/provider-crash.sh" "$BIN" >>"$TMP/crash.log" 2>&1; then
  ok "sidecar crash test: $(grep 'batches anchor' "$TMP/crash.log" | tail -1); $(grep 'windows judged' "$TMP/crash.log" | cut -d: -f1); $(grep -o '^rounds 1-3: .*\|^no systemd-socket-activate.*' "$TMP/crash.log" | head -1)"
else
  ko "sidecar crash test"; tail -30 "$TMP/crash.log"
fi
if "$ROOT/scripts/replication-flow.sh" "$BIN" >"$TMP/replication.log" 2>&1; then
  ok "replicated job with two sidecars: $(grep 'agreed digest' "$TMP/replication.log" | cut -d' ' -f1-3); $(tail -1 "$TMP/replication.log")"
else
  ko "replicated job with two sidecars"; tail -30 "$TMP/replication.log"
fi
"$ROOT/scripts/localnet.sh" stop "$BIN" >/dev/null 2>&1 || true
unset LOCALNET_HOME LOCALNET_PORT_OFFSET LOCALNET_CHAIN_ID

# --- four validators ----------------------------------------------------------------------------
if TESTNET_HOME=$TMP/testnet "$ROOT/scripts/testnet.sh" start "$BIN" >"$TMP/testnet.log" 2>&1; then
  bonded=$("$BIN" query staking validators --home "$TMP/testnet/node3" -o json | tr -d ' \n' | grep -o 'BOND_STATUS_BONDED' | wc -l)
  [ "$bonded" -eq 4 ] && ok "4-validator testnet makes blocks with 4 bonded validators" || ko "testnet has $bonded bonded validators"
else
  ko "testnet"; tail -20 "$TMP/testnet.log"
fi

echo
echo "smoke: $pass passed, $fail failed"
[ $fail -eq 0 ]
