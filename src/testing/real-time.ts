import { setTimeout as sleep } from "node:timers/promises";
import { systemClock, type TimerHandle } from "async-grpc";
import type { ScheduledCall, Time } from "./time.js";

/** The machine's time (gRPC Python `grpc_testing.strict_real_time()`). */
export function strictRealTime(): Time {
  return {
    now: () => systemClock.now(),
    setTimer: (callback, delayMs) => systemClock.setTimer(callback, delayMs),
    clearTimer: (handle: TimerHandle) => systemClock.clearTimer(handle),
    time: () => systemClock.now() / 1000,
    callIn: (callback, delay) => scheduled(callback, delay * 1000),
    callAt: (callback, time) => scheduled(callback, time * 1000 - systemClock.now()),
    sleepFor: (duration) => sleep(Math.max(0, duration * 1000)),
    sleepUntil: (time) => sleep(Math.max(0, time * 1000 - systemClock.now())),
  };
}

function scheduled(callback: () => void, delayMs: number): ScheduledCall {
  let pending = true;
  const timer = setTimeout(() => {
    pending = false;
    callback();
  }, Math.max(0, delayMs));
  return {
    cancel() {
      if (!pending) return false;
      pending = false;
      clearTimeout(timer);
      return true;
    },
  };
}
