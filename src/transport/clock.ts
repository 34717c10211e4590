// The one place the core reads the time for deadlines. A test gives a channel or a
// server another clock (async-grpc/testing's strictFakeTime()) so that deadlines pass
// when the test says, not when the machine gets round to it.

/** What `setTimer()` returned; only the same clock's `clearTimer()` understands it. */
export type TimerHandle = unknown;

/**
 * The time as a channel or server sees it for deadlines: `timeoutMs`, `deadline`, the
 * `grpc-timeout` sent and received, `timeRemaining()` and DEADLINE_EXCEEDED. gRPC
 * Python has no such seam on a real channel; `grpc_testing.Time` plays its part for the
 * testing channel and server.
 */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now, unless cleared first. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The machine's clock: `Date.now()` and Node's timers. The default everywhere. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
