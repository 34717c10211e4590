// Deadlines as absolute wall-clock milliseconds; timers re-arm past setTimeout's
// 2^31-1 ms ceiling so a far deadline neither fires early nor overflows.

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Absolute deadline in epoch ms from per-call `timeoutMs`/`deadline`, the earlier winning. */
export function resolveDeadline(timeoutMs: number | undefined, deadline: Date | number | undefined): number | undefined {
  let at: number | undefined;
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) throw new TypeError(`timeoutMs must be a number, got ${String(timeoutMs)}`);
    if (timeoutMs !== Number.POSITIVE_INFINITY) at = Date.now() + timeoutMs;
  }
  if (deadline !== undefined) {
    const d = typeof deadline === "number" ? deadline : deadline.getTime();
    if (Number.isNaN(d)) throw new TypeError("deadline is not a valid time");
    if (d !== Number.POSITIVE_INFINITY && (at === undefined || d < at)) at = d;
  }
  return at;
}

/** Calls `fire` once `deadline` (epoch ms) has passed, unless cancelled first. */
export class DeadlineTimer {
  private timer: NodeJS.Timeout;

  constructor(
    private readonly deadline: number,
    private readonly fire: () => void,
  ) {
    this.timer = this.arm();
  }

  cancel(): void {
    clearTimeout(this.timer);
  }

  private arm(): NodeJS.Timeout {
    const remaining = this.deadline - Date.now();
    if (remaining > MAX_TIMER_MS) return setTimeout(() => (this.timer = this.arm()), MAX_TIMER_MS);
    return setTimeout(this.fire, Math.max(0, remaining));
  }
}
