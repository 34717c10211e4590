import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { EOF } from "../client/index.js";
import { DeadlineTimer, logError, MessageQueue, MessageReader, RESPOND_END_STREAM, RESPOND_WITH_TRAILERS, trace } from "../transport/index.js";
import {
  ACCEPT_ENCODING_HEADER,
  encodeStatusMessage,
  frameMessage,
  getCompressor,
  Metadata,
  parseEncodingList,
  RpcError,
  StatusCode,
  type Compressor,
  type MetadataInit,
} from "../wire/index.js";
import type { RpcMethodHandler } from "./method-handlers.js";
import type { ServicerContext } from "./servicer-context.js";

/** What a call needs from its server. */
export interface CallServer {
  readonly maxReceiveMessageLength: number;
  readonly maxSendMessageLength: number;
  readonly defaultCompression: Compressor | undefined;
  callEnded(call: ServerCall): void;
}

const RESOLVED = Promise.resolve();
const READ_HIGH_WATER_BYTES = 256 * 1024;

/** Thrown by `context.abort()`: carries the status out of the handler. */
class AbortCall extends RpcError {}

/**
 * One incoming call: reads requests from the HTTP/2 stream, runs the handler,
 * writes responses and the status. It is also the handler's `ServicerContext`, so
 * a call costs one object; the AbortSignal is made only if the handler asks.
 */
export class ServerCall implements ServicerContext<unknown, unknown> {
  private finished = false;
  private headersSent = false;
  private clientGone = false;
  private wasCancelled = false;
  private controller: AbortController | undefined;
  private abortReason: RpcError | undefined;
  private timer: DeadlineTimer | undefined;
  private reader: MessageReader | undefined;
  private request: unknown;
  private requests = 0;
  private queue: MessageQueue<unknown> | undefined;
  private readStyle: "read" | "iterate" | undefined;
  private statusCode: StatusCode | undefined;
  private statusDetails: string | undefined;
  private initialMd: Metadata | undefined;
  private trailingMd: Metadata | undefined;
  private invocationMd: Metadata | undefined;
  private trailers: OutgoingHttpHeaders | undefined;
  private compressor: Compressor | undefined;
  private skipNextCompression = false;
  private requestWasCompressed = false;
  private doneCallbacks: ((context: ServicerContext) => void)[] | undefined;
  private drainWaiters: (() => void)[] | undefined;
  private writeChain: Promise<void> | undefined;

  constructor(
    private readonly server: CallServer,
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly rawHeaders: string[],
    private readonly handler: RpcMethodHandler,
    readonly deadline: number | undefined,
    decompressor: Compressor | undefined,
  ) {
    const preferred = server.defaultCompression;
    if (preferred && parseEncodingList(headerString(headers["grpc-accept-encoding"])).includes(preferred.name)) {
      this.compressor = preferred;
    }
    stream.on("error", ignore);
    stream.once("close", this.onClose);
    if (deadline !== undefined) {
      this.timer = new DeadlineTimer(deadline, () => this.expire());
    }
    const streamingRequest = handler.kind === "client_streaming" || handler.kind === "bidi_streaming";
    if (streamingRequest) this.queue = new MessageQueue(READ_HIGH_WATER_BYTES, () => stream.resume());
    this.reader = new MessageReader(this, server.maxReceiveMessageLength, decompressor);
    stream.on("data", this.onData);
    stream.once("end", this.onEnd);
    if (streamingRequest) this.invoke();
  }

  // ---- reading -----------------------------------------------------------------

  private onData = (chunk: Buffer): void => {
    this.reader!.push(chunk);
  };

  private onEnd = (): void => {
    this.reader!.afterDelivery(this.onRequestsComplete);
  };

  private onRequestsComplete = (): void => {
    if (this.finished) return;
    if (this.reader!.hasPartialMessage) {
      this.fail(StatusCode.INTERNAL, "Request stream ended in the middle of a message");
      return;
    }
    if (this.queue) {
      this.queue.end();
      return;
    }
    if (this.requests === 0) {
      this.fail(StatusCode.INTERNAL, "Received no request message for a unary-request method");
      return;
    }
    this.invoke();
  };

  /** @internal MessageSink */
  onMessageBytes(bytes: Uint8Array, compressed: boolean): void {
    if (this.finished) return;
    let message: unknown;
    try {
      message = this.handler.requestDeserializer(bytes);
    } catch (err) {
      this.fail(StatusCode.INTERNAL, `Failed to parse request: ${errorMessage(err)}`);
      return;
    }
    const queue = this.queue;
    if (queue) {
      if (!queue.push(message, bytes.byteLength, compressed)) this.stream.pause();
      return;
    }
    this.requestWasCompressed = compressed;
    if (++this.requests > 1) {
      this.fail(StatusCode.INTERNAL, "Received more than one request message for a unary-request method");
      return;
    }
    this.request = message;
  }

  /** @internal MessageSink */
  onReadError(error: RpcError): void {
    this.fail(error.code, error.details);
  }

  private requestIterable(): AsyncIterable<unknown> {
    return {
      [Symbol.asyncIterator]: () => {
        this.useReadStyle("iterate");
        const queue = this.queue!;
        return {
          next: () => queue.next(),
          return: (value?: unknown) => {
            // The handler stopped reading: drop what is buffered and let data flow
            // so the client is not stalled by flow control.
            queue.discard();
            this.stream.resume();
            return Promise.resolve({ value, done: true as const });
          },
        };
      },
    };
  }

  private useReadStyle(style: "read" | "iterate"): void {
    if (this.readStyle !== undefined && this.readStyle !== style) {
      throw new Error("Requests are read either with context.read() or by iteration, not both");
    }
    this.readStyle = style;
  }

  // ---- running the handler ---------------------------------------------------

  private invoke(): void {
    const handler = this.handler;
    let result: unknown;
    try {
      // Request-streaming kinds get the iterable, the others the one request.
      const input = this.queue ? this.requestIterable() : this.request;
      result = (handler.behavior as (input: unknown, context: ServicerContext) => unknown).call(handler, input, this);
    } catch (err) {
      this.onHandlerError(err);
      return;
    }
    this.request = undefined;
    if (handler.kind === "unary" || handler.kind === "client_streaming") {
      if (result instanceof Promise) result.then(this.onUnaryResult, this.onHandlerError);
      else this.onUnaryResult(result);
    } else {
      this.drainStreamResult(result).then(this.onStreamDone, this.onHandlerError);
    }
  }

  private onUnaryResult = (response: unknown): void => {
    if (this.finished) return;
    if (this.statusCode !== undefined && this.statusCode !== StatusCode.OK) {
      this.finishWithStatus(this.statusCode, this.statusDetails ?? "");
      return;
    }
    if (response === undefined || response === null) {
      this.finishWithStatus(StatusCode.INTERNAL, "The method handler returned no response");
      return;
    }
    const frame = this.encode(response);
    if (frame === undefined) return;
    if (frame instanceof Promise) {
      frame.then((f) => this.sendLastFrame(f), this.onHandlerError);
    } else {
      this.sendLastFrame(frame);
    }
  };

  private sendLastFrame(frame: Buffer): void {
    if (this.finished) return;
    this.sendHeaders();
    this.prepareTrailers(this.statusCode ?? StatusCode.OK, this.statusDetails ?? "");
    this.finished = true;
    this.stream.end(frame);
    this.cleanup();
  }

  private async drainStreamResult(result: unknown): Promise<void> {
    if (result === undefined || result === null) return;
    if (result instanceof Promise) {
      await result;
      return;
    }
    const iterable = result as AsyncIterable<unknown> | Iterable<unknown>;
    if (typeof (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function" || typeof (iterable as Iterable<unknown>)[Symbol.iterator] === "function") {
      for await (const response of iterable) {
        if (this.finished) break;
        await this.write(response);
      }
      return;
    }
    throw new TypeError("A streaming method handler must return an (async) iterable or nothing");
  }

  private onStreamDone = (): void => {
    if (this.finished) return;
    const finish = () => this.finishWithStatus(this.statusCode ?? StatusCode.OK, this.statusDetails ?? "");
    if (this.writeChain) this.writeChain.then(finish, this.onHandlerError);
    else finish();
  };

  private onHandlerError = (err: unknown): void => {
    if (this.finished) return;
    if (err instanceof RpcError) {
      if (err.trailingMetadata.size > 0) (this.trailingMd ??= new Metadata()).merge(err.trailingMetadata);
      this.finishWithStatus(err.code, err.details);
      return;
    }
    if (this.abortReason) {
      // The call was already cancelled; the handler's error is its reaction to that.
      this.finishWithStatus(this.abortReason.code, this.abortReason.details);
      return;
    }
    logError(`Exception in the method handler of ${this.method()}`, err);
    this.finishWithStatus(StatusCode.UNKNOWN, "Unexpected error in the method handler");
  };

  // ---- writing -----------------------------------------------------------------

  private encode(response: unknown): Buffer | Promise<Buffer> | undefined {
    let bytes: Uint8Array;
    try {
      bytes = this.handler.responseSerializer(response);
    } catch (err) {
      logError(`Failed to serialize the response of ${this.method()}`, err);
      this.finishWithStatus(StatusCode.INTERNAL, "Failed to serialize the response");
      return undefined;
    }
    if (bytes.byteLength > this.server.maxSendMessageLength) {
      this.finishWithStatus(
        StatusCode.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${bytes.byteLength} vs. ${this.server.maxSendMessageLength})`,
      );
      return undefined;
    }
    const compressor = this.compressor;
    if (compressor === undefined || this.skipNextCompression) {
      this.skipNextCompression = false;
      return frameMessage(bytes);
    }
    return compressor.compress(bytes).then((c) => frameMessage(c, true));
  }

  /** gRPC Python `write()`: sends one response; resolves when HTTP/2 has room for more. */
  write(response: unknown): Promise<void> {
    if (this.finished) return RESOLVED; // a cancelled call drops late writes
    const frame = this.encode(response);
    if (frame === undefined) return RESOLVED;
    if (frame instanceof Promise || this.writeChain) {
      const chain: Promise<void> = (this.writeChain ?? RESOLVED).then(() => frame).then((f) => this.writeFrame(f));
      this.writeChain = chain;
      return chain;
    }
    return this.writeFrame(frame);
  }

  private writeFrame(frame: Buffer): Promise<void> {
    if (this.finished) return RESOLVED;
    this.sendHeaders();
    if (this.stream.write(frame)) return RESOLVED;
    return new Promise((resolve) => {
      if (this.drainWaiters === undefined) {
        this.drainWaiters = [];
        this.stream.once("drain", this.wakeDrainWaiters);
      }
      this.drainWaiters.push(resolve);
    });
  }

  private wakeDrainWaiters = (): void => {
    const waiters = this.drainWaiters;
    this.drainWaiters = undefined;
    if (waiters) for (const w of waiters) w();
  };

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    const headers: OutgoingHttpHeaders = {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-accept-encoding": ACCEPT_ENCODING_HEADER,
    };
    if (this.compressor) headers["grpc-encoding"] = this.compressor.name;
    if (this.initialMd) this.initialMd.toHttp2Headers(headers as Record<string, string | string[]>);
    this.stream.respond(headers, RESPOND_WITH_TRAILERS);
    this.stream.once("wantTrailers", this.onWantTrailers);
  }

  private onWantTrailers = (): void => {
    try {
      this.stream.sendTrailers(this.trailers ?? { "grpc-status": String(StatusCode.OK) });
    } catch {
      // The stream was reset meanwhile; nothing is left to tell.
    }
  };

  private prepareTrailers(code: StatusCode, details: string): void {
    const trailers: OutgoingHttpHeaders = { "grpc-status": String(code) };
    if (details !== "") trailers["grpc-message"] = encodeStatusMessage(details);
    if (this.trailingMd) this.trailingMd.toHttp2Headers(trailers as Record<string, string | string[]>);
    this.trailers = trailers;
  }

  // ---- ending ------------------------------------------------------------------

  /** Sends the status (trailers, or trailers-only if nothing was sent yet) and ends the call. */
  private finishWithStatus(code: StatusCode, details: string): void {
    if (this.finished) return;
    this.finished = true;
    const stream = this.stream;
    if (!this.clientGone && !stream.destroyed) {
      if (this.headersSent) {
        this.prepareTrailers(code, details);
        stream.end();
      } else {
        const headers: OutgoingHttpHeaders = {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": String(code),
        };
        if (details !== "") headers["grpc-message"] = encodeStatusMessage(details);
        if (code === StatusCode.UNIMPLEMENTED) headers["grpc-accept-encoding"] = ACCEPT_ENCODING_HEADER;
        if (this.initialMd) this.initialMd.toHttp2Headers(headers as Record<string, string | string[]>);
        if (this.trailingMd) this.trailingMd.toHttp2Headers(headers as Record<string, string | string[]>);
        try {
          stream.respond(headers, RESPOND_END_STREAM);
        } catch {
          // Already reset by the peer.
        }
      }
    }
    if (code !== StatusCode.OK) this.abortSignal(new RpcError(code, details));
    this.cleanup();
  }

  /** A failure found by the runtime (bad frame, parse error): end the call with it. */
  private fail(code: StatusCode, details: string): void {
    if (this.finished) return;
    this.queue?.discard(new RpcError(code, details));
    this.finishWithStatus(code, details);
  }

  private expire(): void {
    if (this.finished) return;
    trace("server", () => `deadline exceeded: ${this.method()}`);
    this.wasCancelled = true;
    this.queue?.discard(new RpcError(StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"));
    this.finishWithStatus(StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded");
  }

  private onClose = (): void => {
    if (!this.finished) {
      // The client reset the stream (or the connection died) before we finished.
      this.clientGone = true;
      this.wasCancelled = true;
      this.finished = true;
      const reason = new RpcError(StatusCode.CANCELLED, "The client cancelled the call");
      this.queue?.discard(reason);
      this.abortSignal(reason);
      this.cleanup();
    }
    // The call counts as in flight until its stream is gone (trailers flushed), so a
    // graceful stop does not cut a response that is still being sent.
    this.server.callEnded(this);
    this.wakeDrainWaiters();
    const callbacks = this.doneCallbacks;
    if (callbacks) {
      this.doneCallbacks = undefined;
      for (const cb of callbacks) {
        try {
          cb(this);
        } catch (err) {
          logError("Exception in a done callback", err);
        }
      }
    }
  };

  /** @internal Server shutdown after the grace period: end with UNAVAILABLE. */
  shutdown(): void {
    if (this.finished) return;
    this.wasCancelled = true;
    this.queue?.discard(new RpcError(StatusCode.UNAVAILABLE, "Server shutting down"));
    this.finishWithStatus(StatusCode.UNAVAILABLE, "Server shutting down");
  }

  private abortSignal(reason: RpcError): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  private cleanup(): void {
    this.timer?.cancel();
  }

  // ---- ServicerContext -----------------------------------------------------------

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  timeRemaining(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, (this.deadline - Date.now()) / 1000);
  }

  invocationMetadata(): Metadata {
    return (this.invocationMd ??= Metadata.fromRawHeaders(this.rawHeaders));
  }

  method(): string {
    return String(this.headers[":path"]);
  }

  peer(): string {
    const socket = this.stream.session?.socket;
    if (!socket) return "unknown";
    const address = socket.remoteAddress;
    if (address === undefined) return `unix:${(socket as { localAddress?: string }).localAddress ?? ""}`;
    return socket.remoteFamily === "IPv6" ? `ipv6:[${address}]:${socket.remotePort}` : `ipv4:${address}:${socket.remotePort}`;
  }

  async sendInitialMetadata(metadata: MetadataInit): Promise<void> {
    if (this.headersSent) throw new Error("Initial metadata was already sent");
    if (this.finished) return;
    this.initialMd = metadata instanceof Metadata ? metadata : new Metadata(metadata);
    this.sendHeaders();
  }

  setTrailingMetadata(metadata: MetadataInit): void {
    this.trailingMd = metadata instanceof Metadata ? metadata : new Metadata(metadata);
  }

  setCode(code: StatusCode): void {
    this.statusCode = code;
  }

  setDetails(details: string): void {
    this.statusDetails = details;
  }

  code(): StatusCode | undefined {
    return this.statusCode;
  }

  details(): string | undefined {
    return this.statusDetails;
  }

  abort(code: StatusCode, details = "", trailingMetadata?: MetadataInit): never {
    if (code === StatusCode.OK) throw new TypeError("abort() needs a non-OK status code");
    if (trailingMetadata !== undefined) this.setTrailingMetadata(trailingMetadata);
    throw new AbortCall(code, details);
  }

  cancelled(): boolean {
    return this.wasCancelled;
  }

  done(): boolean {
    return this.finished;
  }

  addDoneCallback(callback: (context: ServicerContext) => void): void {
    if (this.stream.closed) callback(this);
    else (this.doneCallbacks ??= []).push(callback);
  }

  setCompression(algorithm: string): void {
    if (this.headersSent) throw new Error("setCompression() must come before the first response");
    const compressor = getCompressor(algorithm);
    if (!compressor) throw new TypeError(`Unsupported compression ${algorithm}`);
    const accepted = parseEncodingList(headerString(this.headers["grpc-accept-encoding"]));
    // Compress only with what the client said it can read.
    this.compressor = compressor.name !== "identity" && accepted.includes(compressor.name) ? compressor : undefined;
  }

  disableNextMessageCompression(): void {
    this.skipNextCompression = true;
  }

  requestCompressed(): boolean {
    return this.queue ? this.queue.lastCompressed : this.requestWasCompressed;
  }

  async read(): Promise<unknown> {
    if (this.queue === undefined) throw new Error("read() is only for client-streaming and bidi methods");
    this.useReadStyle("read");
    const r = await this.queue.next();
    return r.done ? EOF : r.value;
  }
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ignore(): void {}
