import type { SecureClientSessionOptions } from "node:http2";
import {
  ClientConnection,
  ConnectivityState,
  DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
  DEFAULT_PER_RPC_RETRY_BUFFER_SIZE,
  messageLimit,
  numberOption,
  OPT_DEFAULT_AUTHORITY,
  OPT_DEFAULT_COMPRESSION,
  OPT_ENABLE_RETRIES,
  OPT_PER_RPC_RETRY_BUFFER_SIZE,
  OPT_MAX_RECEIVE_MESSAGE_LENGTH,
  OPT_MAX_SEND_MESSAGE_LENGTH,
  OPT_PRIMARY_USER_AGENT,
  OPT_SECONDARY_USER_AGENT,
  OPT_SSL_TARGET_NAME_OVERRIDE,
  instrumented,
  observeChannel,
  reportUnknownOptions,
  stringOption,
  type ChannelObserver,
  type ChannelOptions,
  type InstrumentationPlugin,
  type SocketAddress,
} from "../transport/index.js";
import { getCompressor, StatusCode, type Compressor } from "../wire/index.js";
import { VERSION } from "../version.js";
import type { ChannelCredentials } from "../credentials/index.js";
import { isIP } from "node:net";
import { checkServerIdentity } from "node:tls";
import type { MethodSerializers } from "./call-options.js";
import type { CallHost, ClientCall } from "./client-call.js";
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
import { parseTarget } from "./target.js";
import type { ClientInterceptor } from "./interceptor.js";

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
}

/** @internal How the credentials layer configures a channel's transport. */
export interface TransportSecurity {
  secure: boolean;
  tls?: SecureClientSessionOptions;
  /** Overrides the `:authority` (e.g. from grpc.ssl_target_name_override). */
  authority?: string;
}

type AnyCall = ClientCall<never, never>;
const COMPRESSION_BY_NUMBER: Record<string, string> = { "0": "identity", "1": "deflate", "2": "gzip" };

/**
 * A channel to one target (gRPC Python `grpc.aio.Channel`). It connects lazily on
 * the first call or `getState(true)`, reconnects after the connection drops, and
 * makes multi-callables for methods.
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
  /** @internal The channel's instrumentation (channelz, metrics), if a plugin observes it. */
  readonly observer: ChannelObserver | undefined;
  private readonly connection: ClientConnection;
  private readonly active = new Set<AnyCall>();
  private pending: AnyCall[] = [];
  private closed = false;
  /** Set while close() waits out its grace period for the active calls. */
  private onIdle: (() => void) | undefined;

  /** @internal Use `insecureChannel()` or `secureChannel()`. */
  constructor(target: string, config: ChannelConfig = {}, security: TransportSecurity = { secure: false }) {
    const options = config.options ?? {};
    reportUnknownOptions(options, "channel");
    this.interceptors = config.interceptors ?? [];
    const parsed = parseTarget(target);
    this.scheme = security.secure ? "https" : "http";
    this.authority = stringOption(options, OPT_DEFAULT_AUTHORITY) ?? security.authority ?? parsed.authority;
    this.userAgent = [stringOption(options, OPT_PRIMARY_USER_AGENT), `grpc-node-async/${VERSION}`, stringOption(options, OPT_SECONDARY_USER_AGENT)]
      .filter((s) => s !== undefined && s !== "")
      .join(" ");
    this.maxReceiveMessageLength = messageLimit(options, OPT_MAX_RECEIVE_MESSAGE_LENGTH, DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH);
    this.maxSendMessageLength = messageLimit(options, OPT_MAX_SEND_MESSAGE_LENGTH, -1);
    this.retryBufferBytes =
      numberOption(options, OPT_ENABLE_RETRIES, 1) === 0 ? 0 : Math.max(0, numberOption(options, OPT_PER_RPC_RETRY_BUFFER_SIZE, DEFAULT_PER_RPC_RETRY_BUFFER_SIZE));
    const compression = config.compression ?? COMPRESSION_BY_NUMBER[String(options[OPT_DEFAULT_COMPRESSION])] ?? stringOption(options, OPT_DEFAULT_COMPRESSION);
    if (compression !== undefined) {
      const c = getCompressor(compression);
      if (!c) throw new TypeError(`Unsupported compression ${compression}`);
      this.defaultCompression = c.name === "identity" ? undefined : c;
    }
    const local = config.instrumentation;
    const observer = instrumented() || local !== undefined ? observeChannel({ target, options, state: () => this.connection.state }, local) : undefined;
    this.observer = observer;
    const subchannel = observer?.onSubchannel?.({ address: addressName(parsed.address), state: () => this.connection.state });
    this.connection = new ClientConnection({ address: parsed.address, secure: security.secure, tls: security.tls, options, observer: subchannel });
    this.connection.onStateChange((state) => this.onStateChange(state));
    if (observer?.onStateChange) this.connection.onStateChange((state) => observer.onStateChange!(state));
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
    if (tryToConnect && !this.closed) this.connection.connect();
    return this.connection.state;
  }

  /**
   * Resolves once the state differs from `lastObservedState` (gRPC Python
   * `wait_for_state_change()`); rejects with the signal's reason once `signal` aborts.
   */
  waitForStateChange(lastObservedState: ConnectivityState, signal?: AbortSignal): Promise<void> {
    // An aborted signal fires no "abort" event again: without this check the wait never settles.
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.connection.state !== lastObservedState) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        off();
        reject(signal!.reason);
      };
      const off = this.connection.onStateChange((state) => {
        if (state === lastObservedState) return;
        off();
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
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
    const pending = this.pending;
    this.pending = [];
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
    this.connection.close();
    this.observer?.onClose?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal */
  startCall(call: AnyCall): void {
    if (this.closed) {
      call.failToStart(StatusCode.CANCELLED, "Channel closed");
      return;
    }
    this.active.add(call);
    const connection = this.connection;
    const session = connection.readySession;
    if (session !== undefined) {
      call.begin(connection, session);
      return;
    }
    if (connection.state === ConnectivityState.TRANSIENT_FAILURE && !call.waitForReady) {
      call.failToStart(StatusCode.UNAVAILABLE, this.unavailableDetails());
      return;
    }
    this.pending.push(call);
    connection.connect();
  }

  /** @internal */
  endCall(call: AnyCall): void {
    this.active.delete(call);
    if (this.onIdle !== undefined && this.active.size === 0) this.onIdle();
    if (this.pending.length > 0) {
      const i = this.pending.indexOf(call);
      if (i >= 0) this.pending.splice(i, 1);
    }
  }

  private onStateChange(state: ConnectivityState): void {
    if (this.pending.length === 0) return;
    if (state === ConnectivityState.READY) {
      const session = this.connection.readySession!;
      const calls = this.pending;
      this.pending = [];
      for (const call of calls) call.begin(this.connection, session);
    } else if (state === ConnectivityState.TRANSIENT_FAILURE) {
      const calls = this.pending;
      this.pending = calls.filter((c) => c.waitForReady);
      const details = this.unavailableDetails();
      for (const call of calls) if (!call.waitForReady) call.failToStart(StatusCode.UNAVAILABLE, details);
      if (this.pending.length > 0) this.connection.holdDuringBackoff();
    } else if (state === ConnectivityState.IDLE) {
      // Backoff over (or the connection went away) with calls still waiting.
      this.connection.connect();
    }
  }

  private unavailableDetails(): string {
    const err = this.connection.lastError;
    return err ? `Failed to connect: ${err.message}` : "Failed to connect";
  }
}

// gRPC's address URIs, as channelz shows them: "ipv4:127.0.0.1:50051", "ipv6:[::1]:50051", "unix:/path".
function addressName(address: SocketAddress): string {
  if ("path" in address) return `unix:${address.path}`;
  const v = isIP(address.host);
  return v === 6 ? `ipv6:[${address.host}]:${address.port}` : v === 4 ? `ipv4:${address.host}:${address.port}` : `dns:${address.host}:${address.port}`;
}

/**
 * A TLS channel (gRPC Python `grpc.aio.secure_channel()`). The option
 * `grpc.ssl_target_name_override` names the host the server certificate must match
 * (and the `:authority`), for tests against certificates issued to another name.
 */
export function secureChannel(target: string, credentials: ChannelCredentials, config?: ChannelConfig): Channel {
  const options = config?.options ?? {};
  const override = stringOption(options, OPT_SSL_TARGET_NAME_OVERRIDE);
  const parsed = parseTarget(target);
  const host = "host" in parsed.address ? parsed.address.host : "localhost";
  const tls = { ...credentials.tls, servername: override ?? (isIP(host) ? undefined : host) };
  if (override !== undefined) {
    // Node checks the certificate against `servername`, which carries the override.
    tls.checkServerIdentity = (_host: string, cert) => checkServerIdentity(override, cert);
  }
  return new Channel(target, config, { secure: true, tls, authority: override });
}

/** A channel without transport security (gRPC Python `grpc.aio.insecure_channel()`). */
export function insecureChannel(target: string, config?: ChannelConfig): Channel {
  return new Channel(target, config);
}
