import { trace, type ClientStream, type ClientStreamListener, type ClientTransport, type Frame, type IncomingHeaders, type OutgoingHeaders } from "../transport/index.js";
import { parseStatusCode, StatusCode, type Metadata } from "../wire/index.js";
import type { RetryThrottle } from "./retry.js";
import type { HedgingPolicy } from "./service-config.js";

/** What hedging needs of the call it hedges (a `ClientCall`). */
export interface HedgedCall {
  readonly waitForReady: boolean;
  readonly methodPath: string;
  readonly requestMetadata: Metadata | undefined;
  /** The request headers of an attempt after `previousAttempts` others. */
  attemptHeaders(previousAttempts: number): OutgoingHeaders;
  /** Goes on with another attempt's stream, which has just received `headers`. */
  adopt(stream: ClientStream, headers: IncomingHeaders, raw: string[], endStream: boolean, early: Uint8Array[]): void;
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
  onResponse(attempt: HedgeAttempt, headers: IncomingHeaders, raw: string[], endStream: boolean): void {
    this.live.delete(attempt);
    if (this.committed) {
      attempt.cancel();
      return;
    }
    if (endStream) {
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
    this.call.adopt(attempt.release()!, headers, raw, endStream, attempt.early);
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
export class HedgeAttempt implements ClientStreamListener {
  readonly waitForReady: boolean;
  readonly methodPath: string;
  readonly requestMetadata: Metadata | undefined;
  /** DATA that came with the response headers, before the call adopted the stream. */
  readonly early: Uint8Array[] = [];
  private stream: ClientStream | undefined;
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

  /** Opens the attempt's stream and sends the request (the channel picked `transport`). */
  begin(transport: ClientTransport): void {
    if (this.ended) return;
    let stream: ClientStream;
    try {
      stream = transport.openStream(this.hedging.call.attemptHeaders(this.index), this);
    } catch (err) {
      this.fail(StatusCode.UNAVAILABLE, `Failed to start call: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.stream = stream;
    const frames = this.hedging.frames;
    if (frames.some((f) => f instanceof Promise)) {
      Promise.all(frames).then(
        (ready) => {
          if (!stream.closed) send(stream, ready);
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

  /** Another attempt won (or the call ended): the stream is reset with CANCEL. */
  cancel(): boolean {
    if (this.ended) return false;
    this.release()?.reset("cancel");
    return true;
  }

  /** Stops listening and leaves the channel; the stream (if any) is the caller's now. */
  release(): ClientStream | undefined {
    this.ended = true;
    this.stream?.listen(undefined);
    this.hedging.host.endCall(this);
    return this.stream;
  }

  /** @internal ClientStreamListener */
  onStreamData(chunk: Uint8Array): void {
    this.early.push(chunk);
  }

  /** @internal ClientStreamListener */
  onStreamHeaders(headers: IncomingHeaders, raw: string[], endStream: boolean): void {
    if (!this.ended) this.hedging.onResponse(this, headers, raw, endStream);
  }

  /** @internal ClientStreamListener: trailers and the end come only after the headers, to the call that won. */
  onStreamTrailers(): void {}

  /** @internal ClientStreamListener */
  onStreamEnd(): void {}

  /** @internal ClientStreamListener */
  onStreamClose(): void {
    if (this.ended) return;
    const { code, details } = this.stream!.closeReason();
    this.fail(code, details);
  }

  private fail(code: StatusCode, details: string): void {
    if (this.ended) return;
    this.release();
    this.hedging.onFailed(this, code, details);
  }
}

/** The whole request and the end of it; what flow control holds back, the stream buffers (at most the retry buffer). */
function send(stream: ClientStream, frames: readonly Frame[]): void {
  for (let i = 0; i < frames.length - 1; i++) stream.write(frames[i]!);
  stream.end(frames[frames.length - 1]);
}
