// testingChannel (gRPC Python grpc_testing.channel): client code calls through a real
// Channel, and the test takes each RPC and answers it; the client's deadlines follow
// the channel's Time.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, EOF, StatusCode, UsageError } from "../../src/index.js";
import { strictFakeTime, testingChannel } from "../../src/testing/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { RouteGuide } from "../../examples/route-guide/gen/routeguide/route_guide_pb.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";
import { pending, rejection, within } from "./helpers.js";

const test = suite("testing: testingChannel");

test("unary: the test sees the request and metadata, and answers with initial metadata, a response and trailers", async () => {
  const testing = await testingChannel([Echo]);
  try {
    const call = createClient(Echo, testing.channel).unary({ message: "hi" }, { metadata: { "x-id": "7" } });
    const rpc = await testing.takeUnaryUnary(Echo.method.unary);
    assert.is(rpc.request.message, "hi");
    assert.is(rpc.invocationMetadata().get("x-id"), "7");
    await rpc.sendInitialMetadata({ "x-initial": "yes" });
    rpc.terminate({ message: "HI", index: 3 }, { "x-trailer": "t" }, StatusCode.OK, "fine");
    const response = await call;
    assert.equal([response.message, response.index], ["HI", 3]);
    assert.is((await call.initialMetadata()).get("x-initial"), "yes");
    assert.is((await call.trailingMetadata()).get("x-trailer"), "t");
    assert.is(await call.details(), "fine");
  } finally {
    await testing.close();
  }
});

test("unary: terminate with an error code gives the client an RpcError with details and trailing metadata", async () => {
  const testing = await testingChannel([Echo]);
  try {
    const call = createClient(Echo, testing.channel).unary({ message: "hi" });
    const rpc = await testing.takeUnaryUnary(Echo.method.unary);
    rpc.terminate(undefined, { "x-why": "gone" }, StatusCode.NOT_FOUND, "no such thing");
    const err = await expectStatus(call, StatusCode.NOT_FOUND);
    assert.is(err.details, "no such thing");
    assert.is(err.trailingMetadata.get("x-why"), "gone");
    // Terminating twice is a mistake in the test.
    assert.throws(() => rpc.terminate(undefined, undefined, StatusCode.OK), (e: unknown) => e instanceof UsageError && /already terminated/.test(e.message));
  } finally {
    await testing.close();
  }
});

test("unary-stream: responses sent one by one reach the client, then the status", async () => {
  const testing = await testingChannel([Echo]);
  try {
    const call = createClient(Echo, testing.channel).serverStream({ count: 2 });
    const rpc = await testing.takeUnaryStream(Echo.method.serverStream);
    assert.is(rpc.request.count, 2);
    await rpc.sendResponse({ index: 0 });
    assert.is(((await call.read()) as { index: number }).index, 0);
    await rpc.sendResponse({ index: 1 });
    rpc.terminate(undefined, StatusCode.OK);
    assert.is(((await call.read()) as { index: number }).index, 1);
    assert.is(await call.read(), EOF);
    assert.is(await call.code(), StatusCode.OK);
  } finally {
    await testing.close();
  }
});

test("stream-unary: the test takes requests, sees the stream closed, and answers", async () => {
  const testing = await testingChannel([Echo]);
  try {
    const call = createClient(Echo, testing.channel).clientStream();
    const rpc = await testing.takeStreamUnary(Echo.method.clientStream);
    await call.write({ message: "a" });
    assert.is((await rpc.takeRequest()).message, "a");
    await call.write({ message: "b" });
    await call.doneWriting();
    // requestsClosed() waits for the end and keeps the request not yet taken.
    await within(rpc.requestsClosed(), "the request stream to close");
    assert.is((await rpc.takeRequest()).message, "b");
    const err = await rejection(rpc.takeRequest());
    assert.match(err.message, /ended before a request of \/testing\.Echo\/ClientStream arrived/);
    rpc.terminate({ message: "a,b" }, undefined, StatusCode.OK);
    assert.is((await call).message, "a,b");
  } finally {
    await testing.close();
  }
});

test("stream-stream: requests and responses interleave", async () => {
  const testing = await testingChannel([Echo]);
  try {
    const call = createClient(Echo, testing.channel).bidi();
    const rpc = await testing.takeStreamStream(Echo.method.bidi);
    await call.write({ message: "ping" });
    assert.is((await rpc.takeRequest()).message, "ping");
    await rpc.sendResponse({ message: "pong" });
    assert.is(((await call.read()) as { message: string }).message, "pong");
    await call.doneWriting();
    await rpc.requestsClosed();
    rpc.terminate({ "x-done": "1" }, StatusCode.OK);
    assert.is(await call.read(), EOF);
    assert.is((await call.trailingMetadata()).get("x-done"), "1");
  } finally {
    await testing.close();
  }
});

test("fake time: the client's timeRemaining() follows it, and its deadline passes when the test steps past it", async () => {
  const time = strictFakeTime(500);
  const testing = await testingChannel([Echo], time);
  try {
    const call = createClient(Echo, testing.channel).unary({ message: "slow" }, { timeoutMs: 2000 });
    const rpc = await testing.takeUnaryUnary(Echo.method.unary);
    assert.is(call.timeRemaining(), 2);
    await time.sleepFor(1.5);
    assert.is(call.timeRemaining(), 0.5);
    assert.ok(await pending(call.code()), "the call ended before its deadline");
    await time.sleepFor(0.5);
    const err = await within(expectStatus(call, StatusCode.DEADLINE_EXCEEDED), "the client's deadline");
    assert.is(err.details, "Deadline Exceeded");
    assert.is(call.timeRemaining(), 0);
    // The server side sees the client go away.
    await within(rpc.cancelled(), "the RPC to be cancelled");
  } finally {
    await testing.close();
  }
});

test("fake time: an absolute deadline is on the fake clock; one already past fails at once", async () => {
  const time = strictFakeTime(100);
  const testing = await testingChannel([Echo], time);
  try {
    const client = createClient(Echo, testing.channel);
    const call = client.unary({}, { deadline: 103_000 });
    assert.is(call.timeRemaining(), 3);
    await testing.takeUnaryUnary(Echo.method.unary);
    await time.sleepUntil(103);
    await within(expectStatus(call, StatusCode.DEADLINE_EXCEEDED), "the deadline");
    await expectStatus(client.unary({}, { deadline: 99_000 }), StatusCode.DEADLINE_EXCEEDED);
  } finally {
    await testing.close();
  }
});

test("cancelled() resolves when the client cancels mid-stream, and rejects when the RPC ends otherwise", async () => {
  const testing = await testingChannel([Echo]);
  try {
    const controller = new AbortController();
    const call = createClient(Echo, testing.channel).serverStream({}, { signal: controller.signal });
    const rpc = await testing.takeUnaryStream(Echo.method.serverStream);
    await rpc.sendResponse({ index: 0 });
    await call.read();
    controller.abort();
    await within(rpc.cancelled(), "the RPC to be cancelled");
    assert.is(await call.code(), StatusCode.CANCELLED);

    const other = createClient(Echo, testing.channel).unary({});
    const done = await testing.takeUnaryUnary(Echo.method.unary);
    const cancelled = done.cancelled();
    done.terminate({}, undefined, StatusCode.OK);
    await other;
    const err = await rejection(within(cancelled, "cancelled() to settle"));
    assert.match(err.message, /\/testing\.Echo\/Unary ended without being cancelled/);
  } finally {
    await testing.close();
  }
});

test("take* waits a bounded time for an RPC that never comes, and close() releases a waiting take", async () => {
  const testing = await testingChannel([Echo], undefined, { takeTimeoutMs: 50 });
  const err = await rejection(testing.takeUnaryUnary(Echo.method.unary));
  assert.match(err.message, /No RPC of \/testing\.Echo\/Unary started within 50 ms/);
  const other = await testingChannel([Echo]);
  const waiting = other.takeStreamStream(Echo.method.bidi);
  await other.close();
  assert.match((await rejection(waiting)).message, /closed/);
  assert.match((await rejection(other.takeStreamStream(Echo.method.bidi))).message, /closed/);
  await testing.close();
});

test("close() cancels RPCs the test never terminated", async () => {
  const testing = await testingChannel([Echo]);
  const call = createClient(Echo, testing.channel).unary({});
  await testing.takeUnaryUnary(Echo.method.unary);
  await testing.close();
  const code = await within(call.code(), "the call to end at close");
  assert.ok(code !== StatusCode.OK, StatusCode[code]);
});

test("misuse: taking with the wrong kind or another service's method rejects, naming what to do; calls of unknown methods end UNIMPLEMENTED", async () => {
  const testing = await testingChannel([Echo]);
  try {
    const wrongKind = await rejection(testing.takeUnaryUnary(Echo.method.serverStream as never));
    assert.ok(wrongKind instanceof UsageError);
    assert.match(wrongKind.message, /takeUnaryUnary: \/testing\.Echo\/ServerStream is a server-streaming method; use takeUnaryStream/);
    const otherService = await rejection(testing.takeUnaryUnary(RouteGuide.method.getFeature));
    assert.match(otherService.message, /\/routeguide\.RouteGuide\/GetFeature is not a method of the services given \(testing\.Echo\)/);
    await expectStatus(createClient(RouteGuide, testing.channel).getFeature({}), StatusCode.UNIMPLEMENTED);
  } finally {
    await testing.close();
  }
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
