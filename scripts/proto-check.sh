#!/usr/bin/env bash
# Fails when committed generated code differs from what proto/ generates now: regenerates in a
# scratch copy (so an uncommitted working tree is never touched) and compares file by file.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r proto third_party scripts buf.work.yaml go.mod go.sum "$tmp"/
(cd "$tmp" && ./scripts/protocgen.sh >/dev/null)

gen() { (cd "$1" && find . \( -name '*.pb.go' -o -name '*.pb.gw.go' -o -name '*.pulsar.go' \) \
  -not -path './third_party/*' | sort); }
status=0
if ! diff <(gen "$tmp") <(gen .) >/dev/null; then
  echo "proto-check: generated file set differs (left: fresh, right: committed):"
  diff <(gen "$tmp") <(gen .) || true
  status=1
fi
while read -r f; do
  if [ -f "$f" ] && ! cmp -s "$tmp/$f" "$f"; then
    echo "proto-check: stale generated file $f (run make proto-gen)"
    status=1
  fi
done < <(gen "$tmp")
[ $status -eq 0 ] && echo "proto-check: generated code is up to date"
exit $status
