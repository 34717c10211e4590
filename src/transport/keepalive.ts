// Keepalive pings (gRFC A8, gRPC doc/keepalive.md), for one HTTP/2 session on either
// side: a PING every `intervalMs`, and the session is destroyed if the ack does not come
// within `timeoutMs`. Both timers are unref'd and die with the session, so keepalive
// never keeps a process alive and never fires for a connection that is already gone.
import type { Http2Session } from "node:http2";

export interface KeepaliveConfig {
  intervalMs: number;
  timeoutMs: number;
  /** Asked before each ping; false skips it (no calls and pings without calls not permitted). */
  shouldPing?: () => boolean;
  /** The ack did not come in time; the pinger has already destroyed the session. */
  onTimeout?: (err: Error) => void;
}

export class KeepalivePinger {
  /** Pings sent so far (the server's ping-strike accounting subtracts their bytes). */
  sent = 0;
  private interval: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: Http2Session,
    private readonly config: KeepaliveConfig,
  ) {
    if (config.intervalMs <= 0 || !Number.isFinite(config.intervalMs)) return;
    this.interval = setInterval(() => this.ping(), Math.min(config.intervalMs, 2 ** 31 - 1));
    this.interval.unref();
    session.once("close", () => this.stop());
  }

  stop(): void {
    clearInterval(this.interval);
    clearTimeout(this.pending);
    this.interval = undefined;
    this.pending = undefined;
  }

  private ping(): void {
    const session = this.session;
    if (session.closed || session.destroyed) return this.stop();
    // One ping at a time: a slow ack is the timeout's business, not a reason to pile up.
    if (this.pending !== undefined) return;
    if (this.config.shouldPing && !this.config.shouldPing()) return;
    const timeout = setTimeout(() => {
      this.pending = undefined;
      const err = new Error(`Keepalive ping not acknowledged within ${this.config.timeoutMs} ms`);
      this.stop();
      this.config.onTimeout?.(err);
      session.destroy(err);
    }, this.config.timeoutMs);
    timeout.unref();
    this.pending = timeout;
    try {
      const sent = session.ping(() => {
        // Also called with an error when the session closes first.
        if (this.pending === timeout) {
          clearTimeout(timeout);
          this.pending = undefined;
        }
      });
      if (sent) this.sent++;
      else {
        clearTimeout(timeout);
        this.pending = undefined;
      }
    } catch {
      clearTimeout(timeout);
      this.pending = undefined;
    }
  }
}
