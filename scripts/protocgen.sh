#!/usr/bin/env bash
# Generates Go code from proto/ fully offline with the go-installed plugins (make proto-tools):
# gogoproto types and gRPC-gateway for every package, and go-pulsar (protobuf v2 API) for the
# depinject module configs, which appconfig needs as protov2 messages.
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

# pulsar: module configs only.
rm -rf api
cd proto
buf generate --template buf.gen.pulsar.yaml $(find computed -path '*/module/*' -name '*.proto' -printf '--path %p ')
cd "$root"
gofmt -w api x/*/types 2>/dev/null || true
