// The one instrumentation seam: channelz and metrics/tracing plugins observe channels,
// servers, connections and calls through these hooks. The core asks the registered
// plugins once per channel, server, connection and call; with no plugin registered
// (or none interested), every hook site is one `undefined` check and allocates nothing.
import type { StatusCode } from "../wire/index.js";
import type { ConnectivityState } from "./connectivity-state.js";
import type { ChannelOptions } from "./options.js";

/** One call, client or server side. Each hook is optional. */
export interface CallObserver {
  /** The call got its HTTP/2 stream on `connection` (undefined: that connection is not observed). */
  onTransport?(connection: ConnectionObserver | undefined): void;
  /** A message was handed to the transport. */
  onMessageSent?(): void;
  /** A whole message arrived (before it is decompressed and parsed). */
  onMessageReceived?(): void;
  /** The call ended with this status (exactly once). */
  onEnd?(code: StatusCode, details: string): void;
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
  /** A call starts on the channel (before it has a connection). */
  onCallStarted?(method: string): CallObserver | undefined;
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
  onCallStarted?(method: string, connection: ConnectionObserver | undefined): CallObserver | undefined;
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

/** @internal True when a plugin is registered: callers check this before building the info for `observe*()`. */
export function instrumented(): boolean {
  return plugins.length > 0;
}

/** @internal The observer of a new channel, or undefined when no plugin wants it. */
export function observeChannel(info: ChannelInfo): ChannelObserver | undefined {
  if (plugins.length === 0) return undefined;
  if (plugins.length === 1) return plugins[0]!.onChannel?.(info);
  return aligned(plugins.map((p) => p.onChannel?.(info)), combineChannel);
}

/** @internal The observer of a new server, or undefined when no plugin wants it. */
export function observeServer(info: ServerInfo): ServerObserver | undefined {
  if (plugins.length === 0) return undefined;
  if (plugins.length === 1) return plugins[0]!.onServer?.(info);
  return aligned(plugins.map((p) => p.onServer?.(info)), combineServer);
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
    onMessageSent: () => all.forEach((o) => o?.onMessageSent?.()),
    onMessageReceived: () => all.forEach((o) => o?.onMessageReceived?.()),
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
    onCallStarted: (method) => aligned(all.map((o) => o?.onCallStarted?.(method)), combineCall),
    onSubchannel: (info) => aligned(all.map((o) => o?.onSubchannel?.(info)), combineSubchannel),
    onStateChange: (state) => all.forEach((o) => o?.onStateChange?.(state)),
    onClose: () => all.forEach((o) => o?.onClose?.()),
  };
}

function combineServer(all: (ServerObserver | undefined)[]): ServerObserver {
  return {
    onCallStarted: (method, connection) => {
      const parts = (connection as Partial<Parts<ConnectionObserver>> | undefined)?.[PARTS];
      return aligned(all.map((o, i) => o?.onCallStarted?.(method, parts?.[i])), combineCall);
    },
    onConnection: (info) => aligned(all.map((o) => o?.onConnection?.(info)), combineConnection),
    onStop: () => all.forEach((o) => o?.onStop?.()),
  };
}
