import * as http2 from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders, SecureClientSessionOptions } from "node:http2";
import { Backoff } from "./backoff.js";
import { IdleTimer } from "./connection-idle.js";
import { connectionInfo } from "./connection-info.js";
import { ConnectivityState } from "./connectivity-state.js";
import { flowControlFrom } from "./flow-control.js";
import { Http2ClientTransport } from "./http2-client-stream.js";
import type { ConnectionObserver, SubchannelObserver } from "./instrumentation.js";
import { KeepalivePinger } from "./keepalive.js";
import {
  booleanOption,
  numberOption,
  OPT_CLIENT_IDLE_TIMEOUT_MS,
  OPT_INITIAL_RECONNECT_BACKOFF_MS,
  OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS,
  OPT_KEEPALIVE_TIME_MS,
  OPT_KEEPALIVE_TIMEOUT_MS,
  OPT_MAX_RECONNECT_BACKOFF_MS,
  OPT_MIN_RECONNECT_BACKOFF_MS,
  type ChannelOptions,
} from "./options.js";
import { TOO_MANY_PINGS } from "./ping-strikes.js";
import { logError, trace } from "./trace.js";

/** gRPC's default: a channel without calls for 30 minutes lets its connection go. */
export const DEFAULT_CLIENT_IDLE_TIMEOUT_MS = 30 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where a connection goes: a TCP host and port, or a unix socket path. */
export type SocketAddress = { host: string; port: number } | { path: string };

export interface ConnectionConfig {
  address: SocketAddress;
  /** `http:` or `https:` authority URL the session is opened with. */
  secure: boolean;
  /** TLS settings (ca, servername, ALPN...) merged into `http2.connect` options. */
  tls?: SecureClientSessionOptions;
  options: ChannelOptions;
  /** Instrumentation of this connection and its sessions (channelz sockets), if any. */
  observer?: SubchannelObserver | undefined;
}

type StateListener = (state: ConnectivityState) => void;

/**
 * One HTTP/2 connection to one address (gRPC's subchannel): connects when asked,
 * reports connectivity state, backs off between failed attempts, and hands out
 * streams while READY. A GOAWAY retires the session for new streams; calls already
 * on it finish there. Each session holds the process open only while streams are
 * open on it; keepalive and idle timers never do.
 */
export class ClientConnection {
  state = ConnectivityState.IDLE;
  /** Why the last attempt failed, for UNAVAILABLE details. */
  lastError: Error | undefined;
  /** The keepalive interval; doubled each time a server answers GOAWAY "too_many_pings" (gRFC A8). */
  keepaliveTimeMs: number;
  private session: ClientHttp2Session | undefined;
  private transport: Http2ClientTransport | undefined;
  private readonly draining = new Set<ClientHttp2Session>();
  private readonly backoff: Backoff;
  private readonly listeners = new Set<StateListener>();
  private backoffTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private keepalive: KeepalivePinger | undefined;
  private idle: IdleTimer | undefined;
  /** Open streams per session (the current one and those draining after a GOAWAY). */
  private readonly streamCounts = new Map<ClientHttp2Session, number>();
  /** The last-stream-id of the GOAWAY each session received: streams above it were not processed. */
  private readonly goawayLastStreamIds = new WeakMap<ClientHttp2Session, number>();
  private readonly keepaliveTimeoutMs: number;
  private readonly keepaliveWithoutCalls: boolean;
  private readonly idleTimeoutMs: number;
  /** Each observed session's observer; undefined while nothing observes this connection. */
  private observers: WeakMap<ClientHttp2Session, ConnectionObserver> | undefined;

  constructor(private readonly config: ConnectionConfig) {
    const o = config.options;
    const initial = numberOption(o, OPT_INITIAL_RECONNECT_BACKOFF_MS, 1000);
    this.backoff = new Backoff({
      initialBackoffMs: Math.max(initial, numberOption(o, OPT_MIN_RECONNECT_BACKOFF_MS, 0)),
      maxBackoffMs: numberOption(o, OPT_MAX_RECONNECT_BACKOFF_MS, 120_000),
      minConnectTimeoutMs: numberOption(o, OPT_MIN_RECONNECT_BACKOFF_MS, 20_000),
    });
    this.keepaliveTimeMs = numberOption(o, OPT_KEEPALIVE_TIME_MS, 0);
    this.keepaliveTimeoutMs = numberOption(o, OPT_KEEPALIVE_TIMEOUT_MS, 20_000);
    this.keepaliveWithoutCalls = booleanOption(o, OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS, false);
    this.idleTimeoutMs = numberOption(o, OPT_CLIENT_IDLE_TIMEOUT_MS, DEFAULT_CLIENT_IDLE_TIMEOUT_MS);
  }

  /** Streams open on `session` now. */
  streamsOn(session: ClientHttp2Session): number {
    return this.streamCounts.get(session) ?? 0;
  }

  /**
   * The last-stream-id of the GOAWAY `session` received, if any. A stream with a higher
   * id was never processed by the server (Node closes it with REFUSED_STREAM), so a
   * call on it can be retried transparently.
   */
  goawayLastStreamId(session: ClientHttp2Session): number | undefined {
    return this.goawayLastStreamIds.get(session);
  }

  /** The instrumentation observer of `session`, if it is observed. */
  observerOf(session: ClientHttp2Session): ConnectionObserver | undefined {
    return this.observers?.get(session);
  }

  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts connecting if idle; a no-op in any other state. */
  connect(): void {
    if (this.state !== ConnectivityState.IDLE) return;
    this.setState(ConnectivityState.CONNECTING);
    const { address, secure, tls } = this.config;
    const flow = flowControlFrom(this.config.options, false);
    const authority = secure ? "https://localhost" : "http://localhost";
    const sessionOptions: SecureClientSessionOptions = {
      ...tls,
      settings: flow.settings,
      maxSessionMemory: flow.maxSessionMemoryMb,
      // Our calls already bound what they hold; a low default here would refuse streams.
      maxOutstandingPings: 2,
    };
    // We make the socket ourselves so that its 'close' is seen: Node's session can be
    // destroyed by a TLS alert after the handshake without emitting 'close' itself.
    let socket: Socket | undefined;
    sessionOptions.createConnection = () => {
      const where = "path" in address ? { path: address.path } : { host: address.host, port: address.port };
      socket = secure ? tlsConnect({ ...tls, ...where, ALPNProtocols: ["h2"] }) : netConnect(where);
      socket.setNoDelay?.(true);
      return socket;
    };
    let session: ClientHttp2Session;
    try {
      session = http2.connect(
        "path" in address ? authority : `${secure ? "https" : "http"}://${bracket(address.host)}:${address.port}`,
        sessionOptions,
      );
    } catch (err) {
      this.onConnectFailed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    socket?.once("close", () => this.onSessionGone(session));
    socket?.once("error", (err: Error) => {
      this.lastError = err;
      socket!.destroy();
      this.onSessionGone(session);
    });
    this.session = session;
    trace("connectivity", () => `connecting to ${describe(address)}`);
    this.connectTimer = setTimeout(() => {
      if (this.session === session && this.state === ConnectivityState.CONNECTING) {
        session.destroy(new Error(`Connection attempt timed out after ${this.backoff.minConnectTimeoutMs} ms`));
      }
    }, this.backoff.minConnectTimeoutMs);
    this.connectTimer.unref();
    session.once("remoteSettings", () => {
      if (this.session !== session) return;
      clearTimeout(this.connectTimer);
      try {
        session.setLocalWindowSize(flow.connectionWindowBytes);
      } catch {
        // The window is an optimisation; an older peer refusing it is not fatal.
      }
      this.backoff.reset();
      this.lastError = undefined;
      this.startKeepalive(session);
      if (this.config.observer?.onConnection) this.observe(session);
      this.idle = new IdleTimer(this.idleTimeoutMs, () => this.onIdleTimeout(session));
      // Connecting holds the process open (a call is waiting on it); an idle ready
      // connection does not, so a program that forgets close() still exits.
      session.unref();
      this.setState(ConnectivityState.READY);
    });
    session.on("error", (err: Error) => {
      this.lastError = err;
      trace("connectivity", () => `session error: ${err.message}`);
    });
    session.on("goaway", (code: number, lastStreamId: number, data?: Buffer) => this.onGoaway(session, code, lastStreamId, data));
    session.once("close", () => this.onSessionGone(session));
  }

  private observe(session: ClientHttp2Session): void {
    const pinger = this.keepalive;
    const observer = this.config.observer!.onConnection!(connectionInfo(session, "client", () => pinger?.sent ?? 0));
    if (observer === undefined) return;
    (this.observers ??= new WeakMap()).set(session, observer);
    session.once("close", () => observer.onClose?.());
  }

  private onGoaway(session: ClientHttp2Session, code: number, lastStreamId: number, data: Buffer | undefined): void {
    const previous = this.goawayLastStreamIds.get(session);
    this.goawayLastStreamIds.set(session, previous === undefined ? lastStreamId : Math.min(previous, lastStreamId));
    if (code === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM && data?.toString() === TOO_MANY_PINGS && this.session === session) {
      // gRFC A8: the server thinks we ping too often. Ping half as often from now on,
      // for this channel; the next connection starts with the new interval.
      const doubled = Math.min(this.keepaliveTimeMs * 2, MAX_TIMER_MS);
      logError(`Received GOAWAY ENHANCE_YOUR_CALM "too_many_pings"; keepalive time ${this.keepaliveTimeMs} ms -> ${doubled} ms`);
      this.keepaliveTimeMs = doubled;
    }
    this.retire(session);
  }

  private onSessionGone(session: ClientHttp2Session): void {
    this.draining.delete(session);
    if (this.session !== session) return;
    this.session = undefined;
    if (!session.destroyed) session.destroy();
    clearTimeout(this.connectTimer);
    this.stopKeepalive();
    if (this.state === ConnectivityState.CONNECTING) {
      this.onConnectFailed(this.lastError ?? new Error("Connection closed before HTTP/2 settings were received"));
    } else if (this.state === ConnectivityState.READY) {
      this.setState(ConnectivityState.IDLE);
    }
  }

  /** The session to open a stream on, if READY. */
  get readySession(): ClientHttp2Session | undefined {
    return this.state === ConnectivityState.READY ? this.session : undefined;
  }

  /** The ready session as calls open streams on it, if READY. */
  get readyTransport(): Http2ClientTransport | undefined {
    const session = this.readySession;
    if (session === undefined) return undefined;
    let transport = this.transport;
    if (transport?.session !== session) this.transport = transport = new Http2ClientTransport(this, session);
    return transport;
  }

  /** Opens a stream on `session` (a call's, through its `Http2ClientTransport`, which reports its close). */
  request(session: ClientHttp2Session, headers: OutgoingHttpHeaders): ClientHttp2Stream {
    // No options: a POST's stream stays open by default, and an options object of
    // ours cost a tenth of the client's HTTP/2 time in Node's priority-options
    // validation (a new hidden class per call from the spread copy it makes).
    const stream = session.request(headers);
    const count = this.streamsOn(session);
    this.streamCounts.set(session, count + 1);
    if (count === 0) {
      session.ref();
      if (session === this.session) this.idle?.busy();
    }
    this.observers?.get(session)?.onStreamStarted?.();
    return stream;
  }

  /** @internal A stream of `session` (its own: it may be retired, draining, by now) closed. */
  streamClosed(session: ClientHttp2Session, stream: ClientHttp2Stream): void {
    this.observers?.get(session)?.onStreamEnded?.(stream.rstCode === http2.constants.NGHTTP2_NO_ERROR);
    const count = this.streamsOn(session) - 1;
    if (count > 0) {
      this.streamCounts.set(session, count);
      return;
    }
    this.streamCounts.delete(session);
    if (!session.destroyed) session.unref();
    if (session === this.session) this.idle?.idle();
  }

  /** grpc.client_idle_timeout_ms passed without a call: let the connection go, back to IDLE. */
  private onIdleTimeout(session: ClientHttp2Session): void {
    if (this.session !== session || this.streamsOn(session) > 0) return;
    trace("connectivity", () => `no calls for ${this.idleTimeoutMs} ms; closing the connection`);
    this.retire(session);
  }

  /** Keeps the process alive through the current backoff (calls wait for the next attempt). */
  holdDuringBackoff(): void {
    this.backoffTimer?.ref();
  }

  /** Ends the current backoff: a connection waiting to retry goes IDLE at once. */
  resetBackoff(): void {
    this.backoff.reset();
    if (this.state !== ConnectivityState.TRANSIENT_FAILURE) return;
    clearTimeout(this.backoffTimer);
    this.setState(ConnectivityState.IDLE);
  }

  /**
   * SHUTDOWN for new calls, while the calls already on the connection finish there
   * (its address left the channel's address list).
   */
  shutdownGracefully(): void {
    clearTimeout(this.backoffTimer);
    clearTimeout(this.connectTimer);
    this.stopKeepalive();
    const session = this.session;
    this.session = undefined;
    const connecting = this.state === ConnectivityState.CONNECTING;
    this.setState(ConnectivityState.SHUTDOWN);
    if (session === undefined) return;
    if (connecting) {
      session.destroy();
      return;
    }
    this.draining.add(session);
    session.close();
  }

  /** Closes everything; calls still open on the connection end with UNAVAILABLE/CANCELLED. */
  close(): void {
    clearTimeout(this.backoffTimer);
    clearTimeout(this.connectTimer);
    this.stopKeepalive();
    this.setState(ConnectivityState.SHUTDOWN);
    const session = this.session;
    this.session = undefined;
    session?.destroy();
    for (const s of this.draining) s.destroy();
    this.draining.clear();
  }

  private retire(session: ClientHttp2Session): void {
    if (this.session !== session) return;
    trace("connectivity", () => "connection retired (GOAWAY or idle); new calls will use a new connection");
    this.session = undefined;
    this.stopKeepalive();
    this.draining.add(session);
    // Node closes the session once its last stream ends.
    session.close();
    if (this.state !== ConnectivityState.SHUTDOWN) this.setState(ConnectivityState.IDLE);
  }

  private onConnectFailed(err: Error): void {
    this.lastError = err;
    trace("connectivity", () => `connect failed: ${err.message}`);
    this.setState(ConnectivityState.TRANSIENT_FAILURE);
    const delay = this.backoff.next();
    this.backoffTimer = setTimeout(() => {
      if (this.state === ConnectivityState.TRANSIENT_FAILURE) this.setState(ConnectivityState.IDLE);
    }, delay);
    this.backoffTimer.unref();
  }

  private startKeepalive(session: ClientHttp2Session): void {
    this.keepalive = new KeepalivePinger(session, {
      intervalMs: this.keepaliveTimeMs,
      timeoutMs: this.keepaliveTimeoutMs,
      shouldPing: () => this.keepaliveWithoutCalls || this.streamsOn(session) > 0,
      onTimeout: (err) => {
        if (this.session === session) this.lastError = err;
      },
    });
  }

  /** Stops keepalive and the idle timer of the current session. */
  private stopKeepalive(): void {
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.idle?.dispose();
    this.idle = undefined;
  }

  private setState(state: ConnectivityState): void {
    if (this.state === state || this.state === ConnectivityState.SHUTDOWN) return;
    this.state = state;
    trace("connectivity", () => `state ${ConnectivityState[state]}`);
    this.config.observer?.onStateChange?.(state);
    for (const listener of [...this.listeners]) listener(state);
  }
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function describe(address: SocketAddress): string {
  return "path" in address ? `unix:${address.path}` : `${bracket(address.host)}:${address.port}`;
}
