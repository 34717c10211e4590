import * as http2 from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders, SecureClientSessionOptions } from "node:http2";
import { Backoff } from "./backoff.js";
import { ConnectivityState } from "./connectivity-state.js";
import { flowControlFrom } from "./flow-control.js";
import {
  numberOption,
  OPT_INITIAL_RECONNECT_BACKOFF_MS,
  OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS,
  OPT_KEEPALIVE_TIME_MS,
  OPT_KEEPALIVE_TIMEOUT_MS,
  OPT_MAX_RECONNECT_BACKOFF_MS,
  OPT_MIN_RECONNECT_BACKOFF_MS,
  type ChannelOptions,
} from "./options.js";
import { trace } from "./trace.js";

/** Where a connection goes: a TCP host and port, or a unix socket path. */
export type SocketAddress = { host: string; port: number } | { path: string };

export interface ConnectionConfig {
  address: SocketAddress;
  /** `http:` or `https:` authority URL the session is opened with. */
  secure: boolean;
  /** TLS settings (ca, servername, ALPN...) merged into `http2.connect` options. */
  tls?: SecureClientSessionOptions;
  options: ChannelOptions;
}

type StateListener = (state: ConnectivityState) => void;

/**
 * One HTTP/2 connection to one address (gRPC's subchannel): connects when asked,
 * reports connectivity state, backs off between failed attempts, and hands out
 * streams while READY. A GOAWAY retires the session for new streams; calls already
 * on it finish there.
 */
export class ClientConnection {
  state = ConnectivityState.IDLE;
  /** Why the last attempt failed, for UNAVAILABLE details. */
  lastError: Error | undefined;
  private session: ClientHttp2Session | undefined;
  private readonly draining = new Set<ClientHttp2Session>();
  private readonly backoff: Backoff;
  private readonly listeners = new Set<StateListener>();
  private backoffTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private activeStreams = 0;
  private readonly keepaliveTimeMs: number;
  private readonly keepaliveTimeoutMs: number;
  private readonly keepaliveWithoutCalls: boolean;
  private readonly onStreamClose = (): void => {
    if (--this.activeStreams === 0) this.session?.unref();
  };

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
    this.keepaliveWithoutCalls = Boolean(o[OPT_KEEPALIVE_PERMIT_WITHOUT_CALLS]);
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
      // Connecting holds the process open (a call is waiting on it); an idle ready
      // connection does not, so a program that forgets close() still exits.
      if (this.activeStreams === 0) session.unref();
      this.setState(ConnectivityState.READY);
    });
    session.on("error", (err: Error) => {
      this.lastError = err;
      trace("connectivity", () => `session error: ${err.message}`);
    });
    session.once("goaway", () => this.retire(session));
    session.once("close", () => this.onSessionGone(session));
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

  /** Opens a stream on the ready session; the caller has checked `readySession`. */
  request(session: ClientHttp2Session, headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const stream = session.request(headers, { endStream: false });
    if (this.activeStreams++ === 0) session.ref();
    stream.once("close", this.onStreamClose);
    return stream;
  }

  /** Keeps the process alive through the current backoff (calls wait for the next attempt). */
  holdDuringBackoff(): void {
    this.backoffTimer?.ref();
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
    trace("connectivity", () => "received GOAWAY; new calls will use a new connection");
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
    if (this.keepaliveTimeMs <= 0) return;
    this.keepaliveTimer = setInterval(() => {
      if (this.activeStreams === 0 && !this.keepaliveWithoutCalls) return;
      const timeout = setTimeout(() => {
        this.lastError = new Error("Keepalive ping timed out");
        session.destroy(this.lastError);
      }, this.keepaliveTimeoutMs);
      timeout.unref();
      try {
        session.ping(() => clearTimeout(timeout));
      } catch {
        clearTimeout(timeout);
      }
    }, this.keepaliveTimeMs);
    this.keepaliveTimer.unref();
  }

  private stopKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  private setState(state: ConnectivityState): void {
    if (this.state === state || this.state === ConnectivityState.SHUTDOWN) return;
    this.state = state;
    trace("connectivity", () => `state ${ConnectivityState[state]}`);
    for (const listener of [...this.listeners]) listener(state);
  }
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function describe(address: SocketAddress): string {
  return "path" in address ? `unix:${address.path}` : `${bracket(address.host)}:${address.port}`;
}
