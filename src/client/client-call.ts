import {
  DeadlineTimer,
  encodeMessage,
  handled,
  MessageQueue,
  MessageReader,
  MessageWriter,
  HAS_ROOM,
  ReportingSink,
  trace,
  type CallObserver,
  type Clock,
  type ChannelObserver,
  type ClientStream,
  type ClientStreamListener,
  type ClientTransport,
  type Frame,
  type IncomingHeaders,
  type OutgoingHeaders,
  type ReplayBudget,
} from "../transport/index.js";
import {
  ACCEPT_ENCODING_HEADER,
  decodeStatusMessage,
  encodeTimeout,
  getCompressor,
  httpStatusToCode,
  isGrpcContentType,
  Metadata,
  parseStatusCode,
  RpcError,
  UsageError,
  StatusCode,
  type Compressor,
} from "../wire/index.js";
import type { CallCredentials } from "../credentials/index.js";
import { applyCallCredentials, callCredentialsFor, withCredentialMetadata, type CallCredentialsHost } from "./apply-call-credentials.js";
import type { CallOptions } from "./call-options.js";
import { resolveDeadline } from "./deadline.js";
import type { ClientInterceptor } from "./interceptor.js";
import { CallRetry, PREVIOUS_ATTEMPTS_HEADER, rawHeader, RETRY_PUSHBACK_HEADER, type RetryThrottle } from "./retry.js";
import type { HedgingPolicy, MethodConfig } from "./service-config.js";
import { Hedging } from "./hedging.js";
import type { PickInfo } from "./load-balancer.js";

/** What a call needs from its channel. */
export interface CallHost extends CallCredentialsHost {
  readonly scheme: "http" | "https";
  readonly authority: string;
  readonly userAgent: string;
  readonly maxReceiveMessageLength: number;
  readonly maxSendMessageLength: number;
  readonly defaultCompression: Compressor | undefined;
  readonly interceptors: readonly ClientInterceptor[];
  /** Request bytes a call keeps for a transparent retry (gRPC's per-RPC retry buffer); 0 disables it. */
  readonly retryBufferBytes: number;
  /** What all calls of the channel keep together (`grpc.retry_buffer_size`). */
  readonly retryBudget: ReplayBudget | undefined;
  /** The retry throttle of the channel's service config, if it has one. */
  readonly retryThrottle: RetryThrottle | undefined;
  /** What deadlines are measured on (`ChannelConfig.clock`). */
  readonly clock: Clock;
  /** The service config's settings for a method, if the channel has a service config. */
  methodConfig(path: string): MethodConfig | undefined;
  /** Hands the call a READY connection (`call.begin`) or fails it (`call.failToStart`). */
  startCall(call: Startable): void;
  endCall(call: Startable): void;
  /** The channel's instrumentation (channelz, metrics), if a plugin observes it. */
  readonly observer?: ChannelObserver | undefined;
}

/** What a channel starts on a picked connection: a call, or one hedged attempt of a call. */
export interface Startable extends PickInfo {
  readonly waitForReady: boolean;
  /** Opens the call's (or attempt's) stream on `transport`, a READY connection the channel picked. */
  begin(transport: ClientTransport): void;
  failToStart(code: StatusCode, details: string): void;
  cancel(details?: string): boolean;
}

/** A method as the channel sees it: a path plus a serializer and a deserializer. */
export interface Method<Req, Res> {
  readonly path: string;
  readonly serialize: (request: Req) => Uint8Array;
  readonly deserialize: (bytes: Uint8Array) => Res;
  /** From a service descriptor rather than a bare path: instrumentation reports its name. */
  readonly registered?: boolean;
}

type DoneCallback<C> = (call: C) => void;

/** Per-message options of `write()`. */
export interface WriteOptions {
  /** false sends this message uncompressed even when the call compresses (gRPC's per-message flag). */
  compress?: boolean;
}

// Responses are buffered up to this many wire bytes before the HTTP/2 stream is
// paused; beyond it, flow control holds the peer back.
const READ_HIGH_WATER_BYTES = 256 * 1024;

/**
 * The state machine shared by the four call kinds: one HTTP/2 stream, its deadline,
 * cancellation, message framing and the final status. Subclasses decide which of
 * `write`/`read`/awaiting they expose.
 *
 * A call whose stream never reached the server's application (refused with
 * REFUSED_STREAM, or above a GOAWAY's last stream id, or not opened because the
 * connection was going away) is started once more on a new stream, invisibly to the
 * caller (gRFC A6 transparent retry), replaying the requests written so far.
 */
export abstract class ClientCall<Req, Res> implements ClientStreamListener {
  protected stream: ClientStream | undefined;
  private finished = false;
  private statusCode: StatusCode = StatusCode.UNKNOWN;
  private statusDetails = "";
  private failure: RpcError | undefined;
  private receivedStatus: StatusCode | undefined;
  private receivedDetails = "";
  // Node's flat [name, value, ...] arrays keep repeated keys apart; converted on demand.
  private headersRaw: string[] | undefined;
  private trailersRaw: string[] | undefined;
  private initialMd: Metadata | undefined;
  private trailingMd: Metadata | undefined;
  private reader: MessageReader | undefined;
  private early: Uint8Array[] | undefined;
  private readonly writer: MessageWriter;
  private retried = false;
  private settling = false;
  private deadline: number | undefined;
  private readonly maxSendBytes: number;
  private readonly maxReceiveBytes: number;
  /** Set for calls whose method has a retry policy, or a hedging policy (once the request is known). */
  private retry: CallRetry | Hedging | undefined;
  private hedgingPolicy: HedgingPolicy | undefined;
  /** With a hedging policy: the request frames, for the hedged attempts (dropped once past the retry buffer). */
  private hedgeFrames: (Frame | Promise<Frame>)[] | undefined;
  private timer: DeadlineTimer | undefined;
  private readonly signal: AbortSignal | undefined;
  private abortListener: (() => void) | undefined;
  private metadata: Metadata | undefined;
  private readonly credentials: CallCredentials | undefined;
  private readonly compressor: Compressor | undefined;
  private finishWaiters: (() => void)[] | undefined;
  private headerWaiters: (() => void)[] | undefined;
  /** Callers of waitForConnection() before the stream opened. */
  private connectWaiters: (() => void)[] | undefined;
  private doneCallbacks: DoneCallback<this>[] | undefined;
  readonly waitForReady: boolean;
  private writesDone = false;
  private readonly observer: CallObserver | undefined;

  // Reading: a queue for streaming responses, one slot for a single response.
  protected queue: MessageQueue<Res> | undefined;
  protected response: Res | undefined;
  private responseBytes: Uint8Array | undefined;
  private responses = 0;
  private responseWasCompressed = false;

  constructor(
    protected readonly host: CallHost,
    protected readonly method: Method<Req, Res>,
    options: CallOptions | undefined,
    streamingResponse: boolean,
  ) {
    this.deadline = options ? resolveDeadline(options.timeoutMs, options.deadline, host.clock) : undefined;
    this.maxSendBytes = host.maxSendMessageLength;
    this.maxReceiveBytes = host.maxReceiveMessageLength;
    const config = host.methodConfig(method.path);
    if (config === undefined) {
      this.waitForReady = options?.waitForReady === true;
    } else {
      // The service config's method settings; the call's own options win, limits take the lower.
      this.waitForReady = options?.waitForReady ?? config.waitForReady === true;
      if (config.timeoutMs !== undefined) {
        const configured = host.clock.now() + config.timeoutMs;
        if (this.deadline === undefined || configured < this.deadline) this.deadline = configured;
      }
      if (config.maxRequestMessageBytes !== undefined) this.maxSendBytes = Math.min(this.maxSendBytes, config.maxRequestMessageBytes);
      if (config.maxResponseMessageBytes !== undefined) this.maxReceiveBytes = Math.min(this.maxReceiveBytes, config.maxResponseMessageBytes);
      if (config.retryPolicy !== undefined && host.retryBufferBytes > 0) this.retry = new CallRetry(config.retryPolicy, host.retryThrottle);
      if (config.hedgingPolicy !== undefined && host.retryBufferBytes > 0) {
        this.hedgingPolicy = config.hedgingPolicy;
        this.hedgeFrames = [];
      }
    }
    const md = options?.metadata;
    this.metadata = md === undefined ? undefined : md instanceof Metadata ? md : new Metadata(md);
    const compression = options?.compression;
    if (compression !== undefined) {
      const c = getCompressor(compression);
      if (!c) throw new TypeError(`Unsupported compression ${compression}`);
      this.compressor = c.name === "identity" ? undefined : c;
    } else {
      this.compressor = host.defaultCompression;
    }
    if (streamingResponse) this.queue = new MessageQueue<Res>(READ_HIGH_WATER_BYTES, this);
    this.writer = new MessageWriter(this, host.retryBufferBytes, host.retryBudget);
    this.signal = options?.signal;
    this.observer = host.observer?.onCallStarted?.(method.path, method.registered === true);
    this.credentials = callCredentialsFor(host, options?.credentials);
  }

  /** @internal PickInfo: the method path, for load-balancing pickers. */
  get methodPath(): string {
    return this.method.path;
  }

  /** @internal PickInfo: the call's metadata, for load-balancing pickers. */
  get requestMetadata(): Metadata | undefined {
    return this.metadata;
  }

  /** Called by the multi-callable once the subclass is constructed. */
  protected launch(): void {
    const signal = this.signal;
    if (signal) {
      if (signal.aborted) {
        const [code, details] = abortStatus(signal);
        this.finish(code, details);
        return;
      }
      this.abortListener = () => {
        const [code, details] = abortStatus(signal);
        this.abort(code, details);
      };
      signal.addEventListener("abort", this.abortListener, { once: true });
    }
    if (this.deadline !== undefined) {
      if (this.deadline <= this.host.clock.now()) {
        this.finish(StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded");
        return;
      }
      this.timer = new DeadlineTimer(this.deadline, () => this.abort(StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), this.host.clock);
    }
    if (this.credentials === undefined) this.startAttempt();
    else this.authorize(this.credentials);
  }

  /** Runs the call credentials first; their metadata joins the call's, or the call fails unsent. */
  private authorize(credentials: CallCredentials): void {
    applyCallCredentials(
      this.host,
      credentials,
      this.method.path,
      this,
      (metadata) => {
        this.metadata = withCredentialMetadata(this.metadata, metadata);
        this.startAttempt();
      },
      (code, details, cause) => this.finish(code, details, cause),
    );
  }

  // ---- transport side -------------------------------------------------------

  /** Opens the call's stream on a READY connection. */
  begin(transport: ClientTransport): void {
    // A stream already: a hedged attempt won while this call still waited for a connection.
    if (this.finished || this.stream !== undefined) return;
    const headers = this.attemptHeaders(this.retry === undefined ? 0 : this.retry.attempts - 1);
    // A tracing plugin's context goes out with this attempt's headers.
    this.observer?.onSendHeaders?.((key, value) => {
      headers[key] = value;
    });
    let stream: ClientStream;
    try {
      stream = transport.openStream(headers, this);
    } catch (err) {
      // Nothing was sent (the session is going away): another connection may take it.
      if (!this.retryTransparently(`could not open a stream: ${errorMessage(err)}`)) {
        this.finish(StatusCode.UNAVAILABLE, `Failed to start call: ${errorMessage(err)}`, err);
      }
      return;
    }
    this.stream = stream;
    const observer = this.observer;
    if (observer !== undefined) {
      observer.onTransport?.(transport.observer);
      this.writer.attach(new ReportingSink(stream, observer));
    } else {
      this.writer.attach(stream);
    }
    const waiters = this.connectWaiters;
    if (waiters !== undefined) {
      this.connectWaiters = undefined;
      for (const w of waiters) w();
    }
  }

  /** @internal The request headers of an attempt after `previousAttempts` others. */
  attemptHeaders(previousAttempts: number): OutgoingHeaders {
    const host = this.host;
    const headers: OutgoingHeaders = {
      ":method": "POST",
      ":scheme": host.scheme,
      ":path": this.method.path,
      ":authority": host.authority,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": host.userAgent,
      "grpc-accept-encoding": ACCEPT_ENCODING_HEADER,
    };
    if (this.deadline !== undefined) headers["grpc-timeout"] = encodeTimeout(this.deadline - host.clock.now());
    if (this.compressor) headers["grpc-encoding"] = this.compressor.name;
    if (this.metadata) this.metadata.toHttp2Headers(headers as Record<string, string | string[]>);
    if (previousAttempts > 0) headers[PREVIOUS_ATTEMPTS_HEADER] = String(previousAttempts);
    return headers;
  }

  /** The channel could not provide a connection. */
  failToStart(code: StatusCode, details: string, cause?: unknown): void {
    this.finish(code, details, cause);
  }

  /** @internal ClientStreamListener */
  onStreamHeaders(headers: IncomingHeaders, raw: string[], endStream: boolean): void {
    if (this.finished) return;
    // Response headers commit the call (gRFC A6): no retry of any kind from here. A
    // Trailers-Only response does not; its status may still be retried.
    if (!endStream) {
      this.writer.commit();
      if (this.retry !== undefined) this.retry.commit();
    }
    const httpStatus = Number(headers[":status"]);
    if (httpStatus !== 200 && !(endStream && headers["grpc-status"] !== undefined)) {
      this.abort(httpStatusToCode(httpStatus), `Received HTTP status code ${httpStatus}`);
      return;
    }
    const contentType = headers["content-type"];
    if (!isGrpcContentType(contentType)) {
      this.abort(StatusCode.UNKNOWN, `Invalid content-type in response: ${String(contentType)}`);
      return;
    }
    if (endStream) {
      // Trailers-only: the status rides in the only HEADERS frame.
      this.onStreamTrailers(headers, raw);
      return;
    }
    this.headersRaw = raw;
    const encoding = headers["grpc-encoding"];
    let decompressor: Compressor | undefined;
    if (typeof encoding === "string" && encoding !== "identity") {
      decompressor = getCompressor(encoding);
      if (!decompressor) {
        this.abort(StatusCode.INTERNAL, `Server sent unsupported message encoding ${encoding}`);
        return;
      }
    }
    const reader = new MessageReader(this, this.maxReceiveBytes, decompressor);
    this.reader = reader;
    this.wakeHeaderWaiters();
    const early = this.early;
    if (early !== undefined) {
      this.early = undefined;
      for (const chunk of early) if (!this.finished) reader.push(chunk);
    }
  }

  /**
   * @internal ClientStreamListener. Node emits 'response' on the next tick but 'data'
   * at once, so DATA that came in the same read as the HEADERS reaches us first (HTTP/2
   * itself forbids DATA before HEADERS, and nghttp2 enforces it): it waits for the reader.
   */
  onStreamData(chunk: Uint8Array): void {
    if (this.finished) return;
    const reader = this.reader;
    if (reader === undefined) (this.early ??= []).push(chunk);
    else reader.push(chunk);
  }

  /** @internal MessageSink: one whole response message, as received. */
  onMessageBytes(bytes: Uint8Array, compressed: boolean): void {
    if (this.finished) return;
    this.observer?.onMessageReceived?.(bytes.byteLength, compressed);
    const queue = this.queue;
    if (queue !== undefined) {
      if (!queue.push(bytes, compressed)) this.stream?.pause();
      return;
    }
    if (++this.responses > 1) {
      // gRPC's statuscodes.md: a cardinality violation is UNIMPLEMENTED.
      this.abort(StatusCode.UNIMPLEMENTED, "Received more than one response message for a unary-response call");
      return;
    }
    this.responseBytes = bytes;
    this.responseWasCompressed = compressed;
  }

  /** @internal QueueOwner: the reader has caught up; let the server send more. */
  onQueueDrained(): void {
    this.stream?.resume();
  }

  /** @internal MessageSink: framing failed. */
  onReadError(error: RpcError): void {
    this.abort(error.code, error.details, error);
  }

  /**
   * @internal MessageDecoding: decompresses (when needed) and parses one response when
   * it is read; a failure ends the call with its status and is thrown to the reader too.
   */
  decodeMessage(bytes: Uint8Array, compressed: boolean): Res | Promise<Res> {
    return this.reader!.decode(bytes, compressed, this);
  }

  /** @internal MessageParser */
  parseMessage(bytes: Uint8Array): Res {
    try {
      return this.method.deserialize(bytes);
    } catch (err) {
      throw new RpcError(StatusCode.INTERNAL, `Failed to parse server response: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** @internal MessageParser */
  readFailed(err: unknown): RpcError {
    const error = RpcError.from(err, StatusCode.INTERNAL);
    this.abort(error.code, error.details, error);
    return this.failure ?? error;
  }

  /** @internal ClientStreamListener */
  onStreamTrailers(trailers: IncomingHeaders, raw: string[]): void {
    this.trailersRaw = raw;
    const status = trailers["grpc-status"];
    const code = parseStatusCode(typeof status === "string" ? status : undefined);
    if (code === undefined) {
      this.receivedStatus = StatusCode.UNKNOWN;
      this.receivedDetails = status === undefined ? "Response ended without a grpc-status" : `Invalid grpc-status: ${String(status)}`;
      return;
    }
    this.receivedStatus = code;
    const message = trailers["grpc-message"];
    this.receivedDetails = typeof message === "string" ? decodeStatusMessage(message) : "";
  }

  /**
   * @internal ClientStreamListener. The end comes once every DATA chunk has been
   * delivered, which can be long after the trailers when the reader is slow; the close
   * may not come at all while our request side is still open, so the status is settled here.
   */
  onStreamEnd(): void {
    if (this.receivedStatus === undefined) return;
    this.settleFromStream();
  }

  /** @internal ClientStreamListener */
  onStreamClose(): void {
    this.settleFromStream();
  }

  private settleFromStream(): void {
    // 'end' and 'close' both come; the first settles (a compressed response may take a while).
    if (this.finished || this.settling) return;
    const received = this.receivedStatus;
    const stream = this.stream!;
    if (received !== undefined) {
      this.settleWithStatus(received);
      stream.reset("done");
      return;
    }
    const reason = stream.closeReason();
    if (this.headersRaw === undefined && reason.notProcessed && this.retryTransparently("the server did not process the stream")) return;
    this.endAttempt(reason.code, reason.details);
  }

  private settleWithStatus(received: StatusCode): void {
    if (this.reader?.hasPartialMessage) {
      this.finish(StatusCode.INTERNAL, "Response ended in the middle of a message");
      return;
    }
    if (received !== StatusCode.OK) {
      this.endAttempt(received, this.receivedDetails);
      return;
    }
    if (this.queue !== undefined) {
      this.finish(received, this.receivedDetails);
      return;
    }
    const bytes = this.responseBytes;
    if (bytes === undefined) {
      this.finish(StatusCode.UNIMPLEMENTED, "No response message received for a unary-response call");
      return;
    }
    this.responseBytes = undefined;
    this.settling = true;
    let response: Res | Promise<Res>;
    try {
      response = this.decodeMessage(bytes, this.responseWasCompressed);
    } catch {
      return; // the call has failed with the reason
    }
    if (response instanceof Promise) response.then((r) => this.finishWithResponse(r), ignore);
    else this.finishWithResponse(response);
  }

  private finishWithResponse(response: Res): void {
    if (this.finished) return;
    this.response = response;
    this.finish(StatusCode.OK, this.receivedDetails);
  }

  /** Starts the call once more on a new stream, if it may be; true if it did. */
  private retryTransparently(why: string): boolean {
    if (this.retried || this.finished || !this.writer.canReplay) return false;
    this.retried = true;
    trace("call", () => `${this.method.path}: transparent retry, ${why}`);
    this.resetAttempt();
    this.observer?.onAttemptEnded?.(StatusCode.UNAVAILABLE, `Transparent retry: ${why}`);
    this.startAttempt(true);
    return true;
  }

  /** Asks the channel for a connection for the next attempt (the instrumentation sees it start). */
  private startAttempt(transparentRetry = false): void {
    this.observer?.onAttemptStarted?.(transparentRetry);
    this.host.startCall(this as unknown as ClientCall<never, never>);
  }

  /**
   * An attempt ended with `code` before the response headers came: with a retry
   * policy that allows it, the call starts again after the policy's backoff (gRFC
   * A6); otherwise that is the call's status.
   */
  private endAttempt(code: StatusCode, details: string): void {
    const retry = this.retry;
    if (retry instanceof Hedging) {
      if (this.headersRaw === undefined && !this.finished && retry.attemptFailed(code)) this.resetAttempt();
      else this.finish(code, details);
      return;
    }
    if (retry !== undefined && this.headersRaw === undefined && !this.finished && this.writer.canReplay) {
      const delay = retry.nextDelay(code, rawHeader(this.trailersRaw, RETRY_PUSHBACK_HEADER), this.deadline, this.host.clock.now());
      if (delay !== undefined) {
        trace("call", () => `${this.method.path}: ${StatusCode[code]} (${details}); attempt ${retry.attempts} in ${Math.round(delay)} ms`);
        this.resetAttempt();
        this.observer?.onAttemptEnded?.(code, details);
        retry.schedule(delay, () => {
          if (!this.finished) this.startAttempt();
        });
        return;
      }
    }
    this.finish(code, details);
  }

  /** @internal Hedging: another attempt's stream, which has just received `headers`, becomes this call's. */
  adopt(stream: ClientStream, headers: IncomingHeaders, raw: string[], endStream: boolean, early: Uint8Array[]): void {
    if (this.finished) {
      stream.reset("cancel");
      return;
    }
    if (this.stream !== undefined) this.resetAttempt(); // the call's own stream lost
    this.stream = stream;
    stream.listen(this);
    this.onStreamHeaders(headers, raw, endStream);
    for (const chunk of early) this.onStreamData(chunk);
  }

  /** @internal Hedging: no attempt succeeded. */
  hedgingFailed(code: StatusCode, details: string): void {
    this.abort(code, details);
  }

  /** Lets go of the current stream (it has ended, or will be reset) and rewinds the requests for the next. */
  private resetAttempt(): void {
    const stream = this.stream;
    if (stream !== undefined) {
      stream.listen(undefined);
      // A stream that ended with a status needs no reset once our side is done too.
      stream.reset(this.receivedStatus !== undefined ? "done" : "cancel");
    }
    this.stream = undefined;
    this.reader = undefined;
    this.early = undefined;
    this.trailersRaw = undefined;
    this.receivedStatus = undefined;
    this.settling = false;
    // Hedging keeps its own copy of the request: its writer may have let go of the replay.
    if (this.writer.canReplay) this.writer.rewind();
  }

  /** The status is final; settle whatever the subclass exposes. */
  protected onFinish(): void {
    this.queue?.end(this.failure);
  }

  // ---- writing ---------------------------------------------------------------

  /** Queues one request message; resolves when the stream has room for more (flow control). */
  protected writeMessage(request: Req, options?: WriteOptions): Promise<void> {
    if (this.finished) return handled(Promise.reject(this.failure ?? new Error("write() after the call finished")));
    if (this.writesDone) return handled(Promise.reject(new UsageError("write() after doneWriting(): write every request first, then call doneWriting() once")));
    let frame: Frame | Promise<Frame>;
    try {
      frame = this.encode(request, options?.compress !== false);
    } catch (err) {
      const e = RpcError.from(err, StatusCode.INTERNAL);
      this.abort(e.code, e.details, err);
      return handled(Promise.reject(this.failure));
    }
    if (this.hedgeFrames !== undefined) this.keepForHedging(frame);
    return this.writer.write(frame);
  }

  private keepForHedging(frame: Frame | Promise<Frame>): void {
    if (this.writer.canReplay) this.hedgeFrames!.push(frame);
    else this.hedgeFrames = undefined; // past the retry buffer: committed, no hedging
  }

  /** Half-closes the request side. */
  protected endWrites(): void {
    if (this.writesDone || this.finished) return;
    this.writesDone = true;
    // Hedged attempts start once the request is complete, each sending all of it.
    const frames = this.hedgeFrames;
    if (frames !== undefined && this.writer.canReplay) this.retry = new Hedging(this, this.host, this.hedgingPolicy!, this.host.retryThrottle, frames);
    this.hedgeFrames = undefined;
    this.writer.end();
  }

  /** Writes every message of `source`, then half-closes; stops early if the call ends. */
  protected async pump(source: AsyncIterable<Req> | Iterable<Req>): Promise<void> {
    try {
      for await (const request of source) {
        if (this.finished) break;
        await this.writeMessage(request);
      }
      this.endWrites();
    } catch (err) {
      if (!this.finished) this.abort(StatusCode.CANCELLED, `Error reading the request stream: ${errorMessage(err)}`, err);
    }
  }

  /** Serializes (and compresses) the first and only request of a unary-request call. */
  protected sendOnly(request: Req): void {
    let frame: Frame | Promise<Frame>;
    try {
      frame = this.encode(request);
    } catch (err) {
      const e = RpcError.from(err, StatusCode.INTERNAL);
      this.finish(e.code, e.details, err);
      return;
    }
    if (this.hedgeFrames !== undefined) this.hedgeFrames.push(frame);
    void this.writer.write(frame);
    this.endWrites();
  }

  private encode(request: Req, compress = true): Frame | Promise<Frame> {
    let bytes: Uint8Array;
    try {
      bytes = this.method.serialize(request);
    } catch (err) {
      throw new RpcError(StatusCode.INTERNAL, `Failed to serialize request: ${errorMessage(err)}`, { cause: err });
    }
    // A serializer that hands back the request itself (raw bytes) leaves it to the caller, who may reuse it.
    return encodeMessage(bytes, this.maxSendBytes, compress ? this.compressor : undefined, bytes !== (request as unknown));
  }

  /** @internal MessageWriter owner */
  writeFailed(error: RpcError): void {
    this.abort(error.code, error.details, error);
  }

  // ---- ending ----------------------------------------------------------------

  /** Ends the call locally: RST_STREAM(CANCEL) to the peer, `code` to the caller. */
  protected abort(code: StatusCode, details: string, cause?: unknown): void {
    if (this.finished) return;
    this.stream?.reset("cancel");
    this.finish(code, details, cause);
  }

  private finish(code: StatusCode, details: string, cause?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.statusCode = code;
    this.statusDetails = details;
    this.timer?.cancel();
    this.observer?.onEnd?.(code, details);
    if (this.retry !== undefined) this.retry.done(code);
    if (this.abortListener) this.signal!.removeEventListener("abort", this.abortListener);
    this.host.endCall(this as unknown as ClientCall<never, never>);
    if (code !== StatusCode.OK) {
      const error = new RpcError(code, details, {
        initialMetadata: this.initialMetadataNow(),
        trailingMetadata: this.trailingMetadataNow(),
        debugErrorString: `${StatusCode[code]}: ${details} (${this.method.path})`,
        cause,
      });
      this.failure = error;
    }
    this.responseBytes = undefined;
    this.reader?.stop();
    this.writer.fail(this.failure);
    this.onFinish();
    this.wakeHeaderWaiters();
    const waiters = this.finishWaiters;
    if (waiters) {
      this.finishWaiters = undefined;
      for (const w of waiters) w();
    }
    const callbacks = this.doneCallbacks;
    if (callbacks) {
      this.doneCallbacks = undefined;
      for (const cb of callbacks) runCallback(cb, this);
    }
  }

  /** The final error, if the call failed (for subclasses settling their promises). */
  protected get error(): RpcError | undefined {
    return this.failure;
  }

  /**
   * A fresh copy of the failure, made where it is thrown to the caller. Made inside an
   * async function the caller awaits, its stack carries the caller's frames (V8's
   * async stack traces) at no cost per call, where capturing a stack at every call
   * start cost a third of unary throughput.
   */
  protected failureForCaller(): RpcError {
    const e = this.failure!;
    return new RpcError(e.code, e.details, {
      initialMetadata: e.initialMetadata,
      trailingMetadata: e.trailingMetadata,
      debugErrorString: e.debugErrorString,
      cause: e.cause,
    });
  }

  protected get isFinished(): boolean {
    return this.finished;
  }

  protected whenFinished(): Promise<void> {
    if (this.finished) return HAS_ROOM;
    return new Promise((resolve) => (this.finishWaiters ??= []).push(resolve));
  }

  private wakeHeaderWaiters(): void {
    const waiters = this.headerWaiters;
    if (!waiters) return;
    this.headerWaiters = undefined;
    for (const w of waiters) w();
  }

  private initialMetadataNow(): Metadata {
    return (this.initialMd ??= this.headersRaw ? Metadata.fromRawHeaders(this.headersRaw) : new Metadata());
  }

  private trailingMetadataNow(): Metadata {
    return (this.trailingMd ??= this.trailersRaw ? Metadata.fromRawHeaders(this.trailersRaw) : new Metadata());
  }

  // ---- the public face shared by every call kind (grpc.aio.Call) --------------

  /** Resolves to the status code once the call ends (gRPC Python `code()`). */
  code(): Promise<StatusCode> {
    return this.whenFinished().then(() => this.statusCode);
  }

  /** Resolves to the status details once the call ends (gRPC Python `details()`). */
  details(): Promise<string> {
    return this.whenFinished().then(() => this.statusDetails);
  }

  /** Resolves to the server's initial metadata (gRPC Python `initial_metadata()`). */
  initialMetadata(): Promise<Metadata> {
    if (this.headersRaw !== undefined || this.finished) return Promise.resolve(this.initialMetadataNow());
    return new Promise<void>((resolve) => (this.headerWaiters ??= []).push(resolve)).then(() => this.initialMetadataNow());
  }

  /** Resolves to the trailing metadata once the call ends (gRPC Python `trailing_metadata()`). */
  trailingMetadata(): Promise<Metadata> {
    return this.whenFinished().then(() => this.trailingMetadataNow());
  }

  /**
   * Resolves once the call's stream is open on a connection, its request headers sent
   * (gRPC Python aio `wait_for_connection()`); rejects with the call's `RpcError` if it
   * has ended with one (e.g. UNAVAILABLE when no connection could be made).
   */
  async waitForConnection(): Promise<void> {
    if (this.stream === undefined && !this.finished) {
      await new Promise<void>((resolve) => {
        (this.connectWaiters ??= []).push(resolve);
        void this.whenFinished().then(resolve);
      });
    }
    if (this.finished && this.failure !== undefined) throw this.failureForCaller();
  }

  /** Cancels the call; false if it had already ended (gRPC Python `cancel()`). */
  cancel(details = "Cancelled by the application"): boolean {
    if (this.finished) return false;
    this.abort(StatusCode.CANCELLED, details);
    return true;
  }

  /** True once the call has ended (gRPC Python `done()`). */
  done(): boolean {
    return this.finished;
  }

  /** True if the call ended as CANCELLED (gRPC Python `cancelled()`). */
  cancelled(): boolean {
    return this.finished && this.statusCode === StatusCode.CANCELLED;
  }

  /** Seconds left before the deadline, or undefined without one (gRPC Python `time_remaining()`). */
  timeRemaining(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, (this.deadline - this.host.clock.now()) / 1000);
  }

  /**
   * Whether the last response read (the response, for single-response calls) arrived
   * compressed on the wire. Experimental: for conformance checks and debugging.
   */
  responseCompressed(): boolean {
    return this.queue ? this.queue.lastCompressed : this.responseWasCompressed;
  }

  /** Runs `callback(call)` when the call ends, at once if it has (gRPC Python `add_done_callback()`). */
  addDoneCallback(callback: DoneCallback<this>): void {
    if (this.finished) runCallback(callback, this);
    else (this.doneCallbacks ??= []).push(callback);
  }
}

function runCallback<C>(callback: DoneCallback<C>, call: C): void {
  try {
    callback(call);
  } catch (err) {
    // A throwing callback must not break the call or the others (gRPC Python logs it too).
    console.error("async-grpc: exception in a done callback:", err);
  }
}

// A signal's reason decides the status: AbortSignal.timeout() (TimeoutError) is a
// deadline, an RpcError (e.g. a server handler's context.signal passed on to an
// outgoing call) keeps its code, anything else is a cancellation.
function abortStatus(signal: AbortSignal): [StatusCode, string] {
  const reason: unknown = signal.reason;
  if (reason instanceof RpcError) return [reason.code, reason.details];
  if (reason instanceof Error && reason.name === "TimeoutError") return [StatusCode.DEADLINE_EXCEEDED, `Deadline Exceeded: ${reason.message}`];
  if (reason instanceof Error && reason.message) return [StatusCode.CANCELLED, `Cancelled: ${reason.message}`];
  return [StatusCode.CANCELLED, "Cancelled by the caller's AbortSignal"];
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ignore(): void {}
