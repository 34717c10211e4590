// The `async-grpc` command line (bin/async-grpc.js runs `main`). Built only on the
// public entry points: async-grpc, async-grpc/reflection and async-grpc/health.
export { main, statusExitCode } from "./main.js";
export { parseCliArgs, UsageError, type CliArgs } from "./args.js";
