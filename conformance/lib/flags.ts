import { isCaseName, unknownCaseMessage, type CaseName } from "./cases.js";
import { LARGE_REQUEST_SIZE, LARGE_RESPONSE_SIZE } from "./interop.js";

/**
 * Command-line flags in the style the interop descriptions use: `--name=value`,
 * `--name value`, and for booleans a bare `--name` (true) or `--name=false`.
 * Unknown flags are an error, so a typo never silently changes a test.
 */
export type FlagSpec = Record<string, "string" | "boolean">;

export type Flags<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends "boolean" ? boolean : string;
};

export class FlagError extends Error {
  override name = "FlagError";
}

export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S): Flags<S> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) {
      throw new FlagError(`unknown flag --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(" ")})`);
    }
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (kind === "boolean") {
      if (value === undefined && (argv[i + 1] === "true" || argv[i + 1] === "false")) value = argv[++i];
      out[name] = parseBoolean(name, value ?? "true");
    } else {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new FlagError(`--${name} needs a value`);
      }
      out[name] = value;
    }
  }
  return out as Flags<S>;
}

function parseBoolean(name: string, value: string): boolean {
  switch (value.toLowerCase()) {
    case "true":
    case "1":
    case "yes":
      return true;
    case "false":
    case "0":
    case "no":
      return false;
    default:
      throw new FlagError(`--${name} must be true or false, got ${JSON.stringify(value)}`);
  }
}

export function parsePort(name: string, value: string | undefined): number {
  const port = Number(value);
  if (value === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FlagError(`--${name} must be a port number, got ${JSON.stringify(value)}`);
  }
  return port;
}

/**
 * A whole number from `min` up; `fallback` when the flag is absent. Digits only: no
 * sign, fraction or exponent, so "1e3" or "10.5" is a usage error, not a surprise.
 */
export function parseCount(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new FlagError(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A non-negative number of seconds (fractions allowed); `fallback` when absent. */
export function parseSeconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) {
    throw new FlagError(`--${name} must be a number of seconds >= 0, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * The client flags of the interop descriptions (the cloud-to-prod auth flags are not
 * supported), with the soak flags of rpc_soak and channel_soak (their defaults are the
 * descriptions' and grpc-go's), `iteration_interval` of long_lived_channel (grpc's C++
 * client's name; seconds) and `concurrent_large_unary_calls` (not standard: how many
 * calls concurrent_large_unary makes at once, the descriptions' 1000 by default).
 */
export const CLIENT_FLAGS = {
  server_host: "string",
  server_host_override: "string",
  server_port: "string",
  test_case: "string",
  use_tls: "boolean",
  use_test_ca: "boolean",
  use_client_cert: "boolean",
  bearer_token: "string",
  soak_iterations: "string",
  soak_max_failures: "string",
  soak_per_iteration_max_acceptable_latency_ms: "string",
  soak_overall_timeout_seconds: "string",
  soak_min_time_ms_between_rpcs: "string",
  soak_num_threads: "string",
  soak_request_size: "string",
  soak_response_size: "string",
  iteration_interval: "string",
  concurrent_large_unary_calls: "string",
} as const satisfies FlagSpec;

/**
 * The server flags of the interop descriptions, plus `--host` (not standard): the
 * address to bind, default 127.0.0.1, so the suite listens on loopback only.
 */
export const SERVER_FLAGS = {
  port: "string",
  use_tls: "boolean",
  host: "string",
  require_client_auth: "boolean",
  bearer_token: "string",
} as const satisfies FlagSpec;

/** rpc_soak and channel_soak (lib/soak.ts). */
export interface SoakConfig {
  /** --soak_iterations: RPCs in all, shared out among the workers. Default 10. */
  iterations: number;
  /** --soak_max_failures: failed or too slow RPCs tolerated. Default 0. */
  maxFailures: number;
  /** --soak_per_iteration_max_acceptable_latency_ms: slower counts as a failure. Default 1000. */
  perIterationMaxAcceptableLatencyMs: number;
  /** --soak_overall_timeout_seconds: no new RPC after this. Default max latency x iterations. */
  overallTimeoutSeconds: number;
  /** --soak_min_time_ms_between_rpcs: from one RPC's start to the next's, per worker. Default 0. */
  minTimeMsBetweenRpcs: number;
  /** --soak_num_threads: concurrent workers. Default 1. */
  numThreads: number;
  /** --soak_request_size, --soak_response_size: default large_unary's 271828 and 314159. */
  requestSize: number;
  responseSize: number;
}

/** long_lived_channel: --soak_iterations RPCs, --iteration_interval seconds apart (default 10). */
export interface LongLivedChannelConfig {
  iterations: number;
  intervalSeconds: number;
}

export interface ClientConfig {
  serverHost: string;
  serverPort: number;
  /** --server_host_override: the TLS name to verify and the :authority to send. */
  serverHostOverride: string | undefined;
  testCase: CaseName;
  useTls: boolean;
  useTestCa: boolean;
  /** --use_client_cert (not standard): present the test client certificate (mutual TLS). */
  useClientCert: boolean;
  /** --bearer_token=T (not standard): send `authorization: Bearer T` with every call (call credentials). */
  bearerToken: string | undefined;
  soak: SoakConfig;
  longLivedChannel: LongLivedChannelConfig;
  /** --concurrent_large_unary_calls: calls concurrent_large_unary starts at once. Default 1000. */
  concurrentLargeUnaryCalls: number;
}

export function parseClientFlags(argv: readonly string[]): ClientConfig {
  const f = parseFlags(argv, CLIENT_FLAGS);
  if (f.test_case === undefined) throw new FlagError("--test_case is required");
  if (!isCaseName(f.test_case)) throw new FlagError(unknownCaseMessage(f.test_case));
  const iterations = parseCount("soak_iterations", f.soak_iterations, 10, 1);
  const maxLatencyMs = parseCount(
    "soak_per_iteration_max_acceptable_latency_ms",
    f.soak_per_iteration_max_acceptable_latency_ms,
    1000,
  );
  return {
    serverHost: f.server_host ?? "localhost",
    serverPort: parsePort("server_port", f.server_port ?? "8080"),
    serverHostOverride: f.server_host_override || undefined,
    testCase: f.test_case,
    useTls: f.use_tls ?? false,
    useTestCa: f.use_test_ca ?? false,
    useClientCert: f.use_client_cert ?? false,
    bearerToken: f.bearer_token || undefined,
    soak: {
      iterations,
      maxFailures: parseCount("soak_max_failures", f.soak_max_failures, 0),
      perIterationMaxAcceptableLatencyMs: maxLatencyMs,
      overallTimeoutSeconds: parseCount(
        "soak_overall_timeout_seconds",
        f.soak_overall_timeout_seconds,
        Math.max(1, Math.ceil((maxLatencyMs * iterations) / 1000)),
        1,
      ),
      minTimeMsBetweenRpcs: parseCount("soak_min_time_ms_between_rpcs", f.soak_min_time_ms_between_rpcs, 0),
      numThreads: parseCount("soak_num_threads", f.soak_num_threads, 1, 1),
      requestSize: parseCount("soak_request_size", f.soak_request_size, LARGE_REQUEST_SIZE),
      responseSize: parseCount("soak_response_size", f.soak_response_size, LARGE_RESPONSE_SIZE),
    },
    longLivedChannel: {
      iterations,
      intervalSeconds: parseSeconds("iteration_interval", f.iteration_interval, 10),
    },
    concurrentLargeUnaryCalls: parseCount("concurrent_large_unary_calls", f.concurrent_large_unary_calls, 1000, 1),
  };
}

export interface ServerConfig {
  host: string;
  port: number;
  useTls: boolean;
  /** --require_client_auth (not standard, with --use_tls): refuse clients without a certificate from the test CA. */
  requireClientAuth: boolean;
  /** --bearer_token=T (not standard): refuse calls without `authorization: Bearer T` (UNAUTHENTICATED). */
  bearerToken: string | undefined;
}

export function parseServerFlags(argv: readonly string[]): ServerConfig {
  const f = parseFlags(argv, SERVER_FLAGS);
  return {
    host: f.host ?? "127.0.0.1",
    port: parsePort("port", f.port ?? "8080"),
    useTls: f.use_tls ?? false,
    requireClientAuth: f.require_client_auth ?? false,
    bearerToken: f.bearer_token || undefined,
  };
}

/** `host:port`, with brackets around an IPv6 literal. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}
