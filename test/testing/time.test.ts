// strictFakeTime and strictRealTime (gRPC Python's grpc_testing.Time), and the core's
// DeadlineTimer on a Clock: fake time moves only when the test steps it.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DeadlineTimer } from "../../src/transport/index.js";
import { strictFakeTime, strictRealTime } from "../../src/testing/index.js";

const test = suite("testing: time");

test("fake time starts where it is told and stands still", async () => {
  const time = strictFakeTime(1_000);
  assert.is(time.time(), 1_000);
  assert.is(time.now(), 1_000_000);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.is(time.time(), 1_000);
});

test("sleepFor runs due callbacks in order of due time, then of scheduling, with the clock at their time", async () => {
  const time = strictFakeTime(0);
  const seen: string[] = [];
  time.callIn(() => seen.push(`c@${time.time()}`), 3);
  time.callIn(() => seen.push(`a@${time.time()}`), 1);
  time.callAt(() => seen.push(`b@${time.time()}`), 1);
  time.callIn(() => seen.push(`late@${time.time()}`), 10);
  await time.sleepFor(5);
  assert.equal(seen, ["a@1", "b@1", "c@3"]);
  assert.is(time.time(), 5);
  await time.sleepUntil(10);
  assert.equal(seen, ["a@1", "b@1", "c@3", "late@10"]);
  assert.is(time.pendingTimers(), 0);
});

test("a callback scheduled by another runs in the same step if it falls due within it", async () => {
  const time = strictFakeTime(0);
  const seen: number[] = [];
  time.callIn(() => {
    seen.push(time.time());
    time.callIn(() => seen.push(time.time()), 1);
  }, 1);
  await time.sleepFor(2);
  assert.equal(seen, [1, 2]);
});

test("cancel() keeps a callback from running and says whether it was still pending", async () => {
  const time = strictFakeTime(0);
  let ran = false;
  const call = time.callIn(() => (ran = true), 1);
  assert.is(call.cancel(), true);
  assert.is(call.cancel(), false);
  await time.sleepFor(2);
  assert.is(ran, false);
});

test("sleepUntil a time already past does not move the clock back", async () => {
  const time = strictFakeTime(100);
  await time.sleepUntil(50);
  assert.is(time.time(), 100);
});

test("a callback that throws rejects the step, the clock at its due time", async () => {
  const time = strictFakeTime(0);
  time.callIn(() => {
    throw new Error("boom");
  }, 1);
  try {
    await time.sleepFor(5);
    assert.unreachable("expected the step to reject");
  } catch (err) {
    assert.match((err as Error).message, /boom/);
  }
  assert.is(time.time(), 1);
});

test("strictFakeTime refuses a time that is not a finite number", () => {
  assert.throws(() => strictFakeTime(Number.NaN), /finite number of seconds/);
});

test("a DeadlineTimer on fake time fires only when the time is stepped past the deadline", async () => {
  const time = strictFakeTime(0);
  let fired = 0;
  new DeadlineTimer(2_000, () => fired++, time);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await time.sleepFor(1.999);
  assert.is(fired, 0);
  await time.sleepFor(0.001);
  assert.is(fired, 1);
  const cancelled = new DeadlineTimer(5_000, () => fired++, time);
  cancelled.cancel();
  await time.sleepFor(10);
  assert.is(fired, 1);
});

test("real time: time() is the wall clock in seconds, callIn runs, cancel stops it", async () => {
  const time = strictRealTime();
  assert.ok(Math.abs(time.time() - Date.now() / 1000) < 1);
  let ran = false;
  const done = new Promise<void>((resolve) => time.callIn(resolve, 0.01));
  const cancelled = time.callIn(() => (ran = true), 0.01);
  assert.is(cancelled.cancel(), true);
  await done;
  await time.sleepFor(0.02);
  assert.is(ran, false);
});

test.run();
