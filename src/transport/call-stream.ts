import type { StatusCode } from "../wire/index.js";
import type { ConnectionObserver } from "./instrumentation.js";
import type { Frame, FrameSink } from "./message-writer.js";

// The transport-neutral seam between a call and the stream that carries it. The
// client and server layers see only these interfaces; HTTP/2 implements them in
// `http2-client-stream.ts` and `http2-server-stream.ts`, the in-process transport of
// `async-grpc/testing` implements them in memory, and any other transport may too.
// The vocabulary is gRPC over HTTP/2's (header blocks, DATA, trailers, resets), so a
// transport that is not HTTP/2 carries the same facts.

/**
 * An outgoing header block, as `node:http2` takes it: lower-case names, pseudo-headers
 * (`:path`, `:status`) included, a repeated name as an array.
 */
export type OutgoingHeaders = Record<string, string | string[] | number | undefined>;

/**
 * An incoming header block, as `node:http2` gives it: repeated names joined or as
 * arrays; the request pseudo-headers are single strings. (`:status` may come as a number.)
 */
export interface IncomingHeaders {
  [name: string]: string | string[] | undefined;
  ":method"?: string;
  ":path"?: string;
  ":authority"?: string;
  ":scheme"?: string;
}

/**
 * How a stream is stopped before both sides have ended it: `"cancel"` (HTTP/2
 * RST_STREAM CANCEL) abandons it; `"done"` (RST_STREAM NO_ERROR) says the resetting
 * side has said all it will and the peer may stop sending.
 */
export type StreamReset = "cancel" | "done";

/** Why a client stream closed without a gRPC status, as a status of its own. */
export interface StreamCloseReason {
  readonly code: StatusCode;
  readonly details: string;
  /**
   * The server's application never saw the stream (refused, or above a GOAWAY's last
   * stream id), so the call may start again on another stream (gRFC A6 transparent
   * retry). Meaningful only when no response headers arrived.
   */
  readonly notProcessed: boolean;
}

/** What a client stream tells its call. Implemented by the call itself: no closures per call. */
export interface ClientStreamListener {
  /**
   * The response headers; `endStream`: they are the whole response (Trailers-Only),
   * carrying the status. `raw` is the flat `[name, value, ...]` list (for metadata).
   */
  onStreamHeaders(headers: IncomingHeaders, raw: string[], endStream: boolean): void;
  /** Response bytes, in order; message boundaries are not kept. */
  onStreamData(chunk: Uint8Array): void;
  onStreamTrailers(trailers: IncomingHeaders, raw: string[]): void;
  /** Every response byte has been delivered (after the trailers). */
  onStreamEnd(): void;
  /** The stream is closed; `closeReason()` says why when no status was received. */
  onStreamClose(): void;
}

/**
 * The client's half of one call's stream. As a `FrameSink`, `write()` returning false
 * means "wait for `onceDrain`" (flow control), and `end()` half-closes the request.
 * gRPC Python has no equivalent; grpc-java's `ClientStream` is the nearest.
 */
export interface ClientStream extends FrameSink {
  /** Delivers this stream's events to `listener` from now on (hedging hands a stream to its call). */
  listen(listener: ClientStreamListener | undefined): void;
  /** Stops delivering response data until `resume()`, so that flow control holds the server back. */
  pause(): void;
  resume(): void;
  /**
   * Stops the stream. `"cancel"` resets it unless it has closed; `"done"` (the call has
   * its status) resets it only if the request side is still open, to release it.
   */
  reset(how: StreamReset): void;
  /** True once the stream is closed. */
  readonly closed: boolean;
  /** Why the stream closed, for a call that received no status; asked only after `onStreamClose`. */
  closeReason(): StreamCloseReason;
}

/**
 * A connection calls open streams on: an HTTP/2 session, or any other transport. The
 * channel hands one to a call (`Startable.begin`); the call opens its stream with its
 * request headers. `transportChannel()` makes a channel over one of your own. gRPC
 * Python has no equivalent; grpc-java's `ClientTransport` is the nearest.
 */
export interface ClientTransport {
  /**
   * Opens a stream and sends `headers`; events go to `listener`. Throws when the stream
   * cannot be opened; nothing was sent then, and the call may try another connection.
   */
  openStream(headers: OutgoingHeaders, listener: ClientStreamListener): ClientStream;
  /** Instrumentation of this connection (channelz sockets), if it is observed. */
  readonly observer?: ConnectionObserver | undefined;
}

/** What a server stream tells its call. Implemented by the call itself: no closures per call. */
export interface ServerStreamListener {
  /** Request bytes, in order; message boundaries are not kept. */
  onStreamData(chunk: Uint8Array): void;
  /** The client has half-closed: every request byte has been delivered. */
  onStreamEnd(): void;
  /** The stream is closed: after the status went out, or because the client reset it or went away. */
  onStreamClose(): void;
}

/** What the server verified about a connection, keyed as gRPC's auth context is (see `AuthContext`). */
export type ConnectionAuth = Readonly<Record<string, readonly Buffer[]>>;

/**
 * The server's half of one call's stream, as a transport hands it to
 * `server.acceptStream()`. Request events start once `listen()` is called; until then
 * the stream holds the request back. gRPC Python has no equivalent; grpc-java's
 * `ServerStream` is the nearest.
 */
export interface ServerStream {
  listen(listener: ServerStreamListener): void;
  /** Sends the response headers; messages (`write`) and the trailers (`end`) follow. */
  sendHeaders(headers: OutgoingHeaders): void;
  /** Writes one framed response message; false means "wait for `onceDrain`" (flow control). */
  write(frame: Frame): boolean;
  onceDrain(listener: () => void): void;
  /**
   * Ends the response: `frame` if given, then `trailers`. A client still sending once
   * the trailers are out is stopped with `stopClient` (gRPC core does the same), so
   * that the stream closes.
   */
  end(frame: Frame | undefined, trailers: OutgoingHeaders, stopClient: StreamReset): void;
  /**
   * A response that is one header block with END_STREAM: Trailers-Only, or an HTTP
   * error. With `stopClient`, a client still sending is stopped so (as after `end`).
   */
  respond(headers: OutgoingHeaders, stopClient?: StreamReset): void;
  pause(): void;
  resume(): void;
  /** Resets the stream unless it has closed. */
  reset(how: StreamReset): void;
  /** True once the stream is closed. */
  readonly closed: boolean;
  /** True while written responses wait for the client to read (flow control holds them). */
  readonly writeBlocked: boolean;
  /** The client's address as gRPC names it (`ipv4:1.2.3.4:5678`, `unix:...`, `inproc`). */
  peer(): string;
  /** What the server verified about the client's connection; undefined for none (insecure). */
  authContext(): ConnectionAuth | undefined;
}

/** Where streams accepted by a transport go (the server's `acceptStream`). */
export type StreamAcceptor = (stream: ServerStream, headers: IncomingHeaders, rawHeaders: string[], connection: ConnectionObserver | undefined) => void;

