import * as http2 from "node:http2";
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, SecureServerOptions, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { isIP } from "node:net";
import type { SecureContextOptions } from "node:tls";
import { connectionInfo } from "./connection-info.js";
import { flowControlFrom } from "./flow-control.js";
import type { StreamAcceptor } from "./call-stream.js";
import { Http2ServerStream } from "./http2-server-stream.js";
import type { ServerObserver } from "./instrumentation.js";
import { numberOption, OPT_SERVER_HANDSHAKE_TIMEOUT_MS, type ChannelOptions } from "./options.js";
import { streamResetLimitsFrom } from "./rapid-reset.js";
import { ServerSession, serverSessionPolicyFrom, type ServerSessionPolicy } from "./server-session.js";
import { trace } from "./trace.js";

export interface ListenerConfig {
  options: ChannelOptions;
  /** TLS settings for a secure port; ALPN is fixed to h2. */
  tls?: SecureServerOptions;
  /** Asked before each new connection's TLS handshake: new certificates and CAs, or undefined to keep the current ones. */
  refreshTls?: () => SecureContextOptions | undefined;
  /** Decides whether to serve a connection just accepted (after its handshake); false closes it. */
  admit?: (session: ServerHttp2Session) => boolean;
  /** Where accepted streams go; `connection` is the instrumentation observer of the stream's connection, if it is observed. */
  onStream: StreamAcceptor;
  /** The server's instrumentation; each accepted connection is offered to it. */
  observer?: ServerObserver | undefined;
}

/** gRPC core's server handshake timeout. */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;

/** A parsed server address: one or more host/port pairs, or a unix socket. */
type BindTarget = { host: string; port: number } | { path: string };

/**
 * The sockets behind one `addInsecurePort`/`addSecurePort` call, and every HTTP/2
 * session accepted on them (each watched by a `ServerSession`: keepalive, ping strikes,
 * idle and age limits). Draining sends GOAWAY and lets streams finish; destroying closes
 * every session at once.
 */
export class ServerListener {
  private readonly servers: (Http2Server | Http2SecureServer)[] = [];
  private readonly sessions = new Map<ServerHttp2Session, ServerSession>();
  private readonly policy: ServerSessionPolicy;
  private readonly handshakeTimeoutMs: number;
  private closedCount = 0;
  private onAllClosed: (() => void) | undefined;

  private constructor(private readonly config: ListenerConfig) {
    this.policy = serverSessionPolicyFrom(config.options);
    this.handshakeTimeoutMs = numberOption(config.options, OPT_SERVER_HANDSHAKE_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS);
  }

  /** Binds `address` (gRPC form: `host:port`, `[v6]:port`, `unix:path`) and resolves the bound port. */
  static async bind(address: string, config: ListenerConfig): Promise<{ listener: ServerListener; port: number }> {
    const listener = new ServerListener(config);
    const targets = parseBindAddress(address);
    let port = 0;
    let firstError: unknown;
    for (const target of targets) {
      const wanted = "port" in target && port !== 0 ? { ...target, port } : target;
      try {
        const bound = await listener.listen(wanted);
        if (port === 0) port = bound;
      } catch (err) {
        // "localhost" binds both families; one of them missing is fine.
        firstError ??= err;
      }
    }
    if (listener.servers.length === 0) {
      throw new Error(`Failed to bind ${address}: ${firstError instanceof Error ? firstError.message : String(firstError)}`);
    }
    return { listener, port: targets.length > 0 && "path" in targets[0]! ? 1 : port };
  }

  private listen(target: BindTarget): Promise<number> {
    const { options, tls } = this.config;
    const flow = flowControlFrom(options, true);
    const common = { settings: flow.settings, maxSessionMemory: flow.maxSessionMemoryMb, ...streamResetLimitsFrom(options) };
    const server = tls
      ? http2.createSecureServer({
          ...tls,
          ...common,
          allowHTTP1: false,
          ALPNProtocols: ["h2"],
          handshakeTimeout: this.handshakeTimeoutMs,
        })
      : http2.createServer(common);
    const observed = this.config.observer?.onConnection !== undefined;
    server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
      this.config.onStream(new Http2ServerStream(stream), headers, rawHeaders, observed ? this.sessions.get(stream.session as ServerHttp2Session)?.observer : undefined),
    );
    server.on("session", (session: ServerHttp2Session) => this.adopt(session, flow.connectionWindowBytes));
    server.on("sessionError", (err: Error) => trace("server", () => `session error: ${err.message}`));
    if (tls) (server as Http2SecureServer).on("tlsClientError", (err: Error) => trace("server", () => `TLS error: ${err.message}`));
    const refresh = this.config.refreshTls;
    if (tls && refresh) {
      // Before Node's own listener wraps the socket in TLS with the current context.
      server.prependListener("connection", () => {
        const next = refresh();
        if (next !== undefined) (server as Http2SecureServer).setSecureContext(next);
      });
    }
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once("error", onError);
      const done = () => {
        server.off("error", onError);
        server.on("error", (err: Error) => trace("server", () => `listener error: ${err.message}`));
        this.servers.push(server);
        const addr = server.address();
        resolve(typeof addr === "object" && addr !== null ? addr.port : 1);
      };
      if ("path" in target) server.listen(target.path, done);
      else server.listen({ host: target.host, port: target.port }, done);
    });
  }

  private adopt(session: ServerHttp2Session, connectionWindow: number): void {
    if (this.config.admit !== undefined && !this.config.admit(session)) {
      trace("server", () => `connection from ${session.socket?.remoteAddress ?? "a unix socket"} refused by the port's credentials`);
      session.destroy();
      return;
    }
    // The info is made only if the server is observed (the arguments of a skipped ?.() call are not evaluated).
    let watched: ServerSession | undefined;
    const observer = this.config.observer?.onConnection?.(connectionInfo(session, "server", () => watched?.keepalivesSent ?? 0));
    watched = new ServerSession(session, this.policy, observer);
    this.sessions.set(session, watched);
    // The HTTP/2 handshake too: a client that never sends its preface and SETTINGS
    // (a silent or slow connection, TLS or not) is dropped, as gRPC core does.
    // Node emits 'session' before it reads anything from the connection, so the
    // client's SETTINGS are still to come.
    const timer = setTimeout(() => {
      trace("server", () => `no HTTP/2 SETTINGS from the client within ${this.handshakeTimeoutMs} ms: closing the connection`);
      session.destroy();
    }, this.handshakeTimeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    session.once("remoteSettings", clear);
    session.once("close", clear);
    session.on("error", (err: Error) => trace("server", () => `session error: ${err.message}`));
    session.once("close", () => this.sessions.delete(session));
    const setWindow = () => {
      try {
        session.setLocalWindowSize(connectionWindow);
      } catch {
        // An optimisation only.
      }
    };
    if (session.connecting) session.once("connect", setWindow);
    else setWindow();
  }

  /** The addresses the listening sockets are bound to. */
  addresses(): ({ address: string; port: number } | { path: string })[] {
    const out: ({ address: string; port: number } | { path: string })[] = [];
    for (const server of this.servers) {
      const addr = server.address();
      if (typeof addr === "string") out.push({ path: addr });
      else if (addr !== null) out.push({ address: addr.address, port: addr.port });
    }
    return out;
  }

  /** Stops accepting connections and sends GOAWAY on every session; streams in flight go on. */
  drain(): void {
    for (const server of this.servers) {
      server.close(() => {
        if (++this.closedCount === this.servers.length) this.onAllClosed?.();
      });
    }
    for (const session of this.sessions.values()) session.close();
  }

  /** Closes every session at once. */
  destroy(): void {
    for (const session of this.sessions.keys()) session.destroy();
  }

  /** Resolves once the listening sockets and every session are closed. */
  closed(): Promise<void> {
    if (this.closedCount === this.servers.length && this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.closedCount === this.servers.length && this.sessions.size === 0) resolve();
      };
      this.onAllClosed = check;
      for (const s of this.sessions.keys()) s.once("close", () => setImmediate(check));
      check();
    });
  }
}

function parseBindAddress(address: string): BindTarget[] {
  if (address.startsWith("unix:")) {
    const rest = address.slice(5);
    return [{ path: rest.startsWith("//") ? rest.slice(2) : rest }];
  }
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else {
    const i = address.lastIndexOf(":");
    if (i < 0) throw new Error(`Server address ${address} has no port`);
    host = address.slice(0, i);
    portText = address.slice(i + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`Invalid port in server address ${address}`);
  if (host === "" || host === "localhost") {
    if (host === "") return [{ host: "::", port }];
    return [
      { host: "127.0.0.1", port },
      { host: "::1", port },
    ];
  }
  if (isIP(host) === 0) throw new Error(`Server address ${address}: the host must be an IP address, "localhost" or empty`);
  return [{ host, port }];
}
