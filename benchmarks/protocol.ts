// What the orchestrator (run.ts), the server processes (server.ts) and the client
// processes (client.ts) agree on: implementation and scenario names, and the IPC
// messages they exchange.

export const IMPLEMENTATIONS = [
  // The user path: generated clients and servicers with protobuf messages.
  "async-grpc",
  "grpc-js",
  "connect-node",
  // The transport floor: raw bytes through each library's untyped API, and a
  // hand-written gRPC peer on node:http2.
  "async-grpc-bytes",
  "grpc-js-bytes",
  "raw-http2",
  "raw-http2-tuned",
  // The blocking client of async-grpc/compat against the async-grpc server: synchronous
  // unary calls, one at a time (BLOCKING_SCENARIOS).
  "async-grpc-blocking",
  // async-grpc's client and server with async-grpc/observability's OpenTelemetryPlugin
  // registered on both (metrics and tracing into the OpenTelemetry SDK): issue #14's
  // "with the plugin" against "without" (async-grpc), on OTEL_SCENARIOS.
  "async-grpc-otel",
  // The user path of async-grpc (generated client and servicer, protobuf messages) over
  // async-grpc/testing's in-process transport: server and channel in the client
  // process, no sockets; the server process idles, and the client's CPU figure is both
  // sides'. Never in a cross pair. Issue #14: it should beat loopback HTTP/2
  // (async-grpc) several times over.
  "async-grpc-inprocess",
] as const;
export type Impl = (typeof IMPLEMENTATIONS)[number];

/** Generated client classes and servicers with protobuf messages, as users write them. */
export const USER_PATH: readonly Impl[] = ["async-grpc", "grpc-js", "connect-node"];
/** The same libraries moving the encoded Payload as raw bytes (identity serializers). */
export const BYTES_PATH: readonly Impl[] = ["async-grpc-bytes", "grpc-js-bytes"];
/** The blocking client (async-grpc/compat), measured on these scenarios only: a blocked thread has one call in flight. */
export const BLOCKING_SCENARIOS: readonly string[] = ["unary-latency"];
/** The OpenTelemetry plugin's cost is measured on unary calls: one in flight, and 64. */
export const OTEL_SCENARIOS: readonly string[] = ["unary-throughput", "unary-latency"];
/** Hand-written gRPC on node:http2: the floor both tables compare with. */
export const RAW_HTTP2: readonly Impl[] = ["raw-http2", "raw-http2-tuned"];

export function isImpl(name: string): name is Impl {
  return (IMPLEMENTATIONS as readonly string[]).includes(name);
}

/** Full method paths of bench.Bench. */
export const PATHS = {
  unary: "/bench.Bench/Unary",
  serverStream: "/bench.Bench/ServerStream",
  clientStream: "/bench.Bench/ClientStream",
  bidi: "/bench.Bench/Bidi",
} as const;

/**
 * Window sizes of the tuned raw node:http2 variant: issue #9's floor for large
 * messages (8 MiB stream, 32 MiB connection windows). Larger than async-grpc's
 * defaults (src/transport/flow-control.ts), on purpose: it is what Node's HTTP/2 can
 * do when nothing holds it back. Session memory as async-grpc sizes it
 * (twice the connection window + 16 MB), so that Node does not refuse frames.
 */
export const TUNED_HTTP2 = {
  streamWindowBytes: 8 * 1024 * 1024,
  connectionWindowBytes: 32 * 1024 * 1024,
  maxFrameSize: 64 * 1024,
  maxSessionMemoryMb: 2 * 32 + 16,
} as const;

export interface MetricSpec {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
}

export interface ScenarioSpec {
  readonly name: string;
  readonly title: string;
  /** The figure in the summary table, and the one the targets are about. */
  readonly primary: MetricSpec;
  readonly secondary: readonly MetricSpec[];
  /** Body size of each message in bytes. */
  readonly bodyBytes: number;
  /** Calls in flight (unary scenarios). */
  readonly concurrency?: number;
  /** Messages per ServerStream call. */
  readonly messagesPerCall?: number;
}

const callsPerSec: MetricSpec = { key: "callsPerSec", label: "calls/s", unit: "calls/s", higherIsBetter: true };

export const SCENARIOS: readonly ScenarioSpec[] = [
  {
    name: "unary-latency",
    title: "Unary latency, 1 call in flight, 16 B body",
    primary: { key: "p50Us", label: "p50", unit: "µs", higherIsBetter: false },
    secondary: [{ key: "p99Us", label: "p99", unit: "µs", higherIsBetter: false }, callsPerSec],
    bodyBytes: 16,
    concurrency: 1,
  },
  {
    name: "unary-throughput",
    title: "Unary throughput, 64 calls in flight on one channel, 16 B body",
    primary: callsPerSec,
    secondary: [],
    bodyBytes: 16,
    concurrency: 64,
  },
  {
    name: "server-stream-16b",
    title: "Server streaming, 16 B messages",
    primary: { key: "msgsPerSec", label: "msgs/s", unit: "msgs/s", higherIsBetter: true },
    secondary: [],
    bodyBytes: 16,
    messagesPerCall: 10_000,
  },
  {
    name: "server-stream-64k",
    title: "Server streaming, 64 KiB messages",
    primary: { key: "mbPerSec", label: "MB/s", unit: "MB/s", higherIsBetter: true },
    secondary: [{ key: "msgsPerSec", label: "msgs/s", unit: "msgs/s", higherIsBetter: true }],
    bodyBytes: 64 * 1024,
    messagesPerCall: 512,
  },
  {
    name: "client-stream-16b",
    title: "Client streaming, 16 B messages",
    primary: { key: "msgsPerSec", label: "msgs/s", unit: "msgs/s", higherIsBetter: true },
    secondary: [],
    bodyBytes: 16,
  },
  {
    name: "bidi-ping-pong",
    title: "Bidi ping-pong on one stream, 16 B messages",
    primary: { key: "roundTripsPerSec", label: "round trips/s", unit: "rt/s", higherIsBetter: true },
    secondary: [],
    bodyBytes: 16,
  },
  {
    name: "unary-1mib",
    title: "Unary 1 MiB echo, 4 calls in flight",
    primary: callsPerSec,
    secondary: [{ key: "mbPerSec", label: "MB/s each way", unit: "MB/s", higherIsBetter: true }],
    bodyBytes: 1024 * 1024,
    concurrency: 4,
  },
];

export function scenarioByName(name: string): ScenarioSpec {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.map((x) => x.name).join(", ")}`);
  return s;
}

// ---- IPC ---------------------------------------------------------------------

/** The server process's resource usage, cumulative since it started. */
export interface ServerUsage {
  cpuUserUs: number;
  cpuSystemUs: number;
  /** getrusage's ru_maxrss: the peak resident set since the process started, in KiB. */
  maxRssKb: number;
  /** Highest sampled RSS since the previous usage request, in bytes. */
  windowPeakRssBytes: number;
}

export type ToServer = { type: "usage" } | { type: "stop" };
export type FromServer = { type: "ready"; port: number } | ({ type: "usage" } & ServerUsage) | { type: "error"; message: string };

export interface RunScenario {
  type: "run";
  scenario: string;
  port: number;
  warmupMs: number;
  durationMs: number;
}
export type ToClient = RunScenario | { type: "stop" };

export interface ScenarioResult {
  /** Figures keyed by MetricSpec.key. */
  metrics: Record<string, number>;
  /** Calls (or messages, for the streaming scenarios) completed including the warm-up. */
  totalOps: number;
  /** The client process's CPU time (user + system) over the whole scenario (warm-up included), in µs. */
  clientCpuUs: number;
  /** The system (kernel) part of clientCpuUs. */
  clientSysUs: number;
}
export type FromClient =
  | { type: "ready" }
  | { type: "result"; scenario: string; result: ScenarioResult }
  | { type: "error"; scenario: string; message: string };
