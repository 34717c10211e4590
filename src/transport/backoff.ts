// Reconnection backoff from gRPC's doc/connection-backoff.md.

/** Parameters of the exponential backoff between connection attempts. */
export interface BackoffOptions {
  initialBackoffMs?: number;
  multiplier?: number;
  jitter?: number;
  maxBackoffMs?: number;
  minConnectTimeoutMs?: number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private readonly maxMs: number;
  readonly minConnectTimeoutMs: number;
  private currentMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialBackoffMs ?? 1000;
    this.multiplier = options.multiplier ?? 1.6;
    this.jitter = options.jitter ?? 0.2;
    this.maxMs = options.maxBackoffMs ?? 120_000;
    this.minConnectTimeoutMs = options.minConnectTimeoutMs ?? 20_000;
    this.currentMs = this.initialMs;
  }

  /** The delay before the next attempt; each call grows the following one. */
  next(): number {
    const base = this.currentMs;
    this.currentMs = Math.min(this.currentMs * this.multiplier, this.maxMs);
    return base * (1 + this.jitter * (Math.random() * 2 - 1));
  }

  reset(): void {
    this.currentMs = this.initialMs;
  }
}
