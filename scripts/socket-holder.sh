#!/usr/bin/env bash
# socket-holder.sh FIFO: what systemd does for a socket-activated service, for the crash test.
# Started by `systemd-socket-activate --now -l ADDR`, with the listening socket on fd 3, it keeps
# the socket open for as long as it runs; for each line "PIDFILE COMMAND ARGS..." read from FIFO
# it starts the command with the socket passed as systemd passes it (fd 3, LISTEN_FDS=1,
# LISTEN_PID) and writes its pid to PIDFILE. Connections made while no command runs wait in
# the socket's queue for the next one. Words are split on spaces: no argument may hold one.
set -u
exec 4<>"$1" # read-write: the FIFO never reads as closed between writers
while read -r -a words <&4; do
  [ "${#words[@]}" -ge 2 ] || continue
  LISTEN_FDS=1 sh -c 'LISTEN_PID=$$ exec "$@"' sh "${words[@]:1}" &
  pid=$!
  disown "$pid" # reaped all the same, but its death by a signal is not reported in the log
  echo "$pid" >"${words[0]}.tmp" && mv "${words[0]}.tmp" "${words[0]}"
done
