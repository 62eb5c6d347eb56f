#!/usr/bin/env bash
# Crash test of the sidecar on a running localnet: while requests flow through a lease's ingress,
# the sidecar is killed with SIGKILL three times (once just as an SLA window ends) and restarted,
# the node is stopped and restarted under it, the sidecar is kept down for a whole window, it
# is started while the node is down (and must serve the lease meanwhile), and it is stopped
# (SIGSTOP) through a whole window and let go on; last, it is killed just after answering
# requests and the lease closes while it is down. Where systemd-socket-activate is installed, a
# holder keeps the sidecar's socket open across restarts, as systemd does, and the three kills
# must then cost no request. Afterwards the anchored receipt
# batches must run 1..N without gap or overlap, every receipt the sidecar holds must be anchored
# exactly once and verify on chain, and every SLA window of the lease must have been reported
# (none judged MISSING), with the requests it served (none empty while traffic flowed), and
# the windows' request counts must add up to the requests the ingress answered: none of those
# answered between the last block and a kill is lost, none is counted twice. The closed lease's
# journaled requests must reach a last receipt, anchored after the close.
#   scripts/provider-crash.sh BIN
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
BIN=${1:-$ROOT/build/computed}
HOME_DIR=${LOCALNET_HOME:-$ROOT/.localnet}
OFF=${LOCALNET_PORT_OFFSET:-0}
source "$ROOT/scripts/sidecar-lib.sh"
traffic_pid=
# A failed run closes its order, so the flows run after it on this chain find carol's GPUs free.
cleanup() {
  [ -n "$traffic_pid" ] && kill "$traffic_pid" 2>/dev/null
  stop_sidecar
  [ -n "${holder_pid:-}" ] && kill "$holder_pid" 2>/dev/null
  if [ -n "${order:-}" ] && [ -z "${closed_at:-}" ]; then
    run_tx "$BIN" "$HOME_DIR" market close-order "$order" --from alice >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

step "sidecar up with a lease (5-block SLA windows)"
sidecar_wasm
sidecar_grant
sidecar_init
# As under systemd with a socket unit: the socket outlives each sidecar process, so requests
# made while it restarts wait for it instead of being refused.
if sidecar_hold_socket; then
  echo "a holder keeps the sidecar's socket open across its restarts (systemd socket activation)"
else
  echo "no systemd-socket-activate here: connections are refused while the sidecar is down"
fi
sidecar_start
# Each restart leaves the sidecar down for about 2 s of a 5 s window, and that counts against
# availability; a 1% target breaches only a window with no probe answered (round 5's), so the
# restarts do not breach the lease to termination (three breaches).
order_service 5 100
await_lease
echo "lease $lease running"

# Every answer is logged: "000 E" is none, with curl's exit code E (7 no connection, 28 no answer
# within 2 s, 52/56 the connection cut, as a kill cuts the request in flight), 503 the sidecar
# resuming the lease after a restart.
codes="$PHOME/traffic.codes"
: >"$codes"
(while true; do
  e=0
  c=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -d ping "http://$LISTEN/leases/$lease/") || e=$?
  if [ "$c" = 000 ]; then echo "000 $e"; else echo "$c"; fi >>"$codes"
  sleep 0.05
done) &
traffic_pid=$!
kills=0

start=$(q market lease "$lease" | sed -n 's/.*"start_height":"\([0-9]*\)".*/\1/p')
# next_window_end: the first height after the current one at which one of the lease's windows ends.
next_window_end() { local h; h=$(height); echo $((start + 5 * ((h - start) / 5 + 1))); }

for round in 1 2 3; do
  sleep 4
  [ "$round" = 1 ] && kills_from=$(wc -l <"$codes")
  if [ "$round" = 1 ]; then
    # Just as a window ends, so its report is still to be made or in flight.
    end=$(next_window_end)
    while [ "$(height)" -lt "$end" ]; do sleep 0.1; done
  fi
  pid=$(cat "$PHOME/sidecar.pid")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  gone "$pid" || die "sidecar $pid outlived SIGKILL"
  kills=$((kills + 1))
  echo "round $round: sidecar $pid killed with SIGKILL at height $(height)"
  sidecar_start
  echo "round $round: restarted"
done
kills_to=$(wc -l <"$codes")
# The node goes away under a running sidecar just as an SLA window ends, so that window's report
# is in flight: the sidecar must wait for the node, not exit, and send the report again.
sleep 2
pid=$(cat "$PHOME/sidecar.pid")
window_end=$(next_window_end)
while [ "$(height)" -lt "$window_end" ]; do sleep 0.1; done
"$ROOT/scripts/localnet.sh" stop "$BIN" >/dev/null
echo "round 4: node stopped at height $window_end, the end of a window, under sidecar $pid"
sleep 5
kill -0 "$pid" 2>/dev/null || die "the sidecar exited while the node was down"
status=$("$BIN" provider status --config "$PHOME/provider.toml")
grep -q '^chain      unreachable' <<<"$status" || die "provider status does not say the node is down: $status"
echo "round 4: provider status says: $(grep '^chain' <<<"$status" | cut -c1-60)…"
"$ROOT/scripts/localnet.sh" start "$BIN" >/dev/null
echo "round 4: node back at height $(height); sidecar $pid still running"
sleep 6
kill -0 "$pid" 2>/dev/null || die "the sidecar exited after the node came back"
echo "round 4: the sidecar sent again $(grep -c 'sending it again' "$PHOME/sidecar.log" || true) transaction(s) the node's stop cut off"
# The sidecar stays down across a whole window. Reported after the restart, that window must
# read as unavailable (every probe due in it failed), not as a window without probes, which
# reads as fully available.
opens=$(next_window_end) # the height at which the window after the current one opens
while [ "$(height)" -lt "$opens" ]; do sleep 0.1; done
sleep 2.5 # a probe or two answered and kept in this window before the kill
pid=$(cat "$PHOME/sidecar.pid")
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
gone "$pid" || die "sidecar $pid outlived SIGKILL"
kills=$((kills + 1))
down_window=$(((opens - start) / 5 + 2)) # opens at opens+5, ends at opens+10: all of it down
echo "round 5: sidecar $pid killed at height $(height); it stays down through window $down_window"
# Back as the down window ends: the report of the window it was killed in is due
# report_grace_blocks (10 here) after that window ended, at opens + 15, 5 blocks from now.
while [ "$(height)" -lt $((opens + 10)) ]; do sleep 0.1; done
sidecar_start
echo "round 5: restarted at height $(height)"
# The sidecar starts while the node is down: it waits for the node instead of exiting.
sleep 2
pid=$(cat "$PHOME/sidecar.pid")
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
gone "$pid" || die "sidecar $pid outlived SIGKILL"
kills=$((kills + 1))
"$ROOT/scripts/localnet.sh" stop "$BIN" >/dev/null
sidecar_launch
sleep 4
kill -0 "$(cat "$PHOME/sidecar.pid")" 2>/dev/null || die "the sidecar exited when it found no node at start"
tail -5 "$PHOME/sidecar.log" | grep -q 'node unreachable, retrying.*what=node_status' ||
  die "the sidecar does not say it waits for the node"
echo "round 6: sidecar started with the node down; it waits: $(grep 'what=node_status' "$PHOME/sidecar.log" | tail -1 | grep -o 'msg="[^"]*"')"
# Meanwhile it serves the lease from the order and lease its store kept: the workload and the
# ingress need nothing from the node.
down_code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -d ping "http://$LISTEN/leases/$lease/" || true)
[ "$down_code" = 200 ] || die "the sidecar started with the node down does not serve lease $lease: $down_code"
grep -q 'lease running.*lease='"$lease"'.*node_answered=false' "$PHOME/sidecar.log" ||
  die "the sidecar does not say it resumed lease $lease before the node answered"
echo "round 6: it serves lease $lease meanwhile (200), from the order and lease it kept"
"$ROOT/scripts/localnet.sh" start "$BIN" >/dev/null
sidecar_await
echo "round 6: node back; the sidecar came up at height $(height)"
# The sidecar stands still (SIGSTOP: a paused VM or container) through a whole window, then
# goes on. No restart tells it it was gone: it must find the gap in its probes and report that
# window unavailable, as round 5's. Requests sent meanwhile wait in the socket's backlog and are
# served, to clients that gave up (000), when it goes on.
opens=$(next_window_end)
while [ "$(height)" -lt "$opens" ]; do sleep 0.1; done
sleep 2.5
pid=$(cat "$PHOME/sidecar.pid")
stopped_at=$(wc -l <"$codes")
kill -STOP "$pid"
stall_window=$(((opens - start) / 5 + 2))
echo "round 7: sidecar $pid stopped (SIGSTOP) at height $(height); it stands still through window $stall_window"
while [ "$(height)" -lt $((opens + 10)) ]; do sleep 0.1; done
kill -CONT "$pid"
sleep 3
given_up=$(tail -n +"$((stopped_at + 1))" "$codes" | grep -c '^000' || true)
grep -q 'sidecar stalled: no probe ran' "$PHOME/sidecar.log" || die "the sidecar did not notice it stood still"
echo "round 7: sidecar $pid went on at height $(height): $(grep 'sidecar stalled' "$PHOME/sidecar.log" | tail -1 | grep -o 'msg="[^"]*".*for=[0-9.]*s')"
sleep 1
kill "$traffic_pid" 2>/dev/null || true
wait "$traffic_pid" 2>/dev/null || true
traffic_pid=
traffic_end=$(height)
answered=$(grep -cv '^000\|^503$' "$codes" || true)
# A restarted sidecar knows its leases before their workloads run again: it asks clients to retry
# (503), never says the lease is not there (404).
[ "$(grep -c '^404$' "$codes" || true)" -eq 0 ] || die "the sidecar answered 404 for its running lease $(grep -c '^404$' "$codes") times"
echo "traffic: $answered requests answered, $(grep -c '^503$' "$codes" || true) asked to retry while the lease resumed, $(grep -c '^000' "$codes" || true) unanswered"
if [ -n "${holder_fifo:-}" ]; then
  # With the socket held, no request made while the three kills' restarts ran is refused or
  # left waiting past its client's 2 s (the one in flight at the last restart is in the next
  # line); each kill may cut the one request it lands in. Any unanswered request may have been
  # served once its client had gone, so all count as given up.
  rounds=$(sed -n "$((kills_from + 1)),$((kills_to + 1))p" "$codes")
  lost=$(grep -c '^000 \(7\|28\)$' <<<"$rounds" || true)
  cut=$(grep -c '^000' <<<"$rounds" || true)
  cut=$((cut - lost))
  [ "$lost" -eq 0 ] || die "$lost requests were refused or unanswered within 2 s through rounds 1-3 although the socket was held"
  [ "$cut" -le 3 ] || die "$cut requests cut off through rounds 1-3: more than the one in flight at each of the 3 kills"
  echo "rounds 1-3: $(wc -l <<<"$rounds") requests through three kills and restarts, none refused or left waiting, $cut cut off in flight by a kill"
  given_up=$(grep -c '^000' "$codes" || true)
fi

step "receipts: anchored without gap or duplicate, every one verifies"
# check_anchored: the lease's anchored batches run 1..N without gap or overlap and the sidecar
# holds no receipt beyond N (waiting for the last ones, which reach a batch after max_age 2s and
# then the chain, behind the SLA reports); sets anchored=N; receipts 1, N/2 and N verify.
check_anchored() {
  local i firsts lasts expect seq h0
  # Requests served until now become a receipt at the next block: until then "no receipt after
  # the last anchored one" says nothing (traffic has just stopped, its last receipt is not cut).
  h0=$(height)
  while [ "$(height)" -lt $((h0 + 2)) ]; do sleep 0.2; done
  for ((i = 0; i < 60; i++)); do
    batches=$(q sla batches "$lease" --page-limit 1000)
    anchored=$( (echo "$batches" | grep -o '"last_sequence":"[0-9]*"' || true) | grep -o '[0-9]*' | sort -n | tail -1)
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$LISTEN/receipts/$lease/$((${anchored:-0} + 1))")" = 404 ] && break
    sleep 0.5
  done
  firsts=($(echo "$batches" | grep -o '"first_sequence":"[0-9]*"' | grep -o '[0-9]*'))
  lasts=($(echo "$batches" | grep -o '"last_sequence":"[0-9]*"' | grep -o '[0-9]*'))
  [ "${#firsts[@]}" -gt 0 ] || die "no batch anchored"
  expect=1
  for i in "${!firsts[@]}"; do
    [ "${firsts[$i]}" = "$expect" ] || die "batch $i starts at ${firsts[$i]}, expected $expect"
    expect=$((lasts[$i] + 1))
  done
  anchored=$((expect - 1))
  echo "${#firsts[@]} batches anchor receipts 1..$anchored contiguously"
  curl -s -o /dev/null -w '%{http_code}' "http://$LISTEN/receipts/$lease/$((anchored + 1))" | grep -q 404 ||
    die "receipt $((anchored + 1)) exists but is not anchored"
  for seq in 1 $(((anchored + 1) / 2)) "$anchored"; do
    "$BIN" provider receipt "$lease" "$seq" --sidecar "$LISTEN" --out "$PHOME/crash-proof" "${H[@]}" >/dev/null
    "$BIN" query sla verify-receipt "$lease" "$PHOME/crash-proof/receipt.json" "$PHOME/crash-proof/proof.json" "${H[@]}" >/dev/null ||
      die "receipt $seq does not verify"
  done
  echo "receipts 1, $(((anchored + 1) / 2)) and $anchored verify against the anchored roots"
}
check_anchored

step "SLA windows: every judged window was reported"
# Requests served while block h is the latest count in the window holding h+1; the window
# after that one is reported once every request is in a reported window.
last_window=$(((traffic_end + 1 - start + 4) / 5 + 1))
for ((i = 0; i < 60; i++)); do
  reports=$(q sla reports "$lease" --page-limit 1000)
  grep -q '"window":"'"$last_window"'"' <<<"$reports" && break
  sleep 0.5
done
grep -q '"window":"'"$last_window"'"' <<<"$reports" || die "window $last_window was not reported: $reports"
judged=$(echo "$reports" | grep -o '"status":"WINDOW_STATUS_[A-Z_]*"' | grep -vc REPORTED || true)
missing=$( (echo "$reports" | grep -o '"status":"WINDOW_STATUS_MISSING"' || true) | wc -l)
[ "$judged" -ge 3 ] || die "only $judged windows judged"
[ "$missing" -eq 0 ] || die "$missing windows judged MISSING: $reports"
# Traffic flowed through every window that ended before it stopped, kills and restarts
# included: a window reported after a restart carries the requests served before it.
empty=
for w in $(echo "$reports" | grep -o '"window":"[0-9]*","stats":{[^}]*}' | grep -v '"requests"' | grep -o '"window":"[0-9]*"' | grep -o '[0-9]*'); do
  [ "$w" != "$down_window" ] && [ "$w" != "$stall_window" ] && [ $((start + 5 * w)) -le "$traffic_end" ] && empty="$empty $w"
done
[ -z "$empty" ] || die "windows reported without requests although traffic flowed:$empty: $reports"
down=$(echo "$reports" | grep -o '"window":"'"$down_window"'","stats":{[^}]*}[^}]*"status":"[A-Z_]*"') ||
  die "window $down_window, when the sidecar was down, has no report: $reports"
grep -q '"availability_bps":[1-9]' <<<"$down" && die "window $down_window reads available although the sidecar was down: $down"
grep -q BREACHED <<<"$down" || die "window $down_window, with the sidecar down, is not breached: $down"
echo "window $down_window, with the sidecar down throughout, was reported at 0 bps availability: $(grep -o 'WINDOW_STATUS_[A-Z]*' <<<"$down")"
stall=$(echo "$reports" | grep -o '"window":"'"$stall_window"'","stats":{[^}]*}[^}]*"status":"[A-Z_]*"') ||
  die "window $stall_window, when the sidecar stood still, has no report: $reports"
grep -q '"availability_bps":[1-9]' <<<"$stall" && die "window $stall_window reads available although the sidecar stood still: $stall"
grep -q 'BREACHED\|"status":"WINDOW_STATUS_REPORTED"' <<<"$stall" || die "window $stall_window, with the sidecar still, is not breached: $stall"
echo "window $stall_window, with the sidecar standing still throughout, was reported at 0 bps availability: $(grep -o 'WINDOW_STATUS_[A-Z]*' <<<"$stall")"
# Each answered request is in a window's count. A kill can land after a request was recorded
# and before its answer left, so the counts may exceed the answers by one request a kill, and
# by the requests served after round 7's stop to clients that had given up.
reported=$( (echo "$reports" | grep -o '"requests":"[0-9]*"' || true) | grep -o '[0-9]*' | awk '{s += $1} END {print s + 0}')
[ "$reported" -ge "$answered" ] ||
  die "the windows count $reported requests, the ingress answered $answered: $((answered - reported)) lost in the kills"
[ "$reported" -le $((answered + kills + given_up)) ] ||
  die "the windows count $reported requests, the ingress answered $answered: counted twice after $kills kills ($given_up given up in the stop)"
echo "the windows count $reported requests; the ingress answered $answered through $kills kills and a stop ($given_up requests given up meanwhile)"
echo "$judged windows judged, none missing: $(echo "$reports" | grep -o '"status":"WINDOW_STATUS_[A-Z_]*"' | sort | uniq -c | tr -s ' \n' ' ')"

step "round 8: the lease closes while the sidecar is down"
# Killed just after answering a request, so the journal holds requests no receipt has; the buyer
# closes the order meanwhile. Back within the chain's grace for a closed lease's batches, the
# sidecar must receipt those requests and anchor them. The kill can land just after a block
# whose receipt took them all (a few ms in a second): then the sidecar is started and killed again.
journal="$PHOME/data/journal/lease-$lease"
journaled=0
for ((try = 1; try <= 3 && journaled == 0; try++)); do
  sleep 1.5
  for i in 1 2 3; do curl -s -m 2 -o /dev/null -d ping "http://$LISTEN/leases/$lease/" || true; done
  pid=$(cat "$PHOME/sidecar.pid")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  gone "$pid" || die "sidecar $pid outlived SIGKILL"
  kills=$((kills + 1))
  # Request records: 32 bytes each, kind 1 first (probes are kind 2).
  # An empty journal (the kill landed just after a block took everything) matches no file: that
  # is the retry case, not a failure of the pipeline.
  journaled=$( (cat "$journal"/* 2>/dev/null || true) | od -An -v -tu1 -w32 | awk '$1 == 1' | wc -l)
  [ "$journaled" -gt 0 ] || sidecar_start
done
[ "$journaled" -gt 0 ] || die "three kills found no request journaled after a block"
receipted=$(grep -c 'receipting the requests of its last block' "$PHOME/sidecar.log" || true)
run_tx "$BIN" "$HOME_DIR" market close-order "$order" --from alice >/dev/null
closed_at=$(q market lease "$lease" | sed -n 's/.*"closed_height":"\([0-9]*\)".*/\1/p')
[ -n "$closed_at" ] || die "the lease did not close"
echo "round 8: sidecar $pid killed with $journaled requests journaled after the last block; lease closed at height $closed_at"
sidecar_start
echo "round 8: restarted at height $(height)"
for ((i = 0; i < 40; i++)); do
  [ "$(grep -c 'receipting the requests of its last block' "$PHOME/sidecar.log" || true)" -gt "$receipted" ] && break
  sleep 0.25
done
line=$(grep 'receipting the requests of its last block' "$PHOME/sidecar.log" | tail -1)
[ "$(grep -c 'receipting the requests of its last block' "$PHOME/sidecar.log" || true)" -gt "$receipted" ] ||
  die "the restarted sidecar did not receipt the closed lease's journaled requests"
echo "round 8: $(grep -o 'msg="[^"]*" lease=[0-9]* requests=[0-9]*' <<<"$line")"
check_anchored
grep -q 'stay unanchored' "$PHOME/sidecar.log" && die "the chain refused a batch of the closed lease: $(grep 'stay unanchored' "$PHOME/sidecar.log" | tail -1)"
# The journal goes once the close's last SLA reports have landed (or their deadlines passed).
for ((i = 0; i < 60; i++)); do [ -e "$journal" ] || break; sleep 0.25; done
[ -e "$journal" ] && die "the closed lease's journal is still there"
echo "round 8: the closed lease's last receipt is anchored; its journal is gone"
echo "crash test passed"
