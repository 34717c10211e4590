// A maximum age for one server connection (grpc.max_connection_age_ms, with the ±10%
// jitter gRPC core applies so that connections made together do not all leave together),
// then a grace period (grpc.max_connection_age_grace_ms, unlimited by default) after
// which the connection is closed even with calls still open. Both timers are unref'd.

const MAX_TIMER_MS = 2 ** 31 - 1;
const JITTER = 0.1;

export interface ConnectionAgeConfig {
  ageMs: number;
  graceMs: number;
  /** The age is reached: send GOAWAY, let open calls finish. */
  onAge: () => void;
  /** The grace is over: close the connection. */
  onGraceOver: () => void;
}

/** The jittered age: `ageMs` ±10%, uniformly. */
export function jitteredAgeMs(ageMs: number, random: () => number = Math.random): number {
  return ageMs * (1 - JITTER + 2 * JITTER * random());
}

export class ConnectionAge {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly config: ConnectionAgeConfig) {
    if (!(config.ageMs > 0) || !Number.isFinite(config.ageMs)) return;
    this.timer = setTimeout(() => this.onAge(), Math.min(jitteredAgeMs(config.ageMs), MAX_TIMER_MS));
    this.timer.unref();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onAge(): void {
    this.config.onAge();
    const { graceMs } = this.config;
    if (!(graceMs >= 0) || !Number.isFinite(graceMs) || graceMs >= MAX_TIMER_MS) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.config.onGraceOver();
    }, graceMs);
    this.timer.unref();
  }
}
