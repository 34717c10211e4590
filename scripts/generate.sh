#!/usr/bin/env bash
# Regenerates every *_pb.ts in the repository: each folder in ROOTS keeps its sources
# in proto/ and its generated code in gen/ (committed; test/generated.test.ts checks drift).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOTS=(examples/route-guide conformance benchmarks)
for root in "${ROOTS[@]}"; do
  [ -d "$root/proto" ] || continue
  rm -rf "$root/gen"
  npx --no-install buf generate "$root/proto" --template buf.gen.yaml -o "$root"
done
