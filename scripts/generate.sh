#!/usr/bin/env bash
# Regenerates every *_pb.ts and *_grpc.ts in the repository: each folder in ROOTS keeps
# its sources in proto/ and its generated code in gen/ (committed; test/generated.test.ts
# checks drift), using buf.gen.yaml or the root's own buf.gen.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOTS=(test examples/route-guide conformance benchmarks codegen/test src/status src/health src/reflection src/channelz)
# protoc-gen-async-grpc runs from dist/codegen/: build it first (only codegen/ and what
# it imports, so that stale generated code elsewhere cannot stop the build).
npx --no-install tsc -p codegen
for root in "${ROOTS[@]}"; do
  [ -d "$root/proto" ] || continue
  template=buf.gen.yaml
  [ -f "$root/buf.gen.yaml" ] && template="$root/buf.gen.yaml"
  rm -rf "$root/gen"
  npx --no-install buf generate "$root/proto" --template "$template" -o "$root"
done
# The Python interop peer (conformance/peers/python) needs *_pb2.py for the message
# types; Debian's protoc (protobuf-compiler) matches Debian's python3-protobuf.
# test.proto is left out on purpose: its generated module would import
# `grpc.testing.*`, which collides with grpcio's own `grpc` package; the peer
# builds its service handlers by hand from the method paths instead.
if command -v protoc >/dev/null; then
  py_out=conformance/peers/python/gen
  rm -rf "$py_out"
  mkdir -p "$py_out"
  protoc -I conformance/proto --python_out="$py_out" \
    conformance/proto/grpc/testing/messages.proto conformance/proto/grpc/testing/empty.proto
  # The companions' Python peers (test/peers/python) load these by file path, since
  # `grpc.*` and `google.*` are grpcio's and protobuf's own packages.
  py_out=test/peers/python/gen
  rm -rf "$py_out"
  mkdir -p "$py_out"
  protoc -I src/status/proto --python_out="$py_out" src/status/proto/google/rpc/status.proto src/status/proto/google/rpc/error_details.proto
  protoc -I src/health/proto --python_out="$py_out" src/health/proto/grpc/health/v1/health.proto
else
  echo "generate.sh: protoc not found, leaving conformance/peers/python/gen and test/peers/python/gen as is" >&2
fi
