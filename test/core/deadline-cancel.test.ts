import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, RpcError, StatusCode, type Channel, type ServicerContext } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, sleep, startServer, type Started } from "../helpers.js";

const test = suite("deadlines and cancellation");
let started: Started;
let channel: Channel;
const observed = {
  timeRemaining: undefined as number | undefined,
  deadline: undefined as number | undefined,
  abortReason: undefined as unknown,
  cancelled: false,
  doneCallback: false,
  lateWriteDropped: false,
};

async function waitForAbort(context: ServicerContext<unknown, unknown>, maxMs: number): Promise<void> {
  await sleep(maxMs, context.signal).catch(() => undefined);
  observed.abortReason = context.signal.reason;
  observed.cancelled = context.cancelled();
}

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      async unary(request, context) {
        observed.timeRemaining = context.timeRemaining();
        observed.deadline = context.deadline;
        context.addDoneCallback(() => (observed.doneCallback = true));
        if (request.delayMs) await waitForAbort(context as ServicerContext<unknown, unknown>, request.delayMs);
        return { message: "done" };
      },
      async serverStream(request, context) {
        await context.write({ index: 0 });
        await waitForAbort(context as ServicerContext<unknown, unknown>, request.delayMs);
        // Writes after the client went away are dropped, not thrown.
        await context.write({ index: 1 });
        observed.lateWriteDropped = true;
      },
    }),
  );
  channel = insecureChannel(started.target);
});

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  await assertNoLeaks();
});

test("the client's deadline reaches the server as grpc-timeout", async () => {
  const client = createClient(Echo, channel);
  const before = Date.now();
  await client.unary({ message: "t" }, { timeoutMs: 5000 });
  assert.ok(observed.timeRemaining! > 4 && observed.timeRemaining! <= 5, `timeRemaining ${observed.timeRemaining}`);
  assert.ok(Math.abs(observed.deadline! - (before + 5000)) < 1000);
  await client.unary({ message: "none" });
  assert.is(observed.timeRemaining, undefined);
});

test("an absolute deadline works like timeoutMs; the earlier of the two wins", async () => {
  const client = createClient(Echo, channel);
  await client.unary({ message: "t" }, { deadline: new Date(Date.now() + 3000), timeoutMs: 60_000 });
  assert.ok(observed.timeRemaining! <= 3 && observed.timeRemaining! > 2);
});

test("a reached deadline fails the call with DEADLINE_EXCEEDED and the server handler sees its signal abort", async () => {
  observed.abortReason = undefined;
  const client = createClient(Echo, channel);
  const call = client.unary({ message: "slow", delayMs: 5000 }, { timeoutMs: 100 });
  const started = Date.now();
  await expectStatus(call, StatusCode.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started < 2000);
  assert.ok(call.timeRemaining() === 0);
  await eventually(() => observed.abortReason !== undefined, "the server's signal to abort");
  assert.ok(observed.abortReason instanceof RpcError);
  assert.ok([StatusCode.DEADLINE_EXCEEDED, StatusCode.CANCELLED].includes((observed.abortReason as RpcError).code));
  assert.ok(observed.cancelled);
});

test("an already-expired deadline fails at once without a round trip", async () => {
  const client = createClient(Echo, channel);
  await expectStatus(client.unary({ message: "x" }, { deadline: Date.now() - 1 }), StatusCode.DEADLINE_EXCEEDED);
});

test("aborting the caller's AbortSignal cancels the call on the wire; the handler sees CANCELLED", async () => {
  observed.abortReason = undefined;
  observed.doneCallback = false;
  const client = createClient(Echo, channel);
  const controller = new AbortController();
  const call = client.unary({ message: "slow", delayMs: 5000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  const err = await expectStatus(call, StatusCode.CANCELLED);
  assert.ok(err.details.length > 0);
  assert.ok(call.cancelled());
  await eventually(() => observed.abortReason !== undefined, "the server's signal to abort");
  assert.is((observed.abortReason as RpcError).code, StatusCode.CANCELLED);
  assert.ok(observed.cancelled);
  await eventually(() => observed.doneCallback, "the server's done callback");
});

test("an already-aborted signal never starts the call", async () => {
  const client = createClient(Echo, channel);
  await expectStatus(client.unary({ message: "x" }, { signal: AbortSignal.abort() }), StatusCode.CANCELLED);
});

test("AbortSignal.timeout() is a deadline; an RpcError reason keeps its code", async () => {
  const client = createClient(Echo, channel);
  await expectStatus(client.unary({ message: "slow", delayMs: 5000 }, { signal: AbortSignal.timeout(50) }), StatusCode.DEADLINE_EXCEEDED);
  const controller = new AbortController();
  controller.abort(new RpcError(StatusCode.UNAVAILABLE, "upstream went away"));
  const err = await expectStatus(client.unary({ message: "x" }, { signal: controller.signal }), StatusCode.UNAVAILABLE);
  assert.is(err.details, "upstream went away");
});

test("call.cancel() on a stream: returns true once, the reader sees CANCELLED, the handler's late writes are dropped", async () => {
  observed.lateWriteDropped = false;
  const client = createClient(Echo, channel);
  const call = client.serverStream({ delayMs: 5000 });
  const first = await call.read();
  assert.ok(first !== undefined);
  assert.ok(call.cancel());
  assert.not.ok(call.cancel());
  await expectStatus(call.read(), StatusCode.CANCELLED);
  await eventually(() => observed.lateWriteDropped, "the handler to finish its late write");
  const doneFlags: boolean[] = [];
  call.addDoneCallback((c) => doneFlags.push(c.done()));
  assert.equal(doneFlags, [true]);
});

test("bad timeouts are refused with a clear error", () => {
  const client = createClient(Echo, channel);
  assert.throws(() => client.unary({}, { timeoutMs: Number.NaN }), /timeoutMs must be a number/);
  assert.throws(() => client.unary({}, { deadline: new Date("nonsense") }), /deadline/);
});

test.run();
