import {
  booleanOption,
  ClientConnection,
  ConnectivityState,
  DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
  DEFAULT_PER_RPC_RETRY_BUFFER_SIZE,
  DEFAULT_RETRY_BUFFER_SIZE,
  OPT_RETRY_BUFFER_SIZE,
  type ReplayBudget,
  logError,
  messageLimit,
  numberOption,
  OPT_DEFAULT_AUTHORITY,
  OPT_DEFAULT_COMPRESSION,
  OPT_ENABLE_RETRIES,
  OPT_INHIBIT_HEALTH_CHECKING,
  OPT_LB_POLICY_NAME,
  OPT_PER_RPC_RETRY_BUFFER_SIZE,
  OPT_MAX_RECEIVE_MESSAGE_LENGTH,
  OPT_MAX_SEND_MESSAGE_LENGTH,
  OPT_PRIMARY_USER_AGENT,
  OPT_SECONDARY_USER_AGENT,
  instrumented,
  observeChannel,
  OPT_SERVICE_CONFIG,
  OPT_SERVICE_CONFIG_DISABLE_RESOLUTION,
  reportUnknownOptions,
  stringOption,
  systemClock,
  trace,
  type ChannelObserver,
  type Clock,
  type ChannelOptions,
  type InstrumentationPlugin,
  type SocketAddress,
  type ClientTransport,
} from "../transport/index.js";
import { getCompressor, StatusCode, type Compressor } from "../wire/index.js";
import { VERSION } from "../version.js";
import type { CallCredentials, ChannelCredentials } from "../credentials/index.js";
import { isIP } from "node:net";
import { channelSecurity, type TransportSecurity } from "./channel-security.js";
import type { MethodSerializers } from "./call-options.js";
import type { CallHost, Startable } from "./client-call.js";
import {
  streamStream,
  streamUnary,
  toMethod,
  unaryStream,
  unaryUnary,
  type StreamStreamMultiCallable,
  type StreamUnaryMultiCallable,
  type UnaryStreamMultiCallable,
  type UnaryUnaryMultiCallable,
} from "./multi-callable.js";
import { addressKey, parseTarget } from "./target.js";
import type { ClientInterceptor } from "./interceptor.js";
import { failingPicker, QUEUE, QUEUE_PICKER, type ChannelControlHelper, type LoadBalancer, type PickResult, type Picker } from "./load-balancer.js";
import { loadBalancerFor } from "./load-balancer-registry.js";
import { parseTargetUri, resolverFor, type Resolver, type ResolverResult, type TargetUri } from "./resolver.js";
import { RetryThrottle } from "./retry.js";
import { methodConfigFor, parseServiceConfig, type MethodConfig, type ServiceConfig } from "./service-config.js";
import { Subchannel } from "./subchannel.js";

/** Options of `insecureChannel` / `secureChannel` (gRPC Python's keyword arguments). */
export interface ChannelConfig {
  /** gRPC channel arguments, e.g. `{"grpc.max_receive_message_length": 8 << 20}`. */
  options?: ChannelOptions;
  /** Default request compression for every call: "identity", "gzip" or "deflate". */
  compression?: string;
  /** Run around every call, the first outermost (gRPC Python `interceptors`). */
  interceptors?: readonly ClientInterceptor[];
  /**
   * Instrumentation for this channel only (an OpenTelemetry plugin, say), besides those
   * registered for every channel (grpc-go's `DialOption`, grpc-java's
   * `configureChannelBuilder`).
   */
  instrumentation?: readonly InstrumentationPlugin[];
  /**
   * What call deadlines are measured on: `timeoutMs`, `deadline`, the `grpc-timeout` sent,
   * `timeRemaining()` and DEADLINE_EXCEEDED. The system clock by default; async-grpc/testing
   * passes a fake one.
   */
  clock?: Clock;
}

type AnyCall = Startable;
type StateListener = (state: ConnectivityState) => void;
const COMPRESSION_BY_NUMBER: Record<string, string> = { "0": "identity", "1": "deflate", "2": "gzip" };
const DEFAULT_POLICY = "pick_first";
const NO_CONFIG: Readonly<Record<string, unknown>> = {};

/**
 * A channel to one target (gRPC Python `grpc.aio.Channel`). Its resolver turns the
 * target into addresses (and maybe a service config), its load-balancing policy
 * keeps connections (subchannels) to them and picks one for each call. It connects
 * lazily on the first call or `getState(true)`, and makes multi-callables for methods.
 */
export class Channel implements CallHost {
  readonly scheme: "http" | "https";
  readonly authority: string;
  readonly userAgent: string;
  readonly maxReceiveMessageLength: number;
  readonly maxSendMessageLength: number;
  readonly defaultCompression: Compressor | undefined;
  readonly interceptors: readonly ClientInterceptor[];
  readonly retryBufferBytes: number;
  readonly clock: Clock;
  /** @internal The channel's instrumentation (channelz, metrics), if a plugin observes it. */
  readonly observer: ChannelObserver | undefined;
  readonly callCredentials: CallCredentials | undefined;
  readonly callCredentialsAllowed: boolean;
  /** @internal `grpc.retry_buffer_size`: request bytes all calls together keep for retries. */
  readonly retryBudget: ReplayBudget | undefined;
  /** @internal The retry throttle of the service config in force, if it has one. */
  retryThrottle: RetryThrottle | undefined;
  private readonly target: TargetUri;
  private readonly options: ChannelOptions;
  private readonly security: TransportSecurity;
  private readonly resolver: Resolver | undefined;
  /** Set for a channel whose calls open streams through a transport of their own (`transportChannel()`). */
  private readonly transport: ClientTransport | undefined;
  private readonly defaultServiceConfig: ServiceConfig | undefined;
  private readonly ignoreResolverConfig: boolean;
  private readonly defaultPolicy: string;
  private readonly inhibitHealthChecking: boolean;
  /** The service config's `healthCheckConfig.serviceName`, unless `grpc.inhibit_health_checking`. */
  private healthCheckServiceName: string | undefined;
  private serviceConfig: ServiceConfig | undefined;
  private addresses: readonly SocketAddress[] | undefined;
  private policy: LoadBalancer | undefined;
  private policyName = "";
  private started = false;
  private state = ConnectivityState.IDLE;
  private picker: Picker;
  /** One subchannel per address, shared by the policies that use it. */
  private readonly subchannels = new Map<string, Subchannel>();
  private readonly active = new Set<AnyCall>();
  private pending: AnyCall[] = [];
  /** Holds the process open while calls wait for a connection (every other timer is unref'd). */
  private keeper: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<StateListener>();
  /** Subscribed callbacks; false until the first call (the state at subscription) has been made. */
  private readonly subscribers = new Map<(state: ConnectivityState) => void, boolean>();
  private closed = false;
  /** Set while close() waits out its grace period for the active calls. */
  private onIdle: (() => void) | undefined;

  /** @internal Use `insecureChannel()`, `secureChannel()` or `transportChannel()`. */
  constructor(target: string, config: ChannelConfig = {}, security: TransportSecurity = { secure: false }, transport?: ClientTransport) {
    const options = config.options ?? {};
    reportUnknownOptions(options, "channel");
    this.options = options;
    this.security = security;
    this.interceptors = config.interceptors ?? [];
    this.clock = config.clock ?? systemClock;
    this.scheme = security.secure ? "https" : "http";
    this.callCredentials = security.callCredentials;
    this.callCredentialsAllowed = security.callCredentialsAllowed === true;
    this.transport = transport;
    // A channel over a transport of its own resolves nothing: its target is a name.
    this.target = transport === undefined ? parseTargetUri(target) : { scheme: "", authority: "", path: target, original: target };
    const registration = transport === undefined ? resolverFor(this.target) : undefined;
    const builtin = BUILTIN_SCHEMES.has(this.target.scheme);
    this.authority =
      stringOption(options, OPT_DEFAULT_AUTHORITY) ??
      security.authority ??
      (registration === undefined ? target : builtin ? parseTarget(target).authority : registration.defaultAuthority(this.target));
    this.userAgent = [stringOption(options, OPT_PRIMARY_USER_AGENT), `grpc-node-async/${VERSION}`, stringOption(options, OPT_SECONDARY_USER_AGENT)]
      .filter((s) => s !== undefined && s !== "")
      .join(" ");
    this.maxReceiveMessageLength = messageLimit(options, OPT_MAX_RECEIVE_MESSAGE_LENGTH, DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH);
    this.maxSendMessageLength = messageLimit(options, OPT_MAX_SEND_MESSAGE_LENGTH, -1);
    this.retryBufferBytes =
      numberOption(options, OPT_ENABLE_RETRIES, 1) === 0 ? 0 : Math.max(0, numberOption(options, OPT_PER_RPC_RETRY_BUFFER_SIZE, DEFAULT_PER_RPC_RETRY_BUFFER_SIZE));
    const budget = numberOption(options, OPT_RETRY_BUFFER_SIZE, DEFAULT_RETRY_BUFFER_SIZE);
    this.retryBudget = this.retryBufferBytes > 0 ? new ByteBudget(budget) : undefined;
    const compression = config.compression ?? COMPRESSION_BY_NUMBER[String(options[OPT_DEFAULT_COMPRESSION])] ?? stringOption(options, OPT_DEFAULT_COMPRESSION);
    if (compression !== undefined) {
      const c = getCompressor(compression);
      if (!c) throw new TypeError(`Unsupported compression ${compression}`);
      this.defaultCompression = c.name === "identity" ? undefined : c;
    }
    const local = config.instrumentation;
    this.observer = instrumented() || local !== undefined ? observeChannel({ target, options, state: () => this.state }, local) : undefined;
    const json = stringOption(options, OPT_SERVICE_CONFIG);
    this.defaultServiceConfig = json === undefined ? undefined : parseServiceConfig(json);
    this.ignoreResolverConfig = booleanOption(options, OPT_SERVICE_CONFIG_DISABLE_RESOLUTION, false);
    this.defaultPolicy = stringOption(options, OPT_LB_POLICY_NAME) ?? DEFAULT_POLICY;
    this.inhibitHealthChecking = booleanOption(options, OPT_INHIBIT_HEALTH_CHECKING, false);
    if (loadBalancerFor(this.defaultPolicy) === undefined) throw new TypeError(`Unknown load-balancing policy ${this.defaultPolicy} (option ${OPT_LB_POLICY_NAME})`);
    this.useServiceConfig(this.defaultServiceConfig);
    this.picker = { pick: () => this.wake() };
    // The resolver checks the target now (a bad one throws, naming it) and resolves on the first call.
    this.resolver = registration?.factory(
      this.target,
      {
        update: (result) => this.onResolved(result),
        error: (error) => this.onResolutionError(error),
      },
      options,
    );
  }

  /** A unary-unary multi-callable for `method` ("/package.Service/Method") (gRPC Python `unary_unary()`). */
  unaryUnary<Req = Uint8Array, Res = Uint8Array>(method: string, serializers?: MethodSerializers<Req, Res>): UnaryUnaryMultiCallable<Req, Res> {
    return unaryUnary(this, toMethod(method, serializers));
  }

  /** A unary-stream multi-callable (gRPC Python `unary_stream()`). */
  unaryStream<Req = Uint8Array, Res = Uint8Array>(method: string, serializers?: MethodSerializers<Req, Res>): UnaryStreamMultiCallable<Req, Res> {
    return unaryStream(this, toMethod(method, serializers));
  }

  /** A stream-unary multi-callable (gRPC Python `stream_unary()`). */
  streamUnary<Req = Uint8Array, Res = Uint8Array>(method: string, serializers?: MethodSerializers<Req, Res>): StreamUnaryMultiCallable<Req, Res> {
    return streamUnary(this, toMethod(method, serializers));
  }

  /** A stream-stream multi-callable (gRPC Python `stream_stream()`). */
  streamStream<Req = Uint8Array, Res = Uint8Array>(method: string, serializers?: MethodSerializers<Req, Res>): StreamStreamMultiCallable<Req, Res> {
    return streamStream(this, toMethod(method, serializers));
  }

  /** The connectivity state; with `tryToConnect`, an idle channel starts connecting (gRPC Python `get_state()`). */
  getState(tryToConnect = false): ConnectivityState {
    if (tryToConnect && this.state === ConnectivityState.IDLE) this.exitIdle();
    return this.state;
  }

  /**
   * Calls `callback` with the connectivity state now and after every change, until
   * `unsubscribe(callback)`; with `tryToConnect`, an idle channel starts connecting
   * (gRPC Python `grpc.Channel.subscribe()`). The first call comes on a later turn.
   */
  subscribe(callback: (state: ConnectivityState) => void, tryToConnect = false): void {
    if (this.subscribers.has(callback)) return;
    this.subscribers.set(callback, false);
    this.getState(tryToConnect);
    queueMicrotask(() => {
      if (this.subscribers.get(callback) !== false) return;
      this.subscribers.set(callback, true);
      notify(callback, this.state);
    });
  }

  /** Stops calls to a `subscribe()`d callback (gRPC Python `grpc.Channel.unsubscribe()`). */
  unsubscribe(callback: (state: ConnectivityState) => void): void {
    this.subscribers.delete(callback);
  }

  /**
   * Resolves once the state differs from `lastObservedState` (gRPC Python
   * `wait_for_state_change()`); rejects with the signal's reason once `signal` aborts.
   */
  waitForStateChange(lastObservedState: ConnectivityState, signal?: AbortSignal): Promise<void> {
    // An aborted signal fires no "abort" event again: without this check the wait never settles.
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.state !== lastObservedState) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener: StateListener = (state) => {
        if (state === lastObservedState) return;
        this.listeners.delete(listener);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.listeners.delete(listener);
        reject(signal!.reason);
      };
      this.listeners.add(listener);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Connects if needed and resolves once READY (gRPC Python `channel_ready()`); rejects if the channel closes. */
  async channelReady(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const state = this.getState(true);
      if (state === ConnectivityState.READY) return;
      if (state === ConnectivityState.SHUTDOWN) throw new Error("Channel closed");
      signal?.throwIfAborted();
      await this.waitForStateChange(state, signal);
    }
  }

  /**
   * Closes the channel (gRPC Python `close()`): new calls fail at once; calls in flight
   * get `graceSeconds` to finish (none if undefined), then are cancelled.
   */
  async close(graceSeconds?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.resolver?.close();
    const pending = this.pending;
    this.pending = [];
    this.holdOpen();
    for (const call of pending) call.failToStart(StatusCode.CANCELLED, "Channel closed");
    if (graceSeconds !== undefined && graceSeconds > 0 && this.active.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceSeconds * 1000);
        timer.unref();
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onIdle = undefined;
    }
    for (const call of [...this.active]) call.cancel("Channel closed");
    // Every connection goes now, not gracefully as when an address leaves the list.
    const subchannels = [...this.subchannels.values()];
    this.policy?.destroy();
    this.policy = undefined;
    for (const subchannel of subchannels) subchannel.connection.close();
    this.subchannels.clear();
    this.setState(ConnectivityState.SHUTDOWN);
    this.observer?.onClose?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal The service config's word on `path`, if the channel has a config. */
  methodConfig(path: string): MethodConfig | undefined {
    const config = this.serviceConfig;
    return config === undefined ? undefined : methodConfigFor(config, path);
  }

  /** @internal */
  startCall(call: AnyCall): void {
    if (this.closed) {
      call.failToStart(StatusCode.CANCELLED, "Channel closed");
      return;
    }
    this.active.add(call);
    if (!this.place(call)) {
      this.pending.push(call);
      if (this.keeper === undefined) this.holdOpen();
    }
  }

  /** @internal */
  endCall(call: AnyCall): void {
    this.active.delete(call);
    if (this.onIdle !== undefined && this.active.size === 0) this.onIdle();
    if (this.pending.length > 0) {
      const i = this.pending.indexOf(call);
      if (i >= 0) {
        this.pending.splice(i, 1);
        if (this.pending.length === 0) this.holdOpen();
      }
    }
  }

  /** Starts `call` on the subchannel the picker chooses, or fails it; false if it has to wait. */
  private place(call: AnyCall): boolean {
    const transport = this.transport;
    if (transport !== undefined) {
      this.setState(ConnectivityState.READY);
      call.begin(transport);
      return true;
    }
    const result = this.picker.pick(call);
    switch (result.type) {
      case "complete": {
        const transport = result.subchannel.connection.readyTransport;
        if (transport === undefined) return false; // it just left READY: the next picker knows
        call.begin(transport);
        return true;
      }
      case "queue":
        return false;
      case "fail":
        if (call.waitForReady) return false;
        call.failToStart(result.code, result.details);
        return true;
      default:
        call.failToStart(result.code, result.details);
        return true;
    }
  }

  /** Ref'd while calls wait, so that a program whose only work is a call does not exit early. */
  private holdOpen(): void {
    if (this.pending.length > 0) {
      this.keeper ??= setInterval(ignore, 1 << 30);
    } else if (this.keeper !== undefined) {
      clearInterval(this.keeper);
      this.keeper = undefined;
    }
  }

  /** The IDLE picker: the first call starts resolving (or wakes the policy). */
  private wake(): PickResult {
    if (!this.closed) queueMicrotask(() => this.exitIdle());
    return QUEUE;
  }

  private exitIdle(): void {
    if (this.closed || this.state !== ConnectivityState.IDLE) return;
    if (this.policy !== undefined) {
      this.policy.exitIdle();
      return;
    }
    if (this.started) return;
    this.started = true;
    if (this.transport !== undefined) {
      // Nothing to connect: the transport takes streams as they come.
      this.setState(ConnectivityState.READY);
      return;
    }
    this.setState(ConnectivityState.CONNECTING);
    this.picker = QUEUE_PICKER;
    if (this.addresses !== undefined) this.applyResolution();
    this.resolver?.resolveNow();
  }

  private onResolved(result: ResolverResult): void {
    if (this.closed) return;
    if (result.addresses.length === 0) {
      this.onResolutionError(new Error("the resolver returned no addresses"));
      return;
    }
    let config = this.defaultServiceConfig;
    if (result.serviceConfig !== undefined && !this.ignoreResolverConfig) {
      try {
        config = parseServiceConfig(result.serviceConfig);
      } catch (err) {
        // gRFC A21: keep the config in force if there is one; with none, the channel fails.
        logError(`${this.target.original}: the resolver's service config was refused`, err);
        if (this.addresses === undefined) {
          this.onResolutionError(err as Error);
          return;
        }
        config = this.serviceConfig;
      }
    }
    this.useServiceConfig(config);
    this.addresses = result.addresses;
    if (this.started) this.applyResolution();
  }

  private onResolutionError(error: Error): void {
    if (this.closed || !this.started) return;
    trace("resolver", () => `${this.target.original}: ${error.message}`);
    // With addresses from before, the policy keeps using them.
    if (this.policy !== undefined) return;
    const details = `Name resolution failed for target ${this.target.original}: ${error.message}`;
    this.updateState(ConnectivityState.TRANSIENT_FAILURE, failingPicker(StatusCode.UNAVAILABLE, details));
  }

  private useServiceConfig(config: ServiceConfig | undefined): void {
    this.serviceConfig = config;
    const throttling = config?.retryThrottling;
    const current = this.retryThrottle;
    if (throttling === undefined) this.retryThrottle = undefined;
    else if (current === undefined || current.maxTokens !== throttling.maxTokens || current.tokenRatio !== throttling.tokenRatio) {
      this.retryThrottle = new RetryThrottle(throttling.maxTokens, throttling.tokenRatio);
    }
    const health = this.inhibitHealthChecking ? undefined : config?.healthCheckServiceName;
    if (health !== this.healthCheckServiceName) {
      this.healthCheckServiceName = health;
      for (const s of this.subchannels.values()) s.setHealthCheckService(health);
    }
  }

  /** Hands the addresses to the policy the service config names (a new one if it changed). */
  private applyResolution(): void {
    const lb = this.serviceConfig?.loadBalancing;
    const name = lb?.name ?? this.defaultPolicy;
    const config = lb?.config ?? NO_CONFIG;
    const previous = this.policy;
    if (previous === undefined || name !== this.policyName) {
      const registration = loadBalancerFor(name)!;
      const policy = registration.factory(this.helperFor(() => this.policy === policy));
      this.policy = policy;
      this.policyName = name;
      trace("resolver", () => `${this.target.original}: load balancing with ${name}`);
      policy.updateAddressList(this.addresses!, config);
      // The old policy goes after the new one holds its subchannels: shared connections stay.
      previous?.destroy();
      return;
    }
    previous.updateAddressList(this.addresses!, config);
  }

  private helperFor(current: () => boolean): ChannelControlHelper {
    return {
      createSubchannel: (address) => this.subchannelFor(address),
      updateState: (state, picker) => {
        if (current() && !this.closed) this.updateState(state, picker);
      },
      requestReresolution: () => {
        if (current() && !this.closed) this.resolver?.resolveNow();
      },
    };
  }

  private subchannelFor(address: SocketAddress): Subchannel {
    const key = addressKey(address);
    let subchannel = this.subchannels.get(key);
    if (subchannel === undefined) {
      const { secure, tls } = this.security;
      // The subchannel's instrumentation (channelz), if the channel is observed.
      let connection: ClientConnection | undefined;
      const observer = this.observer?.onSubchannel?.({ address: addressName(address), state: () => connection?.state ?? ConnectivityState.IDLE });
      connection = new ClientConnection({ address, secure, tls, options: this.options, observer });
      subchannel = new Subchannel(connection, address, (s) => {
        if (this.subchannels.get(s.key) === s) this.subchannels.delete(s.key);
        s.connection.shutdownGracefully();
      }, this);
      subchannel.setHealthCheckService(this.healthCheckServiceName);
      this.subchannels.set(key, subchannel);
    }
    subchannel.ref();
    return subchannel;
  }

  private updateState(state: ConnectivityState, picker: Picker): void {
    this.picker = picker;
    this.setState(state);
    if (this.pending.length === 0) return;
    const calls = this.pending;
    this.pending = [];
    for (const call of calls) if (!this.place(call)) this.pending.push(call);
    if (this.pending.length > 0 && state === ConnectivityState.TRANSIENT_FAILURE) {
      // Keep waitForReady calls' process alive through the reconnection backoff.
      for (const s of this.subchannels.values()) s.connection.holdDuringBackoff();
    }
    this.holdOpen();
  }

  private setState(state: ConnectivityState): void {
    if (this.state === state || this.state === ConnectivityState.SHUTDOWN) return;
    this.state = state;
    trace("connectivity", () => `channel ${this.target.original}: ${ConnectivityState[state]}`);
    this.observer?.onStateChange?.(state);
    for (const listener of [...this.listeners]) listener(state);
    for (const [callback, active] of [...this.subscribers]) if (active) notify(callback, state);
  }
}

// gRPC's address URIs, as channelz shows them: "ipv4:127.0.0.1:50051", "ipv6:[::1]:50051", "unix:/path".
function addressName(address: SocketAddress): string {
  if ("path" in address) return `unix:${address.path}`;
  const v = isIP(address.host);
  return v === 6 ? `ipv6:[${address.host}]:${address.port}` : v === 4 ? `ipv4:${address.host}:${address.port}` : `dns:${address.host}:${address.port}`;
}

/** A channel's retry buffer: calls take from it what they keep for replays and give it back on commit. */
class ByteBudget implements ReplayBudget {
  private used = 0;

  constructor(private readonly limit: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

const BUILTIN_SCHEMES: ReadonlySet<string> = new Set(["dns", "ipv4", "ipv6", "unix", "unix-abstract"]);

function notify(callback: (state: ConnectivityState) => void, state: ConnectivityState): void {
  try {
    callback(state);
  } catch (err) {
    logError("a channel subscriber threw", err);
  }
}

function ignore(): void {}

/**
 * A channel secured by `credentials` (gRPC Python `grpc.aio.secure_channel()`): TLS
 * from `sslChannelCredentials()`, or local-only from `localChannelCredentials()`,
 * with their call credentials. The option `grpc.ssl_target_name_override` names the
 * host the server certificate must match (and the `:authority`), for tests against
 * certificates issued to another name.
 */
export function secureChannel(target: string, credentials: ChannelCredentials, config?: ChannelConfig): Channel {
  return new Channel(target, config, channelSecurity(target, credentials, config?.options ?? {}));
}

/** A channel without transport security (gRPC Python `grpc.aio.insecure_channel()`). */
export function insecureChannel(target: string, config?: ChannelConfig): Channel {
  return new Channel(target, config);
}

/**
 * A channel whose calls open their streams through `transport` instead of HTTP/2
 * connections of its own: no name resolution, no load balancing, no sockets. The
 * seam for transports other than HTTP/2, such as the in-process one of
 * `async-grpc/testing` (`inProcessChannel()`). `name` is the channel's target as
 * instrumentation and errors show it, and the calls' `:authority` unless the option
 * `grpc.default_authority` says otherwise. The channel is READY from its first call (or
 * `getState(true)`) until `close()`; its calls keep everything else a channel gives
 * them: deadlines, cancellation, interceptors, compression, message limits, the
 * service config's method settings, retries and transparent retries. gRPC Python has
 * no equivalent; grpc-java's `ManagedChannelBuilder` over a custom
 * `ClientTransportFactory` is the nearest.
 */
export function transportChannel(name: string, transport: ClientTransport, config?: ChannelConfig): Channel {
  return new Channel(name, config, undefined, transport);
}
