// The one instrumentation seam: channelz and metrics/tracing plugins observe channels,
// servers, connections and calls through these hooks. The core asks the registered
// plugins once per channel, server, connection and call; with no plugin registered
// (or none interested), every hook site is one `undefined` check and allocates nothing.
import type { StatusCode } from "../wire/index.js";
import type { ConnectivityState } from "./connectivity-state.js";
import type { ChannelOptions } from "./options.js";

/**
 * One call, client or server side. Each hook is optional.
 *
 * On the client a call makes one or more attempts, each on its own HTTP/2 stream (a
 * transparent retry is a second attempt): `onAttemptStarted` opens one,
 * `onAttemptEnded` closes one that is followed by another, and `onEnd` closes the
 * last one together with the call. Message hooks then belong to the current attempt.
 */
export interface CallObserver {
  /** The call got its HTTP/2 stream on `connection` (undefined: that connection is not observed). */
  onTransport?(connection: ConnectionObserver | undefined): void;
  /**
   * Client: an attempt starts, as the call asks the channel for a connection (so its
   * time includes waiting for one); `transparentRetry` when it replays a stream the
   * server never processed.
   */
  onAttemptStarted?(transparentRetry: boolean): void;
  /**
   * Client: the current attempt's request headers are about to go out; `set` adds one
   * ASCII metadata entry (a lowercase key), as a tracing plugin's propagator does.
   */
  onSendHeaders?(set: (key: string, value: string) => void): void;
  /** Client: the current attempt ended with this status and another follows (the last one ends in `onEnd`). */
  onAttemptEnded?(code: StatusCode, details: string): void;
  /**
   * A message went to the transport: `bytes` is its size as sent, without the 5-byte
   * prefix (compressed when `compressed`). On the client a replayed request counts
   * again, on its new attempt.
   */
  onMessageSent?(bytes: number, compressed: boolean): void;
  /**
   * Server: runs the handler's invocation (call it exactly once, synchronously); a
   * tracing plugin runs it inside its span's context, so that what the handler does
   * (and the async work it starts) sees that span as the active one.
   */
  runHandler?(invoke: () => void): void;
  /** A whole message arrived: `bytes` as received, before it is decompressed and parsed. */
  onMessageReceived?(bytes: number, compressed: boolean): void;
  /**
   * The call ended with this status (exactly once). On the server, when its stream
   * closed (trailers out, or reset), so that every response byte was counted before.
   */
  onEnd?(code: StatusCode, details: string): void;
}

/** What the server tells about one incoming call, read when a plugin asks. */
export interface ServerCallInfo {
  /**
   * True when the method was registered with the server (`addService`,
   * `addRegisteredMethodHandlers`); false when a generic handler serves it or none does.
   */
  readonly registered: boolean;
  /** One request header (metadata) as received, e.g. "traceparent"; repeated values joined with ",". */
  header(name: string): string | undefined;
}

/** A live view of one HTTP/2 connection, read when a plugin wants to know (nothing is copied per event). */
export interface ConnectionInfo {
  readonly side: "client" | "server";
  localAddress(): { address: string; port: number } | { path: string } | undefined;
  remoteAddress(): { address: string; port: number } | { path: string } | undefined;
  /** TLS details, undefined on a plaintext connection. */
  security(): { protocol: string | undefined; cipher: string | undefined; localCertificate: Uint8Array | undefined; remoteCertificate: Uint8Array | undefined } | undefined;
  /** Keepalive pings this side has sent. */
  keepalivesSent(): number;
  /** HTTP/2 flow-control windows, when Node reports them. */
  flowControl(): { localWindow: number | undefined; remoteWindow: number | undefined };
}

/** One HTTP/2 connection (a channelz socket). */
export interface ConnectionObserver {
  /** A stream opened: by us on a client connection, by the peer on a server one. */
  onStreamStarted?(): void;
  /** A stream closed; `ok` when it ended with END_STREAM rather than a reset. */
  onStreamEnded?(ok: boolean): void;
  /** The connection closed (exactly once). */
  onClose?(): void;
}

/** What a channel tells about itself. */
export interface ChannelInfo {
  readonly target: string;
  readonly options: ChannelOptions;
  state(): ConnectivityState;
}

/** One channel (client). */
export interface ChannelObserver {
  /**
   * A call starts on the channel (before it has a connection). `registered` when the
   * method comes from a service descriptor (`createClient`, generated clients) rather
   * than a bare path (gRPC Python's `_registered_method`).
   */
  onCallStarted?(method: string, registered: boolean): CallObserver | undefined;
  /** The channel made a subchannel (today: its one connection to its address). */
  onSubchannel?(info: SubchannelInfo): SubchannelObserver | undefined;
  onStateChange?(state: ConnectivityState): void;
  onClose?(): void;
}

/** What a subchannel tells about itself. */
export interface SubchannelInfo {
  /** The address it connects to, "ipv4:127.0.0.1:50051" style. */
  readonly address: string;
  state(): ConnectivityState;
}

/** One subchannel: connections to one address, one at a time. */
export interface SubchannelObserver {
  onConnection?(info: ConnectionInfo): ConnectionObserver | undefined;
  onStateChange?(state: ConnectivityState): void;
}

/** What a server tells about itself. */
export interface ServerInfo {
  readonly options: ChannelOptions;
  /** The addresses it listens on, as bound. */
  listenAddresses(): ({ address: string; port: number } | { path: string })[];
}

/** One server. */
export interface ServerObserver {
  /** A call arrived on `connection`; `method` is the request's `:path`. */
  onCallStarted?(method: string, connection: ConnectionObserver | undefined, call: ServerCallInfo): CallObserver | undefined;
  /** The server accepted a connection. */
  onConnection?(info: ConnectionInfo): ConnectionObserver | undefined;
  /** `stop()` finished. */
  onStop?(): void;
}

/**
 * An instrumentation plugin: asked for an observer when each channel and server is
 * made; returning undefined leaves that one unobserved (and free).
 */
export interface InstrumentationPlugin {
  onChannel?(info: ChannelInfo): ChannelObserver | undefined;
  onServer?(info: ServerInfo): ServerObserver | undefined;
}

const plugins: InstrumentationPlugin[] = [];

/**
 * Registers `plugin` for channels and servers made from now on (not those that already
 * exist); returns a function that unregisters it. Channelz and OpenTelemetry plugins
 * use this seam. Experimental: gRPC Python has no public equivalent (its channelz and
 * observability hook into gRPC core).
 */
export function registerInstrumentation(plugin: InstrumentationPlugin): () => void {
  plugins.push(plugin);
  return () => {
    const i = plugins.indexOf(plugin);
    if (i >= 0) plugins.splice(i, 1);
  };
}

/** @internal True when a plugin is registered: callers check this (or their own plugins) before building the info for `observe*()`. */
export function instrumented(): boolean {
  return plugins.length > 0;
}

/**
 * @internal The observer of a new channel, or undefined when no plugin wants it;
 * `local` are the channel's own plugins (`ChannelConfig.instrumentation`).
 */
export function observeChannel(info: ChannelInfo, local?: readonly InstrumentationPlugin[]): ChannelObserver | undefined {
  const all = withLocal(local);
  if (all.length === 0) return undefined;
  if (all.length === 1) return all[0]!.onChannel?.(info);
  return aligned(all.map((p) => p.onChannel?.(info)), combineChannel);
}

/** @internal The observer of a new server, or undefined when no plugin wants it; `local` as for channels. */
export function observeServer(info: ServerInfo, local?: readonly InstrumentationPlugin[]): ServerObserver | undefined {
  const all = withLocal(local);
  if (all.length === 0) return undefined;
  if (all.length === 1) return all[0]!.onServer?.(info);
  return aligned(all.map((p) => p.onServer?.(info)), combineServer);
}

// A plugin both registered and given to one channel observes it once.
function withLocal(local: readonly InstrumentationPlugin[] | undefined): readonly InstrumentationPlugin[] {
  if (local === undefined || local.length === 0) return plugins;
  return [...new Set([...plugins, ...local])];
}

// ---- several plugins: one observer that calls each ------------------------------------
//
// Positions stay aligned with the plugins, so that a combined call observer can hand
// each plugin's call observer that same plugin's connection observer.

const PARTS = Symbol("parts");
type Parts<T> = { [PARTS]: (T | undefined)[] };

function aligned<T, C extends T>(parts: (T | undefined)[], merge: (parts: (T | undefined)[]) => C): C | undefined {
  if (parts.every((p) => p === undefined)) return undefined;
  return merge(parts);
}

function combineCall(all: (CallObserver | undefined)[]): CallObserver {
  return {
    onTransport: (c) => {
      const parts = (c as Partial<Parts<ConnectionObserver>> | undefined)?.[PARTS];
      all.forEach((o, i) => o?.onTransport?.(parts?.[i]));
    },
    onAttemptStarted: (transparentRetry) => all.forEach((o) => o?.onAttemptStarted?.(transparentRetry)),
    onSendHeaders: (set) => all.forEach((o) => o?.onSendHeaders?.(set)),
    onAttemptEnded: (code, details) => all.forEach((o) => o?.onAttemptEnded?.(code, details)),
    onMessageSent: (bytes, compressed) => all.forEach((o) => o?.onMessageSent?.(bytes, compressed)),
    // Nested: each plugin's context around the next one's.
    runHandler: (invoke) => all.reduceRight<() => void>((next, o) => (o?.runHandler ? () => o.runHandler!(next) : next), invoke)(),
    onMessageReceived: (bytes, compressed) => all.forEach((o) => o?.onMessageReceived?.(bytes, compressed)),
    onEnd: (code, details) => all.forEach((o) => o?.onEnd?.(code, details)),
  };
}

function combineConnection(all: (ConnectionObserver | undefined)[]): ConnectionObserver & Parts<ConnectionObserver> {
  return {
    [PARTS]: all,
    onStreamStarted: () => all.forEach((o) => o?.onStreamStarted?.()),
    onStreamEnded: (ok) => all.forEach((o) => o?.onStreamEnded?.(ok)),
    onClose: () => all.forEach((o) => o?.onClose?.()),
  };
}

function combineSubchannel(all: (SubchannelObserver | undefined)[]): SubchannelObserver {
  return {
    onConnection: (info) => aligned(all.map((o) => o?.onConnection?.(info)), combineConnection),
    onStateChange: (state) => all.forEach((o) => o?.onStateChange?.(state)),
  };
}

function combineChannel(all: (ChannelObserver | undefined)[]): ChannelObserver {
  return {
    onCallStarted: (method, registered) => aligned(all.map((o) => o?.onCallStarted?.(method, registered)), combineCall),
    onSubchannel: (info) => aligned(all.map((o) => o?.onSubchannel?.(info)), combineSubchannel),
    onStateChange: (state) => all.forEach((o) => o?.onStateChange?.(state)),
    onClose: () => all.forEach((o) => o?.onClose?.()),
  };
}

function combineServer(all: (ServerObserver | undefined)[]): ServerObserver {
  return {
    onCallStarted: (method, connection, call) => {
      const parts = (connection as Partial<Parts<ConnectionObserver>> | undefined)?.[PARTS];
      return aligned(all.map((o, i) => o?.onCallStarted?.(method, parts?.[i], call)), combineCall);
    },
    onConnection: (info) => aligned(all.map((o) => o?.onConnection?.(info)), combineConnection),
    onStop: () => all.forEach((o) => o?.onStop?.()),
  };
}
