// Client-side health checking (gRFC A17): one `grpc.health.v1.Health/Watch` stream per
// READY connection. The core does not import the health companion (a layer above it):
// the two tiny messages are encoded and decoded here on raw bytes, and the stream is a
// bare HTTP/2 stream, not a call, so that it neither keeps the process alive nor keeps
// the connection from going idle (it is not counted as a call on its connection).
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import { Backoff, ConnectivityState, http2Constants, logError, trace, type ClientConnection } from "../transport/index.js";
import { frameMessage, isGrpcContentType, MessageDecoder, parseStatusCode, StatusCode } from "../wire/index.js";

export const HEALTH_WATCH_PATH = "/grpc.health.v1.Health/Watch";
/** `HealthCheckResponse.ServingStatus.SERVING`; every other value routes no calls. */
const SERVING = 1;
/** A health response is a few bytes; this bounds what a misbehaving server can make us buffer. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** What the Watch request needs from the channel: its request pseudo-headers. */
export interface HealthCheckTarget {
  readonly scheme: "http" | "https";
  readonly authority: string;
  readonly userAgent: string;
}

/** `HealthCheckRequest { string service = 1; }` in protobuf binary. */
export function encodeHealthCheckRequest(service: string): Uint8Array {
  const name = Buffer.from(service, "utf8");
  if (name.length === 0) return new Uint8Array(0);
  const out: number[] = [0x0a];
  for (let n = name.length; ; n >>>= 7) {
    if (n < 0x80) {
      out.push(n);
      break;
    }
    out.push((n & 0x7f) | 0x80);
  }
  const bytes = new Uint8Array(out.length + name.length);
  bytes.set(out);
  bytes.set(name, out.length);
  return bytes;
}

/**
 * The `status` of a `HealthCheckResponse { ServingStatus status = 1; }` (0, UNKNOWN,
 * when absent; the last occurrence wins, as protobuf says). Unknown fields are skipped;
 * malformed bytes throw.
 */
export function decodeServingStatus(bytes: Uint8Array): number {
  let status = 0;
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= bytes.length) throw new Error("truncated varint");
      const b = bytes[pos++]!;
      // Only the low 32 bits matter for an enum; higher groups are read and dropped.
      if (shift < 32) value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw new Error("varint too long");
  };
  while (pos < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0: {
        const v = varint();
        if (field === 1) status = v | 0;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const length = varint(); // read before pos: `pos += varint()` would add to the old pos
        pos += length;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
    if (pos > bytes.length) throw new Error("truncated field");
    if (field === 0) throw new Error("field number 0");
  }
  return status;
}

type Listener = (state: ConnectivityState) => void;

/**
 * A connection's state as health-checking policies see it: the connection's own state,
 * except that while it is READY and a service name is set, it is CONNECTING until the
 * first Watch answer, READY while the last answer is SERVING, and TRANSIENT_FAILURE
 * otherwise (another status, or the stream failed and waits for its retry). A server
 * without the health service (UNIMPLEMENTED) counts as healthy, as gRFC A17 says.
 */
export class HealthChecker {
  state: ConnectivityState;
  /** Why the state is TRANSIENT_FAILURE while the connection is READY. */
  problem: string | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly unwatch: () => void;
  private stream: ClientHttp2Stream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ initialBackoffMs: 1000, maxBackoffMs: 120_000 });

  constructor(
    private readonly connection: ClientConnection,
    private readonly target: HealthCheckTarget,
    private serviceName: string | undefined,
  ) {
    this.state = connection.state;
    this.unwatch = connection.onStateChange((state) => this.onConnectionState(state));
    if (connection.state === ConnectivityState.READY) this.startWatching();
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The service config named another service (or none): start over on the current connection. */
  setServiceName(serviceName: string | undefined): void {
    if (serviceName === this.serviceName) return;
    this.serviceName = serviceName;
    this.stop();
    this.backoff.reset();
    if (this.connection.state === ConnectivityState.READY) this.startWatching();
  }

  destroy(): void {
    this.unwatch();
    this.listeners.clear();
    this.stop();
  }

  private onConnectionState(state: ConnectivityState): void {
    if (state === ConnectivityState.READY) {
      this.startWatching();
      return;
    }
    this.stop();
    this.backoff.reset();
    this.set(state, undefined);
  }

  private startWatching(): void {
    if (this.serviceName === undefined) {
      this.set(ConnectivityState.READY, undefined);
      return;
    }
    this.set(ConnectivityState.CONNECTING, undefined);
    this.open(this.serviceName);
  }

  private stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const stream = this.stream;
    this.stream = undefined;
    if (stream !== undefined && !stream.closed) stream.close(http2Constants.NGHTTP2_CANCEL);
  }

  private open(service: string): void {
    const session: ClientHttp2Session | undefined = this.connection.readySession;
    if (session === undefined) return; // the state listener follows with the new state
    const { scheme, authority, userAgent } = this.target;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(
        { ":method": "POST", ":scheme": scheme, ":path": HEALTH_WATCH_PATH, ":authority": authority, "content-type": "application/grpc", te: "trailers", "user-agent": userAgent },
        { endStream: false },
      );
    } catch (err) {
      this.failed(service, StatusCode.UNAVAILABLE, `could not open the stream: ${(err as Error).message}`, false);
      return;
    }
    this.stream = stream;
    const decoder = new MessageDecoder({ maxMessageLength: MAX_RESPONSE_BYTES, compressionNegotiated: false });
    let answered = false;
    let ended = false;
    const end = (code: StatusCode, details: string) => {
      if (ended) return;
      ended = true;
      if (!stream.closed) stream.close(http2Constants.NGHTTP2_CANCEL);
      if (this.stream !== stream) return; // stopped: a newer stream (or none) is in charge
      this.stream = undefined;
      this.failed(service, code, details, answered);
    };
    const onStatus = (headers: IncomingHttpHeaders) => {
      const code = parseStatusCode(headers["grpc-status"] as string | undefined) ?? StatusCode.UNKNOWN;
      end(code, String(headers["grpc-message"] ?? ""));
    };
    stream.on("response", (headers, flags: number) => {
      if (Number(headers[":status"]) !== 200) end(StatusCode.UNKNOWN, `HTTP status ${String(headers[":status"])}`);
      else if ((flags & http2Constants.NGHTTP2_FLAG_END_STREAM) !== 0 || headers["grpc-status"] !== undefined) onStatus(headers);
      else if (!isGrpcContentType(headers["content-type"])) end(StatusCode.UNKNOWN, `content-type ${String(headers["content-type"])}`);
    });
    stream.on("data", (chunk: Buffer) => {
      if (ended) return;
      try {
        decoder.push(chunk, (message) => {
          const status = decodeServingStatus(message);
          answered = true;
          this.backoff.reset();
          if (this.stream !== stream) return;
          if (status === SERVING) this.set(ConnectivityState.READY, undefined);
          else this.set(ConnectivityState.TRANSIENT_FAILURE, `health check: service "${service}" is ${servingStatusName(status)}`);
        });
      } catch (err) {
        end(StatusCode.INTERNAL, `bad response: ${(err as Error).message}`);
      }
    });
    stream.on("trailers", onStatus);
    stream.on("close", () => end(StatusCode.UNAVAILABLE, `stream closed (rst ${stream.rstCode})`));
    stream.on("error", ignore);
    stream.end(frameMessage(encodeHealthCheckRequest(service)));
  }

  /** The Watch stream ended while the connection may still be up. */
  private failed(service: string, code: StatusCode, details: string, answered: boolean): void {
    if (this.connection.state !== ConnectivityState.READY || this.serviceName !== service) return;
    if (code === StatusCode.UNIMPLEMENTED) {
      logError(`health checking: the server at ${this.target.authority} has no grpc.health.v1.Health/Watch (UNIMPLEMENTED); treating it as healthy`);
      this.set(ConnectivityState.READY, undefined);
      return;
    }
    trace("health", () => `Watch(${JSON.stringify(service)}) ended with ${StatusCode[code] ?? code}: ${details}`);
    // After an answer the server was fine a moment ago: retry at once, keeping the last
    // status (as gRPC core does); otherwise back off, unhealthy meanwhile.
    let delay = 0;
    if (!answered) {
      delay = this.backoff.next();
      this.set(ConnectivityState.TRANSIENT_FAILURE, `health check failed: ${StatusCode[code] ?? code}${details ? ` (${details})` : ""}; will retry`);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.connection.state === ConnectivityState.READY && this.serviceName === service) this.open(service);
    }, delay);
    this.retryTimer.unref();
  }

  private set(state: ConnectivityState, problem: string | undefined): void {
    this.problem = state === ConnectivityState.TRANSIENT_FAILURE ? problem : undefined;
    if (state === this.state) return;
    this.state = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}

function servingStatusName(status: number): string {
  return ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"][status] ?? `status ${status}`;
}

function ignore(): void {}
