/**
 * What the interop descriptions fix, independent of any gRPC library: sizes, metadata
 * keys, status messages, request builders and response checks. The peers and our own
 * interop client and server share it, so every implementation asks and checks the same.
 */
import { create } from "@bufbuild/protobuf";
import {
  PayloadSchema,
  PayloadType,
  SimpleRequestSchema,
  type EchoStatus,
  type SimpleRequest,
  type Payload,
  type ResponseParameters,
} from "../gen/grpc/testing/messages_pb.js";

/** gRPC status codes the cases check (numbers are fixed by the protocol). */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  UNIMPLEMENTED: 12,
  UNAUTHENTICATED: 16,
} as const;

const CODE_NAMES = new Map<number, string>(
  Object.entries({
    ...Code,
    NOT_FOUND: 5,
    ALREADY_EXISTS: 6,
    PERMISSION_DENIED: 7,
    RESOURCE_EXHAUSTED: 8,
    FAILED_PRECONDITION: 9,
    ABORTED: 10,
    OUT_OF_RANGE: 11,
    INTERNAL: 13,
    UNAVAILABLE: 14,
    DATA_LOSS: 15,
    UNAUTHENTICATED: 16,
  }).map(([name, code]) => [code, name]),
);

export function codeName(code: number | undefined): string {
  return code === undefined ? "no status" : `${CODE_NAMES.get(code) ?? "code"} (${code})`;
}

/** The common name of conformance/certs/client1.pem: mtls_token's expected username. */
export const TEST_CLIENT_COMMON_NAME = "async-grpc interop test client";

export const LARGE_REQUEST_SIZE = 271828;
export const LARGE_RESPONSE_SIZE = 314159;
/** client_streaming: request payload sizes, and their sum the server must report. */
export const CLIENT_STREAMING_SIZES = [27182, 8, 1828, 45904] as const;
export const CLIENT_STREAMING_TOTAL = 74922;
/** client_compressed_streaming: the compressed then the uncompressed request, and their sum. */
export const CLIENT_COMPRESSED_STREAMING_SIZES = [27182, 45904] as const;
export const CLIENT_COMPRESSED_STREAMING_TOTAL = 73086;
/** server_streaming: the response sizes asked for, in order. */
export const SERVER_STREAMING_SIZES = [31415, 9, 2653, 58979] as const;
/** server_compressed_streaming: [size, compressed] of the two responses asked for. */
export const SERVER_COMPRESSED_STREAMING = [
  [31415, true],
  [92653, false],
] as const;
/** ping_pong: [request payload size, response size asked for] for each round trip. */
export const PING_PONG_SIZES = [
  [27182, 31415],
  [8, 9],
  [1828, 2653],
  [45904, 58979],
] as const;
export const CANCEL_AFTER_FIRST_RESPONSE_SIZES = [27182, 31415] as const;
export const TIMEOUT_ON_SLEEPING_SERVER_PAYLOAD = 27182;
export const TIMEOUT_ON_SLEEPING_SERVER_TIMEOUT_MS = 1;

export const ECHO_INITIAL_KEY = "x-grpc-test-echo-initial";
export const ECHO_INITIAL_VALUE = "test_initial_metadata_value";
export const ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin";
export const ECHO_TRAILING_VALUE: Uint8Array = Uint8Array.of(0xab, 0xab, 0xab);

export const STATUS_CODE = Code.UNKNOWN;
export const STATUS_MESSAGE = "test status message";
export const SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1f608}\t\n";

export const TEST_SERVICE = "grpc.testing.TestService";
export const UNIMPLEMENTED_SERVICE = "grpc.testing.UnimplementedService";

/** A COMPRESSABLE payload of `size` zero bytes. */
export function payload(size: number): Payload {
  return create(PayloadSchema, { type: PayloadType.COMPRESSABLE, body: new Uint8Array(size) });
}

/**
 * Large_unary requests by size, each built once: the soak and concurrent cases send the
 * same request many times, and building it (a zeroed payload) is not what they measure.
 */
export function largeUnaryRequests(): (requestSize: number, responseSize: number) => SimpleRequest {
  const requests = new Map<string, SimpleRequest>();
  return (requestSize, responseSize) => {
    const key = `${requestSize}/${responseSize}`;
    let request = requests.get(key);
    if (request === undefined) {
      request = create(SimpleRequestSchema, { responseType: PayloadType.COMPRESSABLE, responseSize, payload: payload(requestSize) });
      requests.set(key, request);
    }
    return request;
  };
}

// ---------------------------------------------------------------------------
// Client side: outcomes and checks

/** Thrown by a client that cannot perform a case; the client prints `SKIP: reason`, exit 3. */
export class SkipCase extends Error {
  override name = "SkipCase";
}

/** Thrown when a client assertion does not hold; the client prints `FAIL: message`, exit 1. */
export class CheckFailed extends Error {
  override name = "CheckFailed";
}

export function skip(reason: string): never {
  throw new SkipCase(reason);
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

export function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) {
    throw new CheckFailed(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function checkBytes(actual: Uint8Array | undefined, expected: Uint8Array, what: string): void {
  const same =
    actual !== undefined && actual.length === expected.length && actual.every((b, i) => b === expected[i]);
  if (!same) throw new CheckFailed(`${what}: expected 0x${hex(expected)}, got ${actual ? `0x${hex(actual)}` : "nothing"}`);
}

/** The payload is present, COMPRESSABLE, `size` bytes long and all zeros. */
export function checkPayload(p: Payload | undefined, size: number, what: string): void {
  check(p !== undefined || size === 0, `${what}: no payload`);
  const body = p?.body ?? new Uint8Array(0);
  checkEqual(body.length, size, `${what}: payload body size`);
  check(body.every((b) => b === 0), `${what}: payload body is not all zeros`);
  checkEqual(p?.type ?? PayloadType.COMPRESSABLE, PayloadType.COMPRESSABLE, `${what}: payload type`);
}

/** A call that should have failed with `code` (and `message`, if given). */
export function checkStatus(
  actual: { code: number | undefined; details?: string | undefined },
  code: number,
  what: string,
  message?: string,
): void {
  if (actual.code !== code) {
    const detail = actual.details ? `: ${JSON.stringify(actual.details)}` : "";
    throw new CheckFailed(`${what}: expected status ${codeName(code)}, got ${codeName(actual.code)}${detail}`);
  }
  if (message !== undefined) checkEqual(actual.details, message, `${what}: status message`);
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * The shared main of every TypeScript interop client: runs one case and turns its
 * outcome into the suite's exit protocol (0 PASS, 1 FAIL, 2 usage error, 3 SKIP).
 */
export async function runClientMain<C>(
  parse: () => C & { testCase: string },
  run: (config: C & { testCase: string }) => Promise<void>,
): Promise<never> {
  let config: C & { testCase: string };
  try {
    config = parse();
  } catch (err) {
    process.stderr.write(`usage error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  armWatchdog(config.testCase);
  try {
    await run(config);
    process.stdout.write(`PASS: ${config.testCase}\n`);
    process.exit(0);
  } catch (err) {
    if (err instanceof SkipCase) {
      process.stdout.write(`SKIP: ${err.message}\n`);
      process.exit(3);
    }
    const message = err instanceof CheckFailed ? err.message : (err as Error)?.stack ?? String(err);
    process.stderr.write(`FAIL: ${config.testCase}: ${message}\n`);
    process.exit(1);
  }
}

/**
 * The runner passes its per-case timeout in INTEROP_CLIENT_TIMEOUT_S. Shortly before
 * it, a client that is still waiting says so and what it is waiting on, instead of
 * being killed without a word.
 */
function armWatchdog(testCase: string): void {
  const timeoutS = Number(process.env["INTEROP_CLIENT_TIMEOUT_S"]);
  if (!(timeoutS > 0)) return;
  const timer = setTimeout(
    () => {
      const pending = process.getActiveResourcesInfo().join(", ");
      process.stderr.write(`FAIL: ${testCase}: no result after ${(timeoutS * 0.9).toFixed(1)} s (pending: ${pending})\n`);
      process.exit(1);
    },
    timeoutS * 900,
  );
  timer.unref();
}

// ---------------------------------------------------------------------------
// Server side

/** The status a request asks the server to end with (Echo Status), if any. */
export function requestedStatus(request: { responseStatus?: EchoStatus | undefined }):
  | { code: number; message: string }
  | undefined {
  const s = request.responseStatus;
  return s !== undefined && s.code !== Code.OK ? { code: s.code, message: s.message } : undefined;
}

/** ResponseParameters.interval_us: the delay before the response, in milliseconds. */
export function intervalMs(params: ResponseParameters): number {
  return params.intervalUs / 1000;
}

export function sleepMs(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
