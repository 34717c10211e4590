import type { Clock } from "async-grpc";

/** A callback scheduled on a `Time`; `cancel()` is false if it already ran or was cancelled. */
export interface ScheduledCall {
  cancel(): boolean;
}

/**
 * The time a testing server or channel runs on (gRPC Python `grpc_testing.Time`). It is
 * a `Clock` (epoch milliseconds, for the core's deadlines) and also has Python's methods,
 * which keep Python's units: seconds.
 */
export interface Time extends Clock {
  /** The current time in seconds since the epoch (gRPC Python `time()`). */
  time(): number;
  /** Runs `callback` `delay` seconds from now (gRPC Python `call_in()`). */
  callIn(callback: () => void, delay: number): ScheduledCall;
  /** Runs `callback` at `time`, in seconds since the epoch (gRPC Python `call_at()`). */
  callAt(callback: () => void, time: number): ScheduledCall;
  /** Resolves `duration` seconds later (gRPC Python `sleep_for()`); fake time moves itself on. */
  sleepFor(duration: number): Promise<void>;
  /** Resolves at `time`, in seconds since the epoch (gRPC Python `sleep_until()`). */
  sleepUntil(time: number): Promise<void>;
}
