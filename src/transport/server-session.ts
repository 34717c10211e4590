// One accepted HTTP/2 connection on the server and the limits gRPC puts on it:
// keepalive pings, ping strikes, max idle time, max age (+ grace). Every timer here is
// unref'd and cleared when the session closes.
import type { ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { ConnectionAge } from "./connection-age.js";
import type { ConnectionObserver } from "./instrumentation.js";
import { IdleTimer } from "./connection-idle.js";
import { KeepalivePinger } from "./keepalive.js";
import {
  numberOption,
  OPT_KEEPALIVE_TIME_MS,
  OPT_KEEPALIVE_TIMEOUT_MS,
  OPT_MAX_CONNECTION_AGE_GRACE_MS,
  OPT_MAX_CONNECTION_AGE_MS,
  OPT_MAX_CONNECTION_IDLE_MS,
  type ChannelOptions,
} from "./options.js";
import { pingPolicyFrom, PingStrikes, type PingPolicy } from "./ping-strikes.js";
import { trace } from "./trace.js";
import { http2Constants } from "./http2-constants.js";

/** gRPC core's server defaults: a keepalive ping every 2 hours, 20 s to answer. */
export const DEFAULT_SERVER_KEEPALIVE_TIME_MS = 2 * 60 * 60_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

export interface ServerSessionPolicy {
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  ping: PingPolicy;
  /** Infinity: no limit. */
  maxIdleMs: number;
  maxAgeMs: number;
  maxAgeGraceMs: number;
}

/** Reads the server's connection options once (throws on a malformed number). */
export function serverSessionPolicyFrom(options: ChannelOptions): ServerSessionPolicy {
  const unlimited = (key: string) => {
    const n = numberOption(options, key, Number.POSITIVE_INFINITY);
    // gRPC core: INT_MAX (or anything not positive) means "no limit".
    return n > 0 && n < 2 ** 31 - 1 ? n : Number.POSITIVE_INFINITY;
  };
  return {
    keepaliveTimeMs: numberOption(options, OPT_KEEPALIVE_TIME_MS, DEFAULT_SERVER_KEEPALIVE_TIME_MS),
    keepaliveTimeoutMs: numberOption(options, OPT_KEEPALIVE_TIMEOUT_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS),
    ping: pingPolicyFrom(options),
    maxIdleMs: unlimited(OPT_MAX_CONNECTION_IDLE_MS),
    maxAgeMs: unlimited(OPT_MAX_CONNECTION_AGE_MS),
    maxAgeGraceMs: unlimited(OPT_MAX_CONNECTION_AGE_GRACE_MS),
  };
}

// Each stream knows its session, so that one shared 'close' listener serves them all.
const SESSION = Symbol("async-grpc.serverSession");
type StreamOfSession = ServerHttp2Stream & { [SESSION]?: ServerSession };

function onStreamClose(this: StreamOfSession): void {
  this[SESSION]?.streamClosed(this);
}

// Node's writable high-water mark (16 KiB) makes a stream that writes large messages
// wait for 'drain' after every one, a turn of the event loop per message with nothing
// queued behind it (measured on server-streaming 64 KiB: four times the server CPU per
// message, a seventh of the throughput). A stream may queue more than that while the
// connection's budget, shared by its open streams, has room: at most this much per
// connection...
const SESSION_WRITE_BUDGET_BYTES = 4 * 1024 * 1024;
// ...and this much per stream.
const STREAM_WRITE_BUDGET_BYTES = 1024 * 1024;

/**
 * How many bytes a server stream may have queued in Node before its writer waits for
 * 'drain': a share of its connection's write budget.
 */
export function streamWriteBudget(stream: ServerHttp2Stream): number {
  const session = (stream as StreamOfSession)[SESSION];
  if (session === undefined || session.activeStreams === 0) return 0;
  return Math.min(STREAM_WRITE_BUDGET_BYTES, SESSION_WRITE_BUDGET_BYTES / session.activeStreams);
}

export class ServerSession {
  /** Streams (calls) open on the connection now. */
  activeStreams = 0;
  private readonly keepalive: KeepalivePinger;
  private readonly idle: IdleTimer;
  private readonly age: ConnectionAge;

  constructor(
    readonly session: ServerHttp2Session,
    policy: ServerSessionPolicy,
    /** Instrumentation of this connection (a channelz socket), if any. */
    readonly observer?: ConnectionObserver,
  ) {
    // As in gRPC core, grpc.keepalive_permit_without_calls governs the server's own pings
    // as well as the ones it tolerates.
    this.keepalive = new KeepalivePinger(session, {
      intervalMs: policy.keepaliveTimeMs,
      timeoutMs: policy.keepaliveTimeoutMs,
      shouldPing: () => this.activeStreams > 0 || policy.ping.permitWithoutCalls,
    });
    new PingStrikes(session, {
      policy: policy.ping,
      activeStreams: () => this.activeStreams,
      pingsSent: () => this.keepalive.sent,
      onAbuse: () => {
        trace("server", () => "too many pings from the client: GOAWAY ENHANCE_YOUR_CALM");
        // Let the GOAWAY leave first; destroy() then closes every stream (as gRPC core does).
        setImmediate(() => session.destroy());
      },
    });
    this.idle = new IdleTimer(policy.maxIdleMs, () => {
      trace("server", () => `connection idle for ${policy.maxIdleMs} ms: GOAWAY`);
      this.close();
    });
    this.age = new ConnectionAge({
      ageMs: policy.maxAgeMs,
      graceMs: policy.maxAgeGraceMs,
      onAge: () => {
        trace("server", () => `connection reached its maximum age: GOAWAY`);
        this.close();
      },
      onGraceOver: () => session.destroy(),
    });
    session.on("stream", (stream: ServerHttp2Stream) => {
      if (this.activeStreams++ === 0) this.idle.busy();
      (stream as StreamOfSession)[SESSION] = this;
      stream.on("close", onStreamClose);
      observer?.onStreamStarted?.();
    });
    session.once("close", () => this.dispose());
    if (observer?.onClose) session.once("close", () => observer.onClose!());
  }

  /** @internal One of the session's streams closed. */
  streamClosed(stream: ServerHttp2Stream): void {
    if (--this.activeStreams === 0) this.idle.idle();
    this.observer?.onStreamEnded?.(stream.rstCode === http2Constants.NGHTTP2_NO_ERROR);
  }

  /**
   * GOAWAY carrying the last stream the server processed (Node's `close()` sends it);
   * calls already open finish, then the connection closes.
   *
   * gRPC core drains in two steps (GOAWAY with stream id 2^31-1 and a PING, then the
   * real GOAWAY) so that streams the client sent before seeing the first GOAWAY are
   * still served. Node cannot: nghttp2 ignores every new stream once any GOAWAY is sent,
   * whatever its last-stream-id, and Node does not expose nghttp2's shutdown notice. A
   * stream caught in flight is therefore refused, and the client learns so exactly from
   * the last-stream-id (it may retry it transparently).
   */
  close(): void {
    if (this.session.closed || this.session.destroyed) return;
    this.session.close();
  }

  /** Keepalive pings sent on this connection. */
  get keepalivesSent(): number {
    return this.keepalive.sent;
  }

  dispose(): void {
    this.keepalive.stop();
    this.idle.dispose();
    this.age.dispose();
  }
}
