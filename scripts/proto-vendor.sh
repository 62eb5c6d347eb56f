#!/usr/bin/env bash
# Copies the third-party .proto files our protos import from the Go module cache into
# third_party/proto, at the exact versions go.mod pins, so generation never touches the network
# (buf.build is unreachable here). Re-run after bumping a pinned module.
set -euo pipefail
cd "$(dirname "$0")/.."

modver() { go list -m -f '{{.Dir}}' "$1"; }
go mod download github.com/cosmos/cosmos-sdk github.com/cosmos/cosmos-proto github.com/cosmos/gogoproto \
  github.com/grpc-ecosystem/grpc-gateway

sdk=$(modver github.com/cosmos/cosmos-sdk)
cproto=$(modver github.com/cosmos/cosmos-proto)
gogo=$(modver github.com/cosmos/gogoproto)
gw=$(modver github.com/grpc-ecosystem/grpc-gateway)

out=third_party/proto
rm -rf "$out"
mkdir -p "$out"
copy() { # copy SRC_ROOT REL...
  local root=$1; shift
  for rel in "$@"; do
    mkdir -p "$out/$(dirname "$rel")"
    cp -R "$root/$rel" "$out/$rel"
  done
}
copy "$sdk/proto" amino cosmos/msg cosmos/base cosmos/app/v1alpha1 cosmos/query
copy "$cproto/proto" cosmos_proto
copy "$gogo" gogoproto/gogo.proto
copy "$gw/third_party/googleapis" google/api/annotations.proto google/api/http.proto
chmod -R u+w "$out"
cat > "$out/buf.yaml" <<'YAML'
# Third-party protos copied from the Go module cache by scripts/proto-vendor.sh; do not edit.
version: v1
YAML
echo "vendored third-party protos into $out"
