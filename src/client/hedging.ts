import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { endWithFrame, http2Constants, trace, writeFrame, type ClientConnection, type Frame } from "../transport/index.js";
import { http2ErrorCodeToStatus, parseStatusCode, StatusCode, type Metadata } from "../wire/index.js";
import type { RetryThrottle } from "./retry.js";
import type { HedgingPolicy } from "./service-config.js";

/** What hedging needs of the call it hedges (a `ClientCall`). */
export interface HedgedCall {
  readonly waitForReady: boolean;
  readonly methodPath: string;
  readonly requestMetadata: Metadata | undefined;
  /** The request headers of an attempt after `previousAttempts` others. */
  attemptHeaders(previousAttempts: number): OutgoingHttpHeaders;
  /** Goes on with another attempt's stream, which has just received `headers`. */
  adopt(stream: ClientHttp2Stream, session: ClientHttp2Session, connection: ClientConnection, headers: IncomingHttpHeaders, flags: number, raw: string[], early: Buffer[]): void;
  /** Every attempt failed: `code` is the call's status. */
  hedgingFailed(code: StatusCode, details: string): void;
}

/** Where hedged attempts are started and released (the channel). */
export interface AttemptHost {
  startCall(attempt: HedgeAttempt): void;
  endCall(attempt: HedgeAttempt): void;
}

/**
 * gRFC A6 hedging: the call's own stream is the first attempt; once the request is
 * complete (at once for unary requests, at `doneWriting()` for streams, and only if
 * it fits the retry buffer) another attempt with the whole request starts every
 * `hedgingDelay`, up to `maxAttempts`.
 * The first attempt to receive response headers (or a status that is not in
 * `nonFatalStatusCodes`) wins; the others are cancelled. A non-fatal status starts
 * the next attempt at once.
 */
export class Hedging {
  /** The call's own stream is always the first attempt (no grpc-previous-rpc-attempts). */
  readonly attempts = 1;
  private started = 1;
  private outstanding = 1;
  private committed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly live = new Set<HedgeAttempt>();

  constructor(
    readonly call: HedgedCall,
    readonly host: AttemptHost,
    private readonly policy: HedgingPolicy,
    private readonly throttle: RetryThrottle | undefined,
    readonly frames: readonly (Frame | Promise<Frame>)[],
  ) {
    this.scheduleNext();
  }

  /** The call's own stream received response headers: it wins. */
  commit(): void {
    if (this.committed) return;
    this.committed = true;
    clearTimeout(this.timer);
    for (const attempt of this.live) attempt.cancel();
    this.live.clear();
  }

  /**
   * An attempt (the call's own or a hedged one) ended with `code` before any won:
   * true if the call goes on (other attempts are out, or a new one started).
   */
  attemptFailed(code: StatusCode): boolean {
    this.outstanding--;
    if (this.committed || !this.policy.nonFatalStatusCodes.has(code)) return false;
    this.throttle?.onFailure();
    if (this.canStartMore()) {
      clearTimeout(this.timer);
      this.startNext();
      return true;
    }
    return this.outstanding > 0;
  }

  /** The call ended with `code`. */
  done(code: StatusCode): void {
    this.commit();
    if (code === StatusCode.OK) this.throttle?.onSuccess();
  }

  /** @internal A hedged attempt received its response headers. */
  onResponse(attempt: HedgeAttempt, headers: IncomingHttpHeaders, flags: number, raw: string[]): void {
    this.live.delete(attempt);
    if (this.committed) {
      attempt.cancel();
      return;
    }
    if ((flags & http2Constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      const status = headers["grpc-status"];
      const code = parseStatusCode(typeof status === "string" ? status : undefined) ?? StatusCode.UNKNOWN;
      if (code !== StatusCode.OK && this.attemptFailed(code)) {
        attempt.release();
        return;
      }
    }
    // This attempt wins, with response headers or with the status the call ends with.
    this.committed = true;
    clearTimeout(this.timer);
    for (const other of this.live) other.cancel();
    this.live.clear();
    trace("call", () => `${this.call.methodPath}: hedged attempt ${attempt.index + 1} won`);
    const { stream, session, connection } = attempt.release();
    this.call.adopt(stream!, session!, connection!, headers, flags, raw, attempt.early);
  }

  /** @internal A hedged attempt ended without response headers. */
  onFailed(attempt: HedgeAttempt, code: StatusCode, details: string): void {
    this.live.delete(attempt);
    if (this.committed) return;
    if (!this.attemptFailed(code)) this.call.hedgingFailed(code, details);
  }

  private canStartMore(): boolean {
    return !this.committed && this.started < this.policy.maxAttempts && (this.throttle === undefined || this.throttle.allowsRetry);
  }

  private scheduleNext(): void {
    if (!this.canStartMore()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.canStartMore()) this.startNext();
    }, this.policy.hedgingDelayMs);
  }

  private startNext(): void {
    const attempt = new HedgeAttempt(this, this.started);
    this.started++;
    this.outstanding++;
    this.live.add(attempt);
    trace("call", () => `${this.call.methodPath}: hedged attempt ${this.started}`);
    this.host.startCall(attempt);
    this.scheduleNext();
  }
}

/** One hedged attempt beyond the call's own stream, until it wins, fails or is cancelled. */
export class HedgeAttempt {
  readonly waitForReady: boolean;
  readonly methodPath: string;
  readonly requestMetadata: Metadata | undefined;
  /** DATA that came with the response headers, before the call adopted the stream. */
  readonly early: Buffer[] = [];
  private stream: ClientHttp2Stream | undefined;
  private session: ClientHttp2Session | undefined;
  private connection: ClientConnection | undefined;
  private ended = false;

  constructor(
    private readonly hedging: Hedging,
    /** 0-based: the number of attempts before this one. */
    readonly index: number,
  ) {
    const call = hedging.call;
    this.waitForReady = call.waitForReady;
    this.methodPath = call.methodPath;
    this.requestMetadata = call.requestMetadata;
  }

  /** Opens the attempt's stream and sends the request (the channel picked `connection`). */
  begin(connection: ClientConnection, session: ClientHttp2Session): void {
    if (this.ended) return;
    let stream: ClientHttp2Stream;
    try {
      stream = connection.request(session, this.hedging.call.attemptHeaders(this.index));
    } catch (err) {
      this.fail(StatusCode.UNAVAILABLE, `Failed to start call: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.stream = stream;
    this.session = session;
    this.connection = connection;
    stream.on("error", ignore);
    stream.on("data", this.onData);
    stream.once("response", this.onResponse);
    stream.once("close", this.onClose);
    const frames = this.hedging.frames;
    if (frames.some((f) => f instanceof Promise)) {
      Promise.all(frames).then(
        (ready) => {
          if (!stream.destroyed) send(stream, ready);
        },
        () => this.cancel(),
      );
    } else {
      send(stream, frames as readonly Frame[]);
    }
  }

  /** The channel could not place the attempt. */
  failToStart(code: StatusCode, details: string): void {
    this.fail(code, details);
  }

  /** Another attempt won (or the call ended): RST_STREAM CANCEL. */
  cancel(): boolean {
    if (this.ended) return false;
    const stream = this.release().stream;
    if (stream !== undefined && !stream.closed) stream.close(http2Constants.NGHTTP2_CANCEL);
    return true;
  }

  /** Stops listening and leaves the channel; the stream (if any) is the caller's now. */
  release(): { stream: ClientHttp2Stream | undefined; session: ClientHttp2Session | undefined; connection: ClientConnection | undefined } {
    this.ended = true;
    const stream = this.stream;
    if (stream !== undefined) {
      stream.off("data", this.onData);
      stream.off("response", this.onResponse);
      stream.off("close", this.onClose);
    }
    this.hedging.host.endCall(this);
    return { stream, session: this.session, connection: this.connection };
  }

  private onData = (chunk: Buffer): void => {
    this.early.push(chunk);
  };

  private onResponse = (headers: IncomingHttpHeaders, flags: number, raw: string[]): void => {
    if (!this.ended) this.hedging.onResponse(this, headers, flags, raw);
  };

  private onClose = (): void => {
    if (this.ended) return;
    const stream = this.stream!;
    const rst = stream.rstCode;
    if (this.session!.destroyed) this.fail(StatusCode.UNAVAILABLE, "Connection dropped");
    else if (rst !== undefined && rst !== http2Constants.NGHTTP2_NO_ERROR) this.fail(http2ErrorCodeToStatus(rst), `Received RST_STREAM with code ${rst}`);
    else this.fail(StatusCode.INTERNAL, "Stream closed without a gRPC status");
  };

  private fail(code: StatusCode, details: string): void {
    if (this.ended) return;
    this.release();
    this.hedging.onFailed(this, code, details);
  }
}

/** The whole request and the end of it; what flow control holds back, Node buffers (at most the retry buffer). */
function send(stream: ClientHttp2Stream, frames: readonly Frame[]): void {
  for (let i = 0; i < frames.length - 1; i++) writeFrame(stream, frames[i]!);
  endWithFrame(stream, frames[frames.length - 1]);
}

function ignore(): void {}
