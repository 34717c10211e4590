import { setImmediate as turn } from "node:timers/promises";
import type { TimerHandle } from "async-grpc";
import type { ScheduledCall, Time } from "./time.js";

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * Time that moves only when the test moves it (gRPC Python
 * `grpc_testing.strict_fake_time(now)`). `sleepFor()` / `sleepUntil()` step it: each
 * timer that falls due runs in order of its due time (then of scheduling), with the
 * clock at that time, and the event loop turns once after each, so that what it set off
 * (a deadline's RST_STREAM, an aborted signal's listeners) happens before the next.
 * Nothing sleeps for real.
 */
export class StrictFakeTime implements Time {
  private nowMs: number;
  private seq = 0;
  private readonly timers = new Set<Timer>();

  /** `now`: the starting time in seconds since the epoch. */
  constructor(now: number) {
    if (!Number.isFinite(now)) throw new TypeError(`strictFakeTime(now): now must be a finite number of seconds, got ${String(now)}`);
    this.nowMs = now * 1000;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: Timer = { due: this.nowMs + Math.max(0, delayMs), seq: this.seq++, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as Timer);
  }

  time(): number {
    return this.nowMs / 1000;
  }

  callIn(callback: () => void, delay: number): ScheduledCall {
    return this.schedule(callback, delay * 1000);
  }

  callAt(callback: () => void, time: number): ScheduledCall {
    return this.schedule(callback, time * 1000 - this.nowMs);
  }

  sleepFor(duration: number): Promise<void> {
    return this.advanceTo(this.nowMs + Math.max(0, duration * 1000));
  }

  sleepUntil(time: number): Promise<void> {
    return this.advanceTo(time * 1000);
  }

  /** How many timers are waiting: a test's check that nothing was left behind. */
  pendingTimers(): number {
    return this.timers.size;
  }

  private schedule(callback: () => void, delayMs: number): ScheduledCall {
    const timer = this.setTimer(callback, delayMs) as Timer;
    return { cancel: () => this.timers.delete(timer) };
  }

  // A callback that throws rejects the sleep, with the clock left at its due time.
  private async advanceTo(targetMs: number): Promise<void> {
    for (let timer = this.nextDue(targetMs); timer !== undefined; timer = this.nextDue(targetMs)) {
      this.timers.delete(timer);
      this.nowMs = Math.max(this.nowMs, timer.due);
      timer.callback();
      await turn();
    }
    this.nowMs = Math.max(this.nowMs, targetMs);
  }

  private nextDue(targetMs: number): Timer | undefined {
    let first: Timer | undefined;
    for (const t of this.timers) {
      if (t.due <= targetMs && (first === undefined || t.due < first.due || (t.due === first.due && t.seq < first.seq))) first = t;
    }
    return first;
  }
}

/** Fake time starting at `now` seconds since the epoch (gRPC Python `grpc_testing.strict_fake_time(now)`). */
export function strictFakeTime(now: number): StrictFakeTime {
  return new StrictFakeTime(now);
}
