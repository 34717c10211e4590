import {
  DeadlineTimer,
  encodeMessage,
  logError,
  MessageQueue,
  MessageReader,
  MessageWriter,
  HAS_ROOM,
  ReportingSink,
  trace,
  type Frame,
  type CallObserver,
  type Clock,
  type FrameSink,
  type IncomingHeaders,
  type OutgoingHeaders,
  type ServerStream,
  type ServerStreamListener,
  type StreamReset,
} from "../transport/index.js";
import {
  ACCEPT_ENCODING_HEADER,
  encodeStatusMessage,
  EOF,
  getCompressor,
  Metadata,
  parseEncodingList,
  RpcError,
  UsageError,
  StatusCode,
  type Compressor,
  type GrpcStatus,
  type MetadataInit,
} from "../wire/index.js";
import { authContextOf, peerIdentitiesOf, peerIdentityKeyOf, type AuthContext } from "../credentials/index.js";
import type { RpcMethodHandler } from "./method-handlers.js";
import type { ServicerContext } from "./servicer-context.js";

/** What a call needs from its server. */
export interface CallServer {
  readonly maxReceiveMessageLength: number;
  readonly maxSendMessageLength: number;
  readonly defaultCompression: Compressor | undefined;
  /** What deadlines are measured on (`ServerConfig.clock`). */
  readonly clock: Clock;
  callEnded(call: ServerCall): void;
}

const READ_HIGH_WATER_BYTES = 256 * 1024;

/** Thrown by `context.abort()`: carries the status out of the handler. */
class AbortCall extends RpcError {}

/**
 * One incoming call: reads requests from its stream (HTTP/2, or any transport behind
 * the `ServerStream` seam), runs the handler,
 * writes responses and the status. It is also the handler's `ServicerContext`, so
 * a call costs one object; the AbortSignal is made only if the handler asks.
 *
 * Once the status is decided the call stops receiving: what is buffered is dropped
 * and the stream is let flow, and if the client is still sending, the stream is
 * reset after the trailers (NO_ERROR, or CANCEL past the deadline) as gRPC core does,
 * so that the stream closes and the call leaves the server's books.
 */
export class ServerCall implements ServicerContext<unknown, unknown>, ServerStreamListener {
  private finished = false;
  private headersSent = false;
  private clientGone = false;
  // Set when the call hears of its stream's close: a transport may mark the stream
  // closed a little before (the in-process one delivers the close on a later turn),
  // and done callbacks must see the call as its close left it (a cancel's signal aborted).
  private closed = false;
  private expired = false;
  private wasCancelled = false;
  private controller: AbortController | undefined;
  private abortReason: RpcError | undefined;
  private timer: DeadlineTimer | undefined;
  private readonly reader: MessageReader;
  private readonly writer: MessageWriter;
  // The one request of a unary-request call, as received.
  private requestBytes: Uint8Array | undefined;
  private requests = 0;
  private readonly queue: MessageQueue<unknown> | undefined;
  private readStyle: "read" | "iterate" | undefined;
  private statusCode: StatusCode | undefined;
  private statusDetails: string | undefined;
  private initialMd: Metadata | undefined;
  private trailingMd: Metadata | undefined;
  private invocationMd: Metadata | undefined;
  private trailers: OutgoingHeaders | undefined;
  private compressor: Compressor | undefined;
  private skipNextCompression = false;
  private requestWasCompressed = false;
  private doneCallbacks: ((context: ServicerContext) => void)[] | undefined;
  // The status decided, told to instrumentation when the stream closes.
  private endCode = StatusCode.UNKNOWN;
  private endDetails = "";

  constructor(
    private readonly server: CallServer,
    private readonly stream: ServerStream,
    private readonly headers: IncomingHeaders,
    private readonly rawHeaders: string[],
    private readonly handler: RpcMethodHandler,
    readonly deadline: number | undefined,
    decompressor: Compressor | undefined,
    private readonly observer?: CallObserver,
  ) {
    const preferred = server.defaultCompression;
    if (preferred && parseEncodingList(headerString(headers["grpc-accept-encoding"])).includes(preferred.name)) {
      this.compressor = preferred;
    }
    if (deadline !== undefined) {
      this.timer = new DeadlineTimer(deadline, () => this.expire(), server.clock);
    }
    const streamingRequest = handler.kind === "client_streaming" || handler.kind === "bidi_streaming";
    if (streamingRequest) this.queue = new MessageQueue(READ_HIGH_WATER_BYTES, this);
    this.reader = new MessageReader(this, server.maxReceiveMessageLength, decompressor);
    this.writer = new MessageWriter(this);
    const sink = new ResponseSink(this, stream);
    this.writer.attach(observer === undefined ? sink : new ReportingSink(sink, observer));
    stream.listen(this);
    if (streamingRequest) this.invoke(this.requestIterable());
  }

  // ---- reading -----------------------------------------------------------------

  /** @internal ServerStreamListener */
  onStreamData(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  /** @internal ServerStreamListener */
  onStreamEnd(): void {
    if (this.finished || this.queue?.ended) return;
    if (this.reader.hasPartialMessage) {
      this.finishWithStatus(StatusCode.INTERNAL, "Request stream ended in the middle of a message");
      return;
    }
    if (this.queue) {
      this.queue.end();
      return;
    }
    if (this.requests === 0) {
      // gRPC's statuscodes.md: a cardinality violation is UNIMPLEMENTED.
      this.finishWithStatus(StatusCode.UNIMPLEMENTED, "Received no request message for a unary-request method");
      return;
    }
    const bytes = this.requestBytes!;
    this.requestBytes = undefined;
    let request: unknown;
    try {
      request = this.decodeMessage(bytes, this.requestWasCompressed);
    } catch {
      return; // the call has failed with the reason
    }
    if (request instanceof Promise) request.then((r) => this.invoke(r), ignore);
    else this.invoke(request);
  }

  /** @internal MessageSink */
  onMessageBytes(bytes: Uint8Array, compressed: boolean): void {
    if (this.finished) return;
    this.observer?.onMessageReceived?.(bytes.byteLength, compressed);
    const queue = this.queue;
    if (queue) {
      if (!queue.push(bytes, compressed)) this.stream.pause();
      return;
    }
    if (++this.requests > 1) {
      this.finishWithStatus(StatusCode.UNIMPLEMENTED, "Received more than one request message for a unary-request method");
      return;
    }
    this.requestBytes = bytes;
    this.requestWasCompressed = compressed;
  }

  /** @internal QueueOwner: the handler has read what was buffered; let the client send more. */
  onQueueDrained(): void {
    this.stream.resume();
  }

  /** @internal MessageSink */
  onReadError(error: RpcError): void {
    this.finishWithStatus(error.code, error.details);
  }

  /**
   * @internal MessageDecoding: decompresses (when needed) and parses one request when it
   * is read; a failure ends the call with its status and is thrown to the reader too.
   */
  decodeMessage(bytes: Uint8Array, compressed: boolean): unknown {
    return this.reader.decode(bytes, compressed, this);
  }

  /** @internal MessageParser */
  parseMessage(bytes: Uint8Array): unknown {
    try {
      return this.handler.requestDeserializer(bytes);
    } catch (err) {
      throw new RpcError(StatusCode.INTERNAL, `Failed to parse request: ${errorMessage(err)}`);
    }
  }

  /** @internal MessageParser */
  readFailed(err: unknown): RpcError {
    const error = RpcError.from(err, StatusCode.INTERNAL);
    this.finishWithStatus(error.code, error.details);
    return error;
  }

  private requestIterable(): AsyncIterable<unknown> {
    return {
      [Symbol.asyncIterator]: () => {
        this.useReadStyle("iterate");
        const queue = this.queue!;
        return {
          next: () => queue.next(),
          return: (value?: unknown) => {
            // The handler stopped reading: what is buffered and what still comes is
            // dropped, and data flows so the client is never stalled on our account.
            this.stopReading();
            return Promise.resolve({ value, done: true as const });
          },
        };
      },
    };
  }

  private stopReading(error?: RpcError): void {
    this.reader.stop();
    this.queue?.discard(error);
    this.stream.resume();
  }

  private useReadStyle(style: "read" | "iterate"): void {
    if (this.readStyle !== undefined && this.readStyle !== style) {
      throw new UsageError("Requests are read either with context.read() or by iteration, not both: pick one for the whole call");
    }
    this.readStyle = style;
  }

  // ---- running the handler ---------------------------------------------------

  /** Runs the handler with the request (unary-request kinds) or the request iterable. */
  private invoke(input: unknown): void {
    if (this.finished) return;
    const observer = this.observer;
    if (observer?.runHandler !== undefined) observer.runHandler(() => this.run(input));
    else this.run(input);
  }

  private run(input: unknown): void {
    const handler = this.handler;
    let result: unknown;
    try {
      result = (handler.behavior as (input: unknown, context: ServicerContext) => unknown).call(handler, input, this);
    } catch (err) {
      this.onHandlerError(err);
      return;
    }
    if (handler.kind === "unary" || handler.kind === "client_streaming") {
      if (result instanceof Promise) void this.awaitResponse(result);
      else this.onUnaryResult(result);
    } else {
      void this.streamResponses(result);
    }
  }

  // The handler's outcome is awaited in an async method rather than passed callbacks:
  // one promise per call, where `then(onResult, onError)` needed a closure for each
  // (made for every call) and a promise of its own. Neither method ever rejects.
  private async awaitResponse(result: Promise<unknown>): Promise<void> {
    let response: unknown;
    try {
      response = await result;
    } catch (err) {
      this.onHandlerError(err);
      return;
    }
    this.onUnaryResult(response);
  }

  private onUnaryResult(response: unknown): void {
    if (this.finished) return;
    if (this.statusCode !== undefined && this.statusCode !== StatusCode.OK) {
      this.finishWithStatus(this.statusCode, this.statusDetails ?? "");
      return;
    }
    if (response === undefined || response === null) {
      this.finishWithStatus(StatusCode.INTERNAL, "The method handler returned no response");
      return;
    }
    void this.write(response);
    this.finishWithStatus(StatusCode.OK, this.statusDetails ?? "");
  }

  /** Writes what a streaming handler returned (an iterable, or a promise when it wrote itself), then the status. */
  private async streamResponses(result: unknown): Promise<void> {
    try {
      if (result instanceof Promise) {
        await result;
      } else if (result !== undefined && result !== null) {
        // A write that leaves room returns HAS_ROOM, and is not awaited: one promise turn
        // less per message, and none at all for a synchronous iterable.
        if (typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
          for await (const response of result as AsyncIterable<unknown>) {
            if (this.finished) break;
            const room = this.write(response);
            if (room !== HAS_ROOM) await room;
          }
        } else if (typeof (result as Iterable<unknown>)[Symbol.iterator] === "function") {
          for (let response of result as Iterable<unknown>) {
            if (this.finished) break;
            // As `for await` would: a synchronous iterable may yield promises.
            if (response instanceof Promise) response = await response;
            if (this.finished) break;
            const room = this.write(response);
            if (room !== HAS_ROOM) await room;
          }
        } else {
          throw new TypeError("A streaming method handler must return an (async) iterable or nothing");
        }
      }
    } catch (err) {
      this.onHandlerError(err);
      return;
    }
    this.finishWithStatus(this.statusCode ?? StatusCode.OK, this.statusDetails ?? "");
  }

  private onHandlerError(err: unknown): void {
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
  }

  // ---- writing -----------------------------------------------------------------

  /** gRPC Python `write()`: sends one response; resolves when the stream has room for more (flow control). */
  write(response: unknown): Promise<void> {
    if (this.finished) return HAS_ROOM; // a finished call drops late writes
    let frame: Frame | Promise<Frame>;
    try {
      let bytes: Uint8Array;
      try {
        bytes = this.handler.responseSerializer(response);
      } catch (err) {
        logError(`Failed to serialize the response of ${this.method()}`, err);
        throw new RpcError(StatusCode.INTERNAL, "Failed to serialize the response");
      }
      const compressor = this.skipNextCompression ? undefined : this.compressor;
      this.skipNextCompression = false;
      // A serializer that hands back the response itself (raw bytes) leaves it to the handler, who may reuse it.
      frame = encodeMessage(bytes, this.server.maxSendMessageLength, compressor, bytes !== response);
    } catch (err) {
      const e = RpcError.from(err, StatusCode.INTERNAL);
      this.finishWithStatus(e.code, e.details);
      return HAS_ROOM;
    }
    return this.writer.write(frame);
  }

  /** @internal MessageWriter owner */
  writeFailed(error: RpcError): void {
    this.finishWithStatus(error.code, error.details);
  }

  /** @internal ResponseSink */
  sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    const headers: OutgoingHeaders = {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-accept-encoding": ACCEPT_ENCODING_HEADER,
    };
    if (this.compressor) headers["grpc-encoding"] = this.compressor.name;
    if (this.initialMd) this.initialMd.toHttp2Headers(headers as Record<string, string | string[]>);
    this.stream.sendHeaders(headers);
  }

  /** @internal ResponseSink: the writer has written everything; send the status. */
  endResponse(frame: Frame | undefined): void {
    if (this.clientGone || this.stream.closed) return;
    if (frame === undefined && !this.headersSent) {
      this.respondTrailersOnly();
      return;
    }
    this.sendHeaders();
    // After our status, a client still sending is told to stop (gRPC core does the
    // same); otherwise a stream whose client never half-closes stays open.
    this.stream.end(frame, this.trailers!, this.stopClient);
  }

  /** How a client still sending after the status is stopped: past the deadline, cancelled. */
  private get stopClient(): StreamReset {
    return this.expired ? "cancel" : "done";
  }

  private prepareTrailers(code: StatusCode, details: string): void {
    const trailers: OutgoingHeaders = { "grpc-status": String(code) };
    if (details !== "") trailers["grpc-message"] = encodeStatusMessage(details);
    if (this.trailingMd) this.trailingMd.toHttp2Headers(trailers as Record<string, string | string[]>);
    this.trailers = trailers;
  }

  private respondTrailersOnly(): void {
    const headers: OutgoingHeaders = { ":status": 200, "content-type": "application/grpc", ...this.trailers };
    if (headers["grpc-status"] === String(StatusCode.UNIMPLEMENTED)) headers["grpc-accept-encoding"] = ACCEPT_ENCODING_HEADER;
    if (this.initialMd) this.initialMd.toHttp2Headers(headers as Record<string, string | string[]>);
    this.headersSent = true;
    this.stream.respond(headers, this.stopClient);
  }

  // ---- ending ------------------------------------------------------------------

  /**
   * Decides the status and ends the call: stops receiving, then sends the status after
   * the queued responses (OK) or at once (an error drops what is still queued).
   */
  private finishWithStatus(code: StatusCode, details: string): void {
    if (this.finished) return;
    this.finished = true;
    this.timer?.cancel();
    this.endCode = code;
    this.endDetails = details;
    const failure = code === StatusCode.OK ? undefined : new RpcError(code, details);
    this.stopReading(failure);
    this.prepareTrailers(code, details);
    if (failure) {
      this.writer.fail();
      this.endResponse(undefined);
      // Past the deadline, a client that does not read (so the trailers wait) is reset at once.
      if (this.expired && this.stream.writeBlocked) this.stream.reset("cancel");
      this.abortSignal(failure);
    } else {
      this.writer.end();
    }
  }

  private expire(): void {
    if (this.finished) return;
    trace("server", () => `deadline exceeded: ${this.method()}`);
    this.wasCancelled = true;
    this.expired = true;
    this.finishWithStatus(StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded");
  }

  /** @internal ServerStreamListener */
  onStreamClose(): void {
    this.closed = true;
    if (!this.finished) {
      // The client reset the stream (or the connection died) before we finished.
      this.clientGone = true;
      this.wasCancelled = true;
      this.finished = true;
      this.timer?.cancel();
      const reason = new RpcError(StatusCode.CANCELLED, "The client cancelled the call");
      this.endCode = reason.code;
      this.endDetails = reason.details;
      this.stopReading(reason);
      this.abortSignal(reason);
    }
    // Told now rather than when the status was decided: every response byte has been counted.
    this.observer?.onEnd?.(this.endCode, this.endDetails);
    // Writes still waiting for room are let go: the stream is gone.
    this.writer.fail();
    // The call counts as in flight until its stream is gone (trailers flushed), so a
    // graceful stop does not cut a response that is still being sent.
    this.server.callEnded(this);
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
  }

  /** @internal Server shutdown after the grace period: end with UNAVAILABLE. */
  shutdown(): void {
    if (this.finished) return;
    this.wasCancelled = true;
    this.finishWithStatus(StatusCode.UNAVAILABLE, "Server shutting down");
  }

  private abortSignal(reason: RpcError): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
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
    return this.deadline === undefined ? undefined : Math.max(0, (this.deadline - this.server.clock.now()) / 1000);
  }

  invocationMetadata(): Metadata {
    return (this.invocationMd ??= Metadata.fromRawHeaders(this.rawHeaders));
  }

  method(): string {
    return String(this.headers[":path"]);
  }

  peer(): string {
    return this.stream.peer();
  }

  authContext(): AuthContext {
    return authContextOf(this.stream.authContext());
  }

  peerIdentities(): Buffer[] | undefined {
    return peerIdentitiesOf(this.authContext());
  }

  peerIdentityKey(): string | undefined {
    return peerIdentityKeyOf(this.authContext());
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

  abortWithStatus(status: GrpcStatus): never {
    return this.abort(status.code, status.details, status.trailingMetadata);
  }

  cancelled(): boolean {
    return this.wasCancelled;
  }

  done(): boolean {
    return this.finished;
  }

  isActive(): boolean {
    return !this.finished;
  }

  addCallback(callback: () => void): boolean {
    if (this.closed) return false;
    (this.doneCallbacks ??= []).push(() => callback());
    return true;
  }

  addDoneCallback(callback: (context: ServicerContext) => void): void {
    if (this.closed) callback(this);
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

/**
 * The response body of one call as its writer sees it: headers go out before the first
 * message. An observed call's writer sees it through a `ReportingSink`, as the client's does.
 */
class ResponseSink implements FrameSink {
  constructor(
    private readonly call: ServerCall,
    private readonly stream: ServerStream,
  ) {}

  write(frame: Frame): boolean {
    this.call.sendHeaders();
    return this.stream.write(frame);
  }

  end(frame?: Frame): void {
    this.call.endResponse(frame);
  }

  onceDrain(listener: () => void): void {
    this.stream.onceDrain(listener);
  }
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ignore(): void {}
