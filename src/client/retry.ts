import { StatusCode } from "../wire/index.js";
import type { RetryPolicy } from "./service-config.js";

/**
 * gRFC A6 retry throttling, one per channel: failed attempts spend a token, successful
 * calls earn back `tokenRatio`; while the bucket is at or below half full, no call is
 * retried or hedged, so that retries cannot multiply the load of a failing server.
 */
export class RetryThrottle {
  private tokens: number;

  constructor(
    readonly maxTokens: number,
    readonly tokenRatio: number,
  ) {
    this.tokens = maxTokens;
  }

  get allowsRetry(): boolean {
    return this.tokens > this.maxTokens / 2;
  }

  onFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  onSuccess(): void {
    this.tokens = Math.min(this.maxTokens, this.tokens + this.tokenRatio);
  }
}

/** The name of the trailer by which a server asks for a delay before the next attempt (or none). */
export const RETRY_PUSHBACK_HEADER = "grpc-retry-pushback-ms";
/** Sent on every attempt after the first: how many came before (gRFC A6). */
export const PREVIOUS_ATTEMPTS_HEADER = "grpc-previous-rpc-attempts";

/**
 * The retry state of one call with a retry policy: how many attempts it made, when
 * the next one may start, and its share of the channel's throttle.
 */
export class CallRetry {
  /** Attempts started so far, the first included. */
  attempts = 1;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly throttle: RetryThrottle | undefined,
  ) {
    this.backoffMs = policy.initialBackoffMs;
  }

  /**
   * An attempt ended with `code` before the call was committed: the delay before the
   * next attempt, or undefined if there is none (code not retryable, attempts used
   * up, throttled, the server's pushback says no, or the deadline comes first; `now` is
   * on the deadline's clock).
   */
  nextDelay(code: StatusCode, pushback: string | undefined, deadline: number | undefined, now: number): number | undefined {
    const policy = this.policy;
    if (!policy.retryableStatusCodes.has(code)) return undefined;
    this.throttle?.onFailure();
    if (this.attempts >= policy.maxAttempts) return undefined;
    if (this.throttle !== undefined && !this.throttle.allowsRetry) return undefined;
    let delay: number;
    if (pushback !== undefined) {
      // A6: a valid non-negative pushback is the delay (and restarts the backoff); anything else means "do not retry".
      if (!/^\d+$/.test(pushback)) return undefined;
      delay = Number(pushback);
      this.backoffMs = policy.initialBackoffMs;
    } else {
      delay = Math.random() * this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * policy.backoffMultiplier, policy.maxBackoffMs);
    }
    if (deadline !== undefined && now + delay >= deadline) return undefined;
    this.attempts++;
    return delay;
  }

  /** Runs `start` after `delayMs`; `done()` calls it off. */
  schedule(delayMs: number, start: () => void): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      start();
    }, delayMs);
  }

  /** Response headers came: the call is committed (nothing to do; no retry follows a commit). */
  commit(): void {}

  /** The call ended with `code`. */
  done(code: StatusCode): void {
    clearTimeout(this.timer);
    if (code === StatusCode.OK) this.throttle?.onSuccess();
  }
}

/** The value of `name` in Node's flat raw header list, if present. */
export function rawHeader(raw: readonly string[] | undefined, name: string): string | undefined {
  if (raw === undefined) return undefined;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}
