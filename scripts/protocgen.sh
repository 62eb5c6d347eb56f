#!/usr/bin/env bash
# Generates Go code from proto/ fully offline with the go-installed plugins (make proto-tools):
# gogoproto types and gRPC-gateway for every package (what the keepers use), and go-pulsar
# (protobuf v2 API) for every package too: appconfig needs the module configs as protov2
# messages, and autocli needs every message as one.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"

root=$PWD
cd proto
# gogo: everything except module configs (those live in api/ only).
buf generate --template buf.gen.gogo.yaml $(find computed -name '*.proto' -not -path '*/module/*' -printf '--path %p ')
cd "$root"
cp -r github.com/computed-network/computed/* ./
rm -rf github.com

# pulsar: every package, into api/. autocli builds CLI messages from these protobuf-v2 types; with
# only gogo types it would fall back to dynamic messages whose Coin fields it cannot fill.
rm -rf api
cd proto
maps="Mcosmos/app/v1alpha1/module.proto=cosmossdk.io/api/cosmos/app/v1alpha1"
maps+=",Mamino/amino.proto=cosmossdk.io/api/amino"
maps+=",Mcosmos/msg/v1/msg.proto=cosmossdk.io/api/cosmos/msg/v1"
maps+=",Mcosmos/base/v1beta1/coin.proto=cosmossdk.io/api/cosmos/base/v1beta1"
maps+=",Mcosmos/base/query/v1beta1/pagination.proto=cosmossdk.io/api/cosmos/base/query/v1beta1"
maps+=",Mcosmos_proto/cosmos.proto=github.com/cosmos/cosmos-proto"
maps+=",Mgogoproto/gogo.proto=github.com/cosmos/gogoproto/gogoproto"
maps+=",Mgoogle/api/annotations.proto=google.golang.org/genproto/googleapis/api/annotations"
maps+=",Mgoogle/api/http.proto=google.golang.org/genproto/googleapis/api/annotations"
for f in $(find computed -name '*.proto' -not -path '*/module/*' | sort); do
  dir=$(dirname "$f")                          # computed/market/v1
  pkg=$(echo "$dir" | awk -F/ '{print $2 $3}') # marketv1
  maps+=",M$f=github.com/computed-network/computed/api/$dir;$pkg"
done
cat > /tmp/buf.gen.pulsar.$$.yaml <<YAML
version: v1
plugins:
  - name: go-pulsar
    out: ../api
    opt: paths=source_relative,$maps
YAML
buf generate --template /tmp/buf.gen.pulsar.$$.yaml $(find computed -name '*.proto' -printf '--path %p ')
rm -f /tmp/buf.gen.pulsar.$$.yaml
cd "$root"
gofmt -w api x/*/types 2>/dev/null || true
