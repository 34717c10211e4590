// `async-grpc health <target> [service]`: grpc.health.v1.Health/Check (or Watch with
// --watch), with grpc_health_probe's exit codes so that it can replace it in a
// container's probe: 0 SERVING, 1 bad arguments, 2 no connection, 3 the RPC failed,
// 4 not SERVING.
import { RpcError, StatusCode } from "async-grpc";
import { HealthClient, ServingStatus } from "async-grpc/health";
import type { CliContext } from "../context.js";

export const HEALTH_EXIT = { SERVING: 0, ARGUMENTS: 1, CONNECTION: 2, RPC: 3, UNHEALTHY: 4 } as const;

// A check that hangs would hang the probe: without --max-time, this long.
const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

function statusName(status: ServingStatus): string {
  return ServingStatus[status] ?? String(status);
}

function verdict(ctx: CliContext, status: ServingStatus): number {
  if (status === ServingStatus.SERVING) return HEALTH_EXIT.SERVING;
  ctx.io.stderr.write(`service unhealthy (responded with "${statusName(status)}")\n`);
  return HEALTH_EXIT.UNHEALTHY;
}

function failure(ctx: CliContext, err: unknown, connectFailed: boolean): number {
  if (!(err instanceof RpcError)) throw err;
  const line = `${StatusCode[err.code]}: ${err.details}`;
  if (err.code === StatusCode.UNAVAILABLE && connectFailed) {
    ctx.io.stderr.write(`error: no connection to ${ctx.args.target}: ${line}\n`);
    return HEALTH_EXIT.CONNECTION;
  }
  if (err.code === StatusCode.UNIMPLEMENTED) {
    ctx.io.stderr.write(`error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${line}\n`);
  } else {
    ctx.io.stderr.write(`error: health rpc failed: ${line}\n`);
  }
  return HEALTH_EXIT.RPC;
}

export async function health(ctx: CliContext): Promise<number> {
  let connected;
  try {
    connected = await ctx.connect();
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    ctx.io.stderr.write(`error: ${StatusCode[err.code]}: ${err.details}\n`);
    return HEALTH_EXIT.CONNECTION;
  }
  const connectFailed = connected === "failed";
  const client = new HealthClient(ctx.channel);
  const service = ctx.args.name ?? "";
  if (!ctx.args.watch) {
    try {
      const options = ctx.callOptions(ctx.deadline === undefined ? { timeoutMs: DEFAULT_CHECK_TIMEOUT_MS } : {});
      const { status } = await client.check({ service }, options);
      ctx.io.stdout.write(`status: ${statusName(status)}\n`);
      return verdict(ctx, status);
    } catch (err) {
      return failure(ctx, err, connectFailed);
    }
  }
  // --watch: every change, until the server ends the stream or --max-time passes; the
  // exit code is the last status's.
  let last: ServingStatus | undefined;
  try {
    for await (const { status } of client.watch({ service }, ctx.callOptions())) {
      last = status;
      ctx.io.stdout.write(`status: ${statusName(status)}\n`);
    }
  } catch (err) {
    if (!(last !== undefined && err instanceof RpcError && err.code === StatusCode.DEADLINE_EXCEEDED)) return failure(ctx, err, connectFailed);
  }
  return last === undefined ? failure(ctx, new RpcError(StatusCode.UNKNOWN, "the watch ended with no status"), false) : verdict(ctx, last);
}
