#!/usr/bin/env node
// async-grpc: grpcurl and grpc_health_probe on this package's own client. Runs the
// compiled CLI (dist/src/cli/); in a checkout of async-grpc, build first (npm run build).
const { main } = await import("../dist/src/cli/main.js");
// A reader that went away (`async-grpc call ... | head -3`) ends the command quietly.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});
// Once written, output must reach a pipe before the process ends: exitCode, not exit().
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
// A call the server ended while requests were still being read from stdin: stop reading.
process.stdin.destroy();
