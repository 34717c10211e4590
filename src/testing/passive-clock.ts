import type { Clock } from "async-grpc";

/**
 * A clock that reads `time` but whose timers never fire. The testing side of a call
 * (the test's invoking client, the testing channel's server) still measures and sends
 * deadlines on the test's time, but leaves expiring them to the code under test's side,
 * so that exactly one timer ends a call whose deadline passes: the servicer's own for
 * `testingServer`, the client's own for `testingChannel`, whichever transport is used.
 */
export function passiveClock(time: Clock): Clock {
  return { now: () => time.now(), setTimer: () => undefined, clearTimer: () => {} };
}
