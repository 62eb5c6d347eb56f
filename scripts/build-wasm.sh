#!/usr/bin/env bash
# build-wasm.sh OUT: builds the echo WASM workload (provider/exec/wasm/testdata/echo) for
# wasip1 with the local Go toolchain; the demo and tests run it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$ROOT/provider/exec/wasm/testdata/echo/main.go" "$tmp/"
printf 'module echo\n\ngo 1.23\n' >"$tmp/go.mod"
(cd "$tmp" && GOOS=wasip1 GOARCH=wasm GOFLAGS= go build -trimpath -o "$out.tmp" .)
mv "$out.tmp" "$out"
echo "$out"
