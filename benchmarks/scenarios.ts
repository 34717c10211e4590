// The measurement loops, run in the client process against any BenchClient. Each
// scenario warms up for `warmupMs` (connection set-up, JIT) and then measures for
// `durationMs`; only work that completes inside the measured window counts.
import type { BenchClient } from "./clients/types.js";
import { benchMessage, bodyOfSize, encodePayload, streamRequestBody } from "./payload.js";
import type { ScenarioResult, ScenarioSpec } from "./protocol.js";

export interface Timing {
  warmupMs: number;
  durationMs: number;
}

export async function runScenario(client: BenchClient, spec: ScenarioSpec, timing: Timing): Promise<ScenarioResult> {
  const cpuBefore = process.cpuUsage();
  const { metrics, totalOps } = await measure(client, spec, timing);
  const cpu = process.cpuUsage(cpuBefore);
  return { metrics, totalOps, clientCpuUs: cpu.user + cpu.system, clientSysUs: cpu.system };
}

async function measure(client: BenchClient, spec: ScenarioSpec, timing: Timing): Promise<Omit<ScenarioResult, "clientCpuUs" | "clientSysUs">> {
  switch (spec.name) {
    case "unary-latency":
    case "unary-throughput":
    case "unary-1mib":
      return unaryLoop(client, spec, timing);
    case "server-stream-16b":
    case "server-stream-64k":
      return serverStreaming(client, spec, timing);
    case "client-stream-16b":
      return clientStreaming(client, spec, timing);
    case "bidi-ping-pong":
      return pingPong(client, spec, timing);
    default:
      throw new Error(`no measurement for scenario ${spec.name}`);
  }
}

/** `concurrency` workers, each making one unary call after another. */
async function unaryLoop(client: BenchClient, spec: ScenarioSpec, { warmupMs, durationMs }: Timing) {
  const message = benchMessage(bodyOfSize(spec.bodyBytes));
  const recordLatency = spec.concurrency === 1;
  const latencies: number[] = [];
  const measureFrom = performance.now() + warmupMs;
  const end = measureFrom + durationMs;
  let measured = 0;
  let total = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      await client.unary(message);
      const t1 = performance.now();
      total++;
      if (t1 >= measureFrom && t1 < end) {
        measured++;
        if (recordLatency && t0 >= measureFrom) latencies.push(t1 - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency ?? 1 }, worker));
  const seconds = durationMs / 1000;
  const metrics: Record<string, number> = {
    callsPerSec: measured / seconds,
    mbPerSec: (measured * message.wire.byteLength) / seconds / 1e6,
  };
  if (recordLatency) {
    latencies.sort((a, b) => a - b);
    metrics.p50Us = quantile(latencies, 0.5) * 1000;
    metrics.p99Us = quantile(latencies, 0.99) * 1000;
    metrics.meanUs = (latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)) * 1000;
  }
  return { metrics, totalOps: total };
}

/** One ServerStream call after another, each of `messagesPerCall` messages. */
async function serverStreaming(client: BenchClient, spec: ScenarioSpec, { warmupMs, durationMs }: Timing) {
  const count = spec.messagesPerCall!;
  const request = benchMessage(streamRequestBody(spec.bodyBytes, count));
  const messageBytes = encodePayload(bodyOfSize(spec.bodyBytes)).byteLength;
  let total = 0;
  const warmEnd = performance.now() + warmupMs;
  do total += await client.serverStream(request, count);
  while (performance.now() < warmEnd);
  const t0 = performance.now();
  let measured = 0;
  do measured += await client.serverStream(request, count);
  while (performance.now() < t0 + durationMs);
  const seconds = (performance.now() - t0) / 1000;
  total += measured;
  return {
    metrics: { msgsPerSec: measured / seconds, mbPerSec: (measured * messageBytes) / seconds / 1e6 },
    totalOps: total,
  };
}

/** One ClientStream call writing as fast as flow control allows. */
async function clientStreaming(client: BenchClient, spec: ScenarioSpec, { warmupMs, durationMs }: Timing) {
  const message = benchMessage(bodyOfSize(spec.bodyBytes));
  let total = await client.clientStream(message, performance.now() + warmupMs);
  const t0 = performance.now();
  const sent = await client.clientStream(message, t0 + durationMs);
  const seconds = (performance.now() - t0) / 1000;
  total += sent;
  return {
    metrics: { msgsPerSec: sent / seconds, mbPerSec: (sent * message.wire.byteLength) / seconds / 1e6 },
    totalOps: total,
  };
}

/** One Bidi call, one message in flight: write, read the echo, repeat. */
async function pingPong(client: BenchClient, spec: ScenarioSpec, { warmupMs, durationMs }: Timing) {
  const message = benchMessage(bodyOfSize(spec.bodyBytes));
  let total = await client.pingPong(message, performance.now() + warmupMs);
  const t0 = performance.now();
  const n = await client.pingPong(message, t0 + durationMs);
  const seconds = (performance.now() - t0) / 1000;
  total += n;
  return { metrics: { roundTripsPerSec: n / seconds }, totalOps: total };
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
