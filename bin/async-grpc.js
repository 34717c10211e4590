#!/usr/bin/env node
// async-grpc: grpcurl and grpc_health_probe on this package's own client. Runs the
// compiled CLI (dist/src/cli/); in a checkout of async-grpc, build first (npm run build).
const { main } = await import("../dist/src/cli/main.js");
// Once written, output must reach a pipe before the process ends: exitCode, not exit().
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
