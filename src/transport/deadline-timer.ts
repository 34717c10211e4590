// setTimeout fires at once for delays past 2^31-1 ms; re-arming keeps a far deadline
// (grpc-timeout allows 99999999H) far.
const MAX_TIMER_MS = 2 ** 31 - 1;

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
