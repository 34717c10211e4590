// The `async-grpc` command: parses the flags, runs one command, and turns the outcome
// into an exit code: 0 on success; a failed call's status code + 64 (as grpcurl, so
// that 1 and 2 stay the program's own) with its name and message on stderr; 2 for a
// bad command line or unreadable input; `health` exits as grpc_health_probe does.
import { RpcError, StatusCode, VERSION } from "async-grpc";
import { parseCliArgs, UsageError, USAGE, type CliArgs } from "./args.js";
import { call } from "./commands/call.js";
import { describe } from "./commands/describe.js";
import { health, HEALTH_EXIT } from "./commands/health.js";
import { list } from "./commands/list.js";
import { CliContext, type Io } from "./context.js";

/** The exit code of a failed call: its status code plus 64. */
export function statusExitCode(code: StatusCode): number {
  return code + 64;
}

const COMMAND_RUNNERS = { list, describe, call, health } satisfies Record<CliArgs["command"], (ctx: CliContext) => Promise<number>>;

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "; ");
}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  // grpc_health_probe exits 1 for bad arguments; the other commands 2.
  const usageExit = argv.find((a) => !a.startsWith("-")) === "health" ? HEALTH_EXIT.ARGUMENTS : 2;
  let ctx: CliContext | undefined;
  try {
    const args = parseCliArgs(argv);
    if (args === "help") {
      io.stdout.write(USAGE);
      return 0;
    }
    if (args === "version") {
      io.stdout.write(`async-grpc ${VERSION}\n`);
      return 0;
    }
    ctx = new CliContext(args, io);
    return await COMMAND_RUNNERS[args.command](ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`async-grpc: ${oneLine(err.message)}\n`);
      return usageExit;
    }
    if (err instanceof RpcError) {
      io.stderr.write(`${StatusCode[err.code] ?? err.code}: ${oneLine(err.details)}\n`);
      return statusExitCode(err.code);
    }
    // A bug of ours: still one line, unless asked for the stack.
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`async-grpc: ${oneLine(message)}\n`);
    if (process.env.ASYNC_GRPC_DEBUG && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return 1;
  } finally {
    await ctx?.close().catch(() => {});
  }
}
