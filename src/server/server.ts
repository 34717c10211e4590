import type { DescService } from "@bufbuild/protobuf";
import {
  DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
  logError,
  messageLimit,
  OPT_DEFAULT_COMPRESSION,
  OPT_MAX_RECEIVE_MESSAGE_LENGTH,
  OPT_MAX_SEND_MESSAGE_LENGTH,
  instrumented,
  observeServer,
  reportUnknownOptions,
  ServerListener,
  stringOption,
  systemClock,
  type ChannelOptions,
  type Clock,
  type ConnectionObserver,
  type IncomingHeaders,
  type InstrumentationPlugin,
  type OutgoingHeaders,
  type ServerStream,
  type ServerCallInfo,
  type ServerObserver,
} from "../transport/index.js";
import {
  ACCEPT_ENCODING_HEADER,
  encodeStatusMessage,
  getCompressor,
  isGrpcContentType,
  Metadata,
  parseTimeout,
  RpcError,
  UsageError,
  StatusCode,
  type Compressor,
} from "../wire/index.js";
import { authContextOf, type ServerCredentials } from "../credentials/index.js";
import type { Continuation, ServerInterceptor } from "./interceptor.js";
import { MethodHandlersGenericHandler, type GenericRpcHandler, type HandlerCallDetails, type RpcMethodHandler } from "./method-handlers.js";
import { ServerCall, type CallServer } from "./server-call.js";
import { handlersForService, type ServiceImplementation } from "./service-implementation.js";

/** Options of `createServer` (gRPC Python `grpc.aio.server()` keyword arguments). */
export interface ServerConfig {
  /** gRPC channel arguments, e.g. `{"grpc.max_receive_message_length": 8 << 20}`. */
  options?: ChannelOptions;
  interceptors?: readonly ServerInterceptor[];
  /** Default response compression, used when the client accepts it. */
  compression?: string;
  /** Calls beyond this many at once get RESOURCE_EXHAUSTED (gRPC Python `maximum_concurrent_rpcs`). */
  maximumConcurrentRpcs?: number;
  /** Instrumentation for this server only (an OpenTelemetry plugin, say), besides those registered for every server. */
  instrumentation?: readonly InstrumentationPlugin[];
  /**
   * What call deadlines are measured on: the received `grpc-timeout`, `timeRemaining()`,
   * `context.signal` and DEADLINE_EXCEEDED. The system clock by default; async-grpc/testing
   * passes a fake one.
   */
  clock?: Clock;
}

const COMPRESSION_BY_NUMBER: Record<string, string> = { "0": "identity", "1": "deflate", "2": "gzip" };
type State = "new" | "started" | "stopping" | "stopped";
// How long stop() lets sessions whose calls are over flush and close before destroying them.
const SESSION_CLOSE_BOUND_MS = 1000;

/**
 * A gRPC server (gRPC Python `grpc.aio.Server`): register services, bind ports,
 * `start()`, and `stop(grace)` to drain.
 */
export class Server implements CallServer {
  readonly maxReceiveMessageLength: number;
  readonly maxSendMessageLength: number;
  readonly defaultCompression: Compressor | undefined;
  readonly clock: Clock;
  private readonly options: ChannelOptions;
  private readonly interceptors: readonly ServerInterceptor[];
  private readonly maxConcurrent: number;
  private readonly instrumentation: readonly InstrumentationPlugin[] | undefined;
  private readonly handlers = new Map<string, RpcMethodHandler>();
  private readonly generic: GenericRpcHandler[] = [];
  private readonly listeners: ServerListener[] = [];
  private readonly calls = new Set<ServerCall>();
  private intercepting = 0;
  private state: State = "new";
  private stopped: Promise<void> | undefined;
  /** Run (and cleared) when the last call in flight ends. */
  private drainWaiters: (() => void)[] = [];
  /** When the grace of stop() runs out (epoch ms); a later stop() may only bring it closer. */
  private graceEndsAt = Number.POSITIVE_INFINITY;
  private graceTimer: NodeJS.Timeout | undefined;
  private onGraceOver: (() => void) | undefined;
  private terminationWaiters: (() => void)[] = [];
  private readonly services = new Map<string, DescService | undefined>();
  private stopCallbacks: (() => void)[] | undefined;
  // Asked for at the first bind, so that instrumentation enabled after createServer()
  // (addAdminServicers, say) still sees the server.
  private observer: ServerObserver | undefined;
  private observed = false;

  /** @internal Use `createServer()`. */
  constructor(config: ServerConfig = {}) {
    const options = config.options ?? {};
    reportUnknownOptions(options, "server");
    this.options = options;
    this.interceptors = config.interceptors ?? [];
    this.maxConcurrent = config.maximumConcurrentRpcs ?? Number.POSITIVE_INFINITY;
    this.instrumentation = config.instrumentation;
    this.clock = config.clock ?? systemClock;
    this.maxReceiveMessageLength = messageLimit(options, OPT_MAX_RECEIVE_MESSAGE_LENGTH, DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH);
    this.maxSendMessageLength = messageLimit(options, OPT_MAX_SEND_MESSAGE_LENGTH, -1);
    const compression = config.compression ?? COMPRESSION_BY_NUMBER[String(options[OPT_DEFAULT_COMPRESSION])] ?? stringOption(options, OPT_DEFAULT_COMPRESSION);
    if (compression !== undefined) {
      const c = getCompressor(compression);
      if (!c) throw new TypeError(`Unsupported compression ${compression}`);
      this.defaultCompression = c.name === "identity" ? undefined : c;
    }
  }

  /** Serves a protoc-gen-es service with `implementation` (gRPC Python `add_<Service>Servicer_to_server`). */
  addService<S extends DescService>(service: S, implementation: ServiceImplementation<S>): void {
    this.addRegisteredMethodHandlers(service.typeName, handlersForService(service, implementation));
    this.services.set(service.typeName, service);
  }

  /** Adds handlers consulted in order for every call (gRPC Python `add_generic_rpc_handlers()`). */
  addGenericRpcHandlers(handlers: readonly GenericRpcHandler[]): void {
    this.assertNotStarted();
    for (const handler of handlers) {
      if (handler instanceof MethodHandlersGenericHandler) {
        for (const [path, h] of handler.handlers) this.handlers.set(path, h);
      } else {
        this.generic.push(handler);
      }
    }
  }

  /** Registers one service's handlers by method name (gRPC Python `add_registered_method_handlers()`). */
  addRegisteredMethodHandlers(serviceName: string, methodHandlers: Readonly<Record<string, RpcMethodHandler>>): void {
    this.addGenericRpcHandlers([new MethodHandlersGenericHandler(serviceName, methodHandlers)]);
    if (!this.services.has(serviceName)) this.services.set(serviceName, undefined);
  }

  /**
   * The services registered so far, by full name, with their descriptor where one is
   * known (`addService`; `addRegisteredMethodHandlers` knows only the name). Other
   * generic handlers are not listed: they may serve anything. What companions such as
   * reflection serve (grpc-go `GetServiceInfo()`; gRPC Python has the user pass
   * `SERVICE_NAMES` instead).
   */
  registeredServices(): ReadonlyMap<string, DescService | undefined> {
    return new Map(this.services);
  }

  /**
   * Runs `callback` once, when `stop()` is first called and before the server stops
   * taking calls, so that a health service can report NOT_SERVING to its watchers
   * while connections still drain. Like `addDoneCallback()` on a call; gRPC Python has
   * no equivalent (its users call `enter_graceful_shutdown()` themselves).
   */
  addStopCallback(callback: () => void): void {
    if (this.stopped) callback();
    else (this.stopCallbacks ??= []).push(callback);
  }

  /**
   * Binds a plaintext port and resolves to its number (gRPC Python
   * `add_insecure_port()`, asynchronous because Node binds asynchronously).
   * `host:0` picks a free port; `localhost` binds IPv4 and IPv6; `unix:path` a socket.
   */
  addInsecurePort(address: string): Promise<number> {
    return this.bind(address, undefined);
  }

  /**
   * Binds a port secured by `credentials` (TLS with ALPN h2, or local-only) and
   * resolves to its number (gRPC Python `add_secure_port()`).
   */
  addSecurePort(address: string, credentials: ServerCredentials): Promise<number> {
    return this.bind(address, credentials);
  }

  private async bind(address: string, credentials: ServerCredentials | undefined): Promise<number> {
    if (this.state === "stopping" || this.state === "stopped") throw new Error("The server is stopped");
    if (!this.observed) {
      this.observed = true;
      const local = this.instrumentation;
      if (instrumented() || local !== undefined) this.observer = observeServer({ options: this.options, listenAddresses: () => this.listeners.flatMap((l) => l.addresses()) }, local);
    }
    const { listener, port } = await ServerListener.bind(address, {
      options: this.options,
      tls: credentials?.tls,
      refreshTls: credentials?.refreshTls,
      admit: credentials && ((session) => credentials.admit(session)),
      onStream: (stream, headers, rawHeaders, connection) => this.acceptStream(stream, headers, rawHeaders, connection),
      observer: this.observer,
    });
    this.listeners.push(listener);
    return port;
  }

  /** Starts serving the bound ports (gRPC Python `start()`). */
  async start(): Promise<void> {
    if (this.state !== "new") throw new UsageError(`Cannot start a server that is ${this.state}: start() is called once, after the handlers and ports are added`);
    this.state = "started";
  }

  /**
   * Stops the server (gRPC Python `stop(grace)`): GOAWAY at once so no new calls
   * arrive; calls in flight may finish for `graceSeconds`, then are cancelled.
   * `null` or 0 cancels them at once. Resolves when every connection is closed.
   * Called again while stopping, the shorter remaining grace wins (`stop(30)` then
   * `stop(0)` cancels at once); every call returns the same promise.
   */
  stop(graceSeconds: number | null = null): Promise<void> {
    this.shortenGrace(Date.now() + Math.max(0, (graceSeconds ?? 0) * 1000));
    const callbacks = this.stopped ? undefined : this.stopCallbacks;
    this.stopCallbacks = undefined;
    for (const callback of callbacks ?? []) {
      try {
        callback();
      } catch (err) {
        logError("Exception in a stop callback", err);
      }
    }
    // A callback may have called stop() itself.
    if (!this.stopped) {
      this.state = "stopping";
      this.stopped = this.drain();
    }
    return this.stopped;
  }

  private async drain(): Promise<void> {
    for (const listener of this.listeners) listener.drain();
    if (this.calls.size > 0 && this.graceEndsAt > Date.now()) {
      await new Promise<void>((resolve) => {
        const over = () => {
          clearTimeout(this.graceTimer);
          this.graceTimer = undefined;
          this.onGraceOver = undefined;
          resolve();
        };
        this.onGraceOver = over;
        this.drainWaiters.push(over);
        this.armGraceTimer();
      });
    }
    await this.abortCalls();
    await Promise.all(this.listeners.map((l) => l.closed()));
    this.state = "stopped";
    this.observer?.onStop?.();
    for (const w of this.terminationWaiters) w();
    this.terminationWaiters = [];
  }

  private shortenGrace(endsAt: number): void {
    if (endsAt >= this.graceEndsAt) return;
    this.graceEndsAt = endsAt;
    if (this.onGraceOver) this.armGraceTimer();
  }

  // Ref'd on purpose: it runs only while calls are in flight, and the promise of stop()
  // must settle even if nothing else holds the process open.
  private armGraceTimer(): void {
    clearTimeout(this.graceTimer);
    const over = this.onGraceOver;
    this.graceTimer = setTimeout(() => over?.(), Math.max(0, this.graceEndsAt - Date.now()));
  }

  /** Ends every call with UNAVAILABLE, gives the trailers a moment to leave, then closes every connection. */
  private async abortCalls(): Promise<void> {
    for (const call of [...this.calls]) call.shutdown();
    await this.callsDrained(500);
    // A stream counts as closed once its last frame is queued, not once it is on the
    // socket, and destroying a session drops what is still queued (raw node:http2:
    // close(), then destroy() as the last of 200 streams closes, loses 137 of the 200
    // responses). drain() closed the sessions, so Node ends each once it has flushed;
    // only what is still open after a bound is destroyed.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.listeners.map((l) => l.closed())),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, SESSION_CLOSE_BOUND_MS))),
    ]);
    clearTimeout(timer);
    for (const listener of this.listeners) listener.destroy();
  }

  /** Resolves once no call is in flight, or after `timeoutMs`. */
  private callsDrained(timeoutMs: number): Promise<void> {
    if (this.calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== done);
        resolve();
      }, timeoutMs);
      this.drainWaiters.push(done);
    });
  }

  /**
   * Resolves when the server has stopped, or after `timeoutSeconds`; true means the
   * timeout came first (gRPC Python `wait_for_termination()`).
   */
  waitForTermination(timeoutSeconds?: number): Promise<boolean> {
    if (this.state === "stopped") return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        resolve(false);
      };
      this.terminationWaiters.push(done);
      if (timeoutSeconds !== undefined) {
        timer = setTimeout(() => {
          this.terminationWaiters = this.terminationWaiters.filter((w) => w !== done);
          resolve(true);
        }, timeoutSeconds * 1000);
      }
    });
  }

  /** @internal */
  callEnded(call: ServerCall): void {
    this.calls.delete(call);
    if (this.calls.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  private assertNotStarted(): void {
    if (this.state !== "new") throw new UsageError("Handlers must be added before the server starts: add them, then call start()");
  }

  // ---- dispatch ----------------------------------------------------------------------

  /**
   * Serves one stream that a transport accepted: the seam through which HTTP/2 ports,
   * the in-process transport of `async-grpc/testing` and any other transport hand calls
   * to the server. `headers` and `rawHeaders` are the request's header block (as an
   * object and as a flat `[name, value, ...]` list); the server checks them as it
   * checks HTTP/2 requests (method, content-type, `te`, `grpc-timeout`,
   * `grpc-encoding`) and answers on `stream`. `connection` is the instrumentation
   * observer of the stream's connection, if the transport has one. The server must be
   * started: before `start()` and after `stop()` the call is answered UNAVAILABLE.
   * gRPC Python has no equivalent (grpc-java's `ServerTransportListener.transportCreated`
   * is the nearest).
   */
  acceptStream(stream: ServerStream, headers: IncomingHeaders, rawHeaders: string[], connection?: ConnectionObserver): void {
    if (headers[":method"] !== "POST") {
      respondHttp(stream, 405, { allow: "POST" });
      return;
    }
    const contentType = headers["content-type"];
    if (!isGrpcContentType(contentType)) {
      respondHttp(stream, 415, {});
      return;
    }
    if (this.state !== "started") {
      this.refuse(stream, headers, connection, StatusCode.UNAVAILABLE, this.state === "new" ? "Server not started" : "Server shutting down");
      return;
    }
    if (headers["te"] !== "trailers") {
      this.refuse(stream, headers, connection, StatusCode.INTERNAL, `Expected header te: trailers, got ${String(headers["te"])}; a proxy may not support trailers`);
      return;
    }
    let deadline: number | undefined;
    const timeout = headers["grpc-timeout"];
    if (timeout !== undefined) {
      const ms = typeof timeout === "string" ? parseTimeout(timeout) : undefined;
      if (ms === undefined) {
        this.refuse(stream, headers, connection, StatusCode.INTERNAL, `Invalid grpc-timeout: ${String(timeout)}`);
        return;
      }
      deadline = this.clock.now() + ms;
    }
    let decompressor: Compressor | undefined;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      decompressor = typeof encoding === "string" ? getCompressor(encoding) : undefined;
      if (decompressor === undefined) {
        this.refuse(stream, headers, connection, StatusCode.UNIMPLEMENTED, `Message encoding ${String(encoding)} is not supported`);
        return;
      }
    }
    // Calls still inside the interceptors count too, or their async gap would let
    // more than the limit through.
    if (this.calls.size + this.intercepting >= this.maxConcurrent) {
      this.refuse(stream, headers, connection, StatusCode.RESOURCE_EXHAUSTED, "Concurrent RPC limit exceeded");
      return;
    }
    const path = headers[":path"] ?? "";
    if (this.interceptors.length === 0) {
      const handler = this.handlers.get(path) ?? this.lookupGeneric(path, rawHeaders);
      this.dispatch(stream, headers, rawHeaders, handler, deadline, decompressor, connection);
      return;
    }
    const details: HandlerCallDetails = { method: path, invocationMetadata: Metadata.fromRawHeaders(rawHeaders), authContext: authContextOf(stream.authContext()) };
    this.intercepting++;
    let lookup: Promise<RpcMethodHandler | undefined>;
    try {
      lookup = this.intercepted()(details);
    } catch (err) {
      lookup = Promise.reject(err);
    }
    lookup
      .then(
        (handler) => {
          this.intercepting--;
          this.dispatch(stream, headers, rawHeaders, handler, deadline, decompressor, connection);
        },
        (err: unknown) => {
          this.intercepting--;
          const e = err instanceof RpcError ? err : undefined;
          if (!e) logError(`Exception in a server interceptor for ${path}`, err);
          this.refuse(stream, headers, connection, e?.code ?? StatusCode.UNKNOWN, e?.details ?? "Unexpected error in a server interceptor");
        },
      )
      .catch((err: unknown) => logError(`Failed to start a call to ${path}`, err));
  }

  /** Answers a call that reaches no handler with a status; instrumentation sees it start and end. */
  private refuse(stream: ServerStream, headers: IncomingHeaders, connection: ConnectionObserver | undefined, code: StatusCode, details: string): void {
    const path = headers[":path"] ?? "";
    this.observer?.onCallStarted?.(path, connection, new IncomingCall(headers, this.isRegistered(path)))?.onEnd?.(code, details);
    respondStatus(stream, code, details);
  }

  private dispatch(
    stream: ServerStream,
    headers: IncomingHeaders,
    rawHeaders: string[],
    handler: RpcMethodHandler | undefined,
    deadline: number | undefined,
    decompressor: Compressor | undefined,
    connection: ConnectionObserver | undefined,
  ): void {
    if (stream.closed) return;
    if (handler === undefined) {
      this.refuse(stream, headers, connection, StatusCode.UNIMPLEMENTED, `Method not found: ${headers[":path"] ?? ""}`);
      return;
    }
    const observer = this.observer?.onCallStarted?.(headers[":path"] ?? "", connection, new IncomingCall(headers, this.isRegistered(headers[":path"] ?? "")));
    this.calls.add(new ServerCall(this, stream, headers, rawHeaders, handler, deadline, decompressor, observer));
  }

  // Registered: added with addService() or addRegisteredMethodHandlers(); what generic
  // handlers serve (even method_handlers_generic_handler's) is not (gRPC Python's split).
  private isRegistered(path: string): boolean {
    return this.handlers.has(path) && this.services.has(path.slice(1, path.lastIndexOf("/")));
  }

  private lookupGeneric(path: string, rawHeaders: readonly string[]): RpcMethodHandler | undefined {
    if (this.generic.length === 0) return undefined;
    return this.findGeneric({ method: path, invocationMetadata: Metadata.fromRawHeaders(rawHeaders) });
  }

  private findGeneric(details: HandlerCallDetails): RpcMethodHandler | undefined {
    for (const g of this.generic) {
      const h = g.service(details);
      if (h !== undefined) return h;
    }
    return undefined;
  }

  private chain: Continuation | undefined;

  private intercepted(): Continuation {
    if (this.chain) return this.chain;
    let next: Continuation = async (details) => this.handlers.get(details.method) ?? this.findGeneric(details);
    for (let i = this.interceptors.length - 1; i >= 0; i--) {
      const interceptor = this.interceptors[i]!;
      const inner = next;
      next = (details) => interceptor.interceptService(inner, details);
    }
    return (this.chain = next);
  }
}

/** Creates a server (gRPC Python `grpc.aio.server()`). */
export function createServer(config?: ServerConfig): Server {
  return new Server(config);
}

/** What instrumentation may read of an incoming call. */
class IncomingCall implements ServerCallInfo {
  constructor(
    private readonly headers: IncomingHeaders,
    readonly registered: boolean,
  ) {}

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(",") : value;
  }
}

function respondStatus(stream: ServerStream, code: StatusCode, details: string): void {
  const headers: OutgoingHeaders = {
    ":status": 200,
    "content-type": "application/grpc",
    "grpc-status": String(code),
    "grpc-message": encodeStatusMessage(details),
  };
  if (code === StatusCode.UNIMPLEMENTED) headers["grpc-accept-encoding"] = ACCEPT_ENCODING_HEADER;
  stream.respond(headers);
}

function respondHttp(stream: ServerStream, status: number, extra: OutgoingHeaders): void {
  stream.respond({ ":status": status, ...extra });
}
