import type { Clock, TimerHandle } from "./clock.js";

// setTimeout fires at once for delays past 2^31-1 ms; re-arming keeps a far deadline
// (grpc-timeout allows 99999999H) far.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fire` once `deadline` (epoch ms on `clock`) has passed, unless cancelled first. */
export class DeadlineTimer {
  private timer: TimerHandle;

  constructor(
    private readonly deadline: number,
    private readonly fire: () => void,
    private readonly clock: Clock,
  ) {
    this.timer = this.arm();
  }

  cancel(): void {
    this.clock.clearTimer(this.timer);
  }

  private arm(): TimerHandle {
    const remaining = this.deadline - this.clock.now();
    if (remaining > MAX_TIMER_MS) return this.clock.setTimer(() => (this.timer = this.arm()), MAX_TIMER_MS);
    return this.clock.setTimer(this.fire, Math.max(0, remaining));
  }
}
