/**
 * The cases made of many large_unary calls: rpc_soak, channel_soak, long_lived_channel
 * and concurrent_large_unary, independent of any gRPC library. A TypeScript client
 * gives a way to open a channel and make one UnaryCall on it (`LargeUnaryChannel`);
 * everything else (scheduling, timing, the pass/fail rule, the log lines) is here, so
 * our client and the grpc-js peer judge alike. The Python peer follows the same rules
 * in interop_soak.py.
 *
 * The soak rules are the interop descriptions' (rpc_soak, channel_soak):
 * - each iteration is one UnaryCall of `soak_request_size` bytes asking for
 *   `soak_response_size`; it fails on a non-OK status, a wrong response, or a latency
 *   above `soak_per_iteration_max_acceptable_latency_ms` (measured with a
 *   sub-millisecond clock, no per-RPC deadline, so a late RPC says how late it was);
 * - channel_soak opens a new channel for each iteration: opening it counts in the
 *   latency, closing it does not;
 * - no RPC starts after `soak_overall_timeout_seconds`, and the calls in flight end at
 *   that moment at the latest (their deadline), so the test always ends;
 * - `soak_num_threads` workers share the iterations (the first `iterations % threads`
 *   take one more) and run concurrently; each waits `soak_min_time_ms_between_rpcs`
 *   from the start of one of its RPCs to the start of its next;
 * - the test fails if not every iteration ran, or if more than `soak_max_failures`
 *   iterations failed.
 * Each iteration logs `Worker W: soak iteration: I elapsed_ms: MS peer: PEER succeeded`
 * (or `failed: WHY`), the descriptions' format with grpc-go's worker prefix, and the
 * end a summary in grpc's C++ client's words, with the median, 90th percentile and
 * worst latency.
 */
import { performance } from "node:perf_hooks";
import type { LongLivedChannelConfig, SoakConfig } from "./flags.js";
import { CheckFailed, LARGE_REQUEST_SIZE, LARGE_RESPONSE_SIZE, codeName, sleepMs } from "./interop.js";

/** What a peer address is logged as when the library does not tell it. */
export const UNKNOWN_PEER = "unknown";

export interface UnaryCallSpec {
  requestSize: number;
  responseSize: number;
  /** Absolute deadline (epoch milliseconds), or none. */
  deadline?: number;
}

/** One channel to the server, as these cases use it. */
export interface LargeUnaryChannel {
  /**
   * One TestService/UnaryCall: `requestSize` zero bytes asking for `responseSize`.
   * Resolves with the peer's address (UNKNOWN_PEER if the library does not say) once
   * the response is in and checked; rejects if the call fails or the response is wrong.
   */
  unaryCall(spec: UnaryCallSpec): Promise<string>;
  close(): void | Promise<void>;
}

export type Log = (line: string) => void;

const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/** A short reason for a failed call, whatever the library threw. */
export function describeFailure(err: unknown): string {
  if (err instanceof CheckFailed) return err.message;
  const e = err as { code?: unknown; details?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === "number") {
    const details = typeof e.details === "string" ? e.details : String(e.message ?? "");
    return `${codeName(e.code)}: ${JSON.stringify(details)}`;
  }
  return String(e?.message ?? err);
}

interface Iteration {
  ok: boolean;
  latencyMs: number;
}

/** The nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface SoakOptions {
  config: SoakConfig;
  /** true for channel_soak (a new channel per iteration), false for rpc_soak. */
  resetChannel: boolean;
  /** The server's address, for the summary. */
  serverUri: string;
  openChannel(): LargeUnaryChannel;
  log?: Log;
}

/** rpc_soak or channel_soak; throws CheckFailed when the test fails. */
export async function runSoak(options: SoakOptions): Promise<void> {
  const { config, resetChannel } = options;
  const log = options.log ?? stderrLog;
  const overallDeadline = performance.now() + config.overallTimeoutSeconds * 1000;
  const shared = resetChannel ? undefined : options.openChannel();
  const iterations: Iteration[] = [];

  const iterate = async (worker: number, i: number): Promise<void> => {
    const began = performance.now();
    let channel = shared;
    let peer = UNKNOWN_PEER;
    let failure: string | undefined;
    try {
      channel ??= options.openChannel();
      peer = await channel.unaryCall({
        requestSize: config.requestSize,
        responseSize: config.responseSize,
        deadline: Date.now() + (overallDeadline - performance.now()),
      });
    } catch (err) {
      failure = describeFailure(err);
    }
    const latencyMs = performance.now() - began;
    // channel_soak: the channel's teardown is not part of the latency.
    if (resetChannel && channel) await closeQuietly(channel, log);
    const maxMs = config.perIterationMaxAcceptableLatencyMs;
    if (failure === undefined && latencyMs > maxMs) {
      failure = `${Math.round(latencyMs)} ms exceeds max acceptable latency: ${maxMs} ms`;
    }
    iterations.push({ ok: failure === undefined, latencyMs });
    const head = `Worker ${worker}: soak iteration: ${i} elapsed_ms: ${Math.round(latencyMs)} peer: ${peer}`;
    log(failure === undefined ? `${head} succeeded` : `${head} failed: ${failure}`);
  };

  const work = async (worker: number, count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      if (performance.now() >= overallDeadline) {
        log(`Worker ${worker}: overall timeout of ${config.overallTimeoutSeconds} s reached after ${i} of ${count} iterations, stopping`);
        return;
      }
      const earliestNextStart = performance.now() + config.minTimeMsBetweenRpcs;
      await iterate(worker, i);
      if (i + 1 < count) await sleepMs(Math.min(earliestNextStart, overallDeadline) - performance.now());
    }
  };

  const { iterations: total, numThreads } = config;
  try {
    await Promise.all(
      Array.from({ length: numThreads }, (_, w) =>
        work(w, Math.floor(total / numThreads) + (w < total % numThreads ? 1 : 0)),
      ),
    );
  } finally {
    if (shared) await closeQuietly(shared, log);
  }

  const ran = iterations.length;
  const failures = iterations.filter((it) => !it.ok).length;
  const sorted = iterations.map((it) => it.latencyMs).sort((a, b) => a - b);
  const latencies =
    `median_soak_iteration_latency: ${Math.round(percentile(sorted, 50))} ms. ` +
    `90th_soak_iteration_latency: ${Math.round(percentile(sorted, 90))} ms. ` +
    `worst_soak_iteration_latency: ${Math.round(sorted.at(-1) ?? 0)} ms.`;
  const server = `(server_uri: ${options.serverUri})`;
  const breakdown = "See breakdown above for which iterations succeeded, failed, and why for more info.";
  if (ran < total) {
    log(
      `${server} soak test consumed all ${config.overallTimeoutSeconds} seconds of time and quit early, only having ` +
        `ran ${ran} out of desired ${total} iterations. total_failures: ${failures}. max_failures_threshold: ` +
        `${config.maxFailures}. ${latencies} Some or all of the iterations that did run were unexpectedly slow. ${breakdown}`,
    );
    throw new CheckFailed(
      `soak test ran ${ran} of ${total} iterations within ${config.overallTimeoutSeconds} s (${failures} failed)`,
    );
  }
  const within = failures <= config.maxFailures;
  log(
    `${server} soak test ran: ${total} iterations. total_failures: ${failures} ` +
      `${within ? "is within" : "exceeds"} max_failures_threshold: ${config.maxFailures}. ${latencies} ${breakdown}`,
  );
  if (!within) {
    throw new CheckFailed(`soak test: ${failures} of ${total} iterations failed, more than --soak_max_failures=${config.maxFailures}`);
  }
}

async function closeQuietly(channel: LargeUnaryChannel, log: Log): Promise<void> {
  try {
    await channel.close();
  } catch (err) {
    log(`closing a channel failed: ${describeFailure(err)}`);
  }
}

/**
 * long_lived_channel: `iterations` large_unary calls on one channel,
 * `intervalSeconds` apart (from the end of one to the start of the next, as grpc's
 * C++ client does). Fails if any call failed.
 */
export async function runLongLivedChannel(
  config: LongLivedChannelConfig,
  channel: LargeUnaryChannel,
  log: Log = stderrLog,
): Promise<void> {
  let failures = 0;
  try {
    for (let i = 0; i < config.iterations; i++) {
      if (i > 0) await sleepMs(config.intervalSeconds * 1000);
      const began = performance.now();
      let outcome: string;
      try {
        const peer = await channel.unaryCall({ requestSize: LARGE_REQUEST_SIZE, responseSize: LARGE_RESPONSE_SIZE });
        outcome = `peer: ${peer} succeeded`;
      } catch (err) {
        failures++;
        outcome = `failed: ${describeFailure(err)}`;
      }
      log(`long_lived_channel iteration: ${i} elapsed_ms: ${Math.round(performance.now() - began)} ${outcome}`);
    }
  } finally {
    await closeQuietly(channel, log);
  }
  if (failures > 0) {
    throw new CheckFailed(
      `${failures} of ${config.iterations} large_unary calls failed on one channel (${config.intervalSeconds} s apart)`,
    );
  }
}

/**
 * concurrent_large_unary: `count` large_unary calls (the descriptions say 1000) started
 * at once on one channel; every one must succeed with the right response.
 */
export async function runConcurrentLargeUnary(
  channel: LargeUnaryChannel,
  count: number,
  log: Log = stderrLog,
): Promise<void> {
  const began = performance.now();
  const spec = { requestSize: LARGE_REQUEST_SIZE, responseSize: LARGE_RESPONSE_SIZE };
  let outcomes: PromiseSettledResult<string>[];
  try {
    outcomes = await Promise.allSettled(Array.from({ length: count }, () => channel.unaryCall(spec)));
  } finally {
    await closeQuietly(channel, log);
  }
  const failed = outcomes.flatMap((o, i) => (o.status === "rejected" ? [{ i, why: describeFailure(o.reason) }] : []));
  log(
    `concurrent_large_unary: ${count - failed.length} of ${count} calls succeeded in ${Math.round(performance.now() - began)} ms`,
  );
  for (const { i, why } of failed.slice(0, 5)) log(`concurrent_large_unary: call ${i} failed: ${why}`);
  if (failed.length > 0) {
    throw new CheckFailed(`${failed.length} of ${count} concurrent large_unary calls failed; call ${failed[0]!.i}: ${failed[0]!.why}`);
  }
}
