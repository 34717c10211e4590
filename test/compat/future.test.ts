import { setTimeout as sleep } from "node:timers/promises";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { channelReadyFuture, compatClient, future, Future, FutureCancelledError, FutureTimeoutError, withCall } from "../../src/compat/index.js";
import { ConnectivityState, createClient, insecureChannel, RpcError, StatusCode, type Channel } from "../../src/index.js";
import { EchoClient } from "../gen/testing/echo_grpc.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, rejects, startServer, type Started } from "../helpers.js";

const test = suite("compat: futures");
let started: Started;
let channel: Channel;
let cancelledOnServer = 0;

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      async unary(request, context) {
        context.signal.addEventListener("abort", () => cancelledOnServer++);
        if (request.delayMs > 0) await sleep(request.delayMs, undefined, { signal: context.signal });
        if (request.message === "fail") context.abort(StatusCode.FAILED_PRECONDITION, "no", { "x-why": "asked" });
        await context.sendInitialMetadata({ "x-initial": "i" });
        context.setTrailingMetadata({ "x-trailing": "t" });
        return { message: `echo:${request.message}` };
      },
      async *serverStream(request) {
        for (let i = 0; i < request.count; i++) yield { index: i };
      },
      async clientStream(requests) {
        let n = 0;
        for await (const _ of requests) n++;
        return { index: n };
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

test("Future of a call: result, done, running, callbacks (one added after completion runs at once)", async () => {
  const client = createClient(Echo, channel);
  const f = future(client.unary({ message: "a" }));
  assert.ok(f.running());
  assert.not.ok(f.done());
  const order: string[] = [];
  f.addDoneCallback(() => order.push("before"));
  assert.is((await f.result()).message, "echo:a");
  assert.ok(f.done());
  assert.not.ok(f.running());
  assert.not.ok(f.cancelled());
  assert.equal(order, ["before"]);
  f.addDoneCallback(() => order.push("after"));
  assert.equal(order, ["before", "after"], "runs at once, not later");
  assert.is(await f.exception(), undefined);
  assert.is(await f.traceback(), undefined);
});

test("a failed call: result() rejects with the RpcError; exception() and traceback() give it", async () => {
  const client = createClient(Echo, channel);
  const f = future(client.unary({ message: "fail" }));
  const err = await rejects(f.result());
  assert.ok(err instanceof RpcError && err.code === StatusCode.FAILED_PRECONDITION);
  const e = await f.exception();
  assert.ok(e instanceof RpcError && e.trailingMetadata.get("x-why") === "asked");
  assert.match((await f.traceback()) ?? "", /FAILED_PRECONDITION/);
});

test("result(timeoutMs) rejects with FutureTimeoutError while the call goes on; cancel() cancels the call", async () => {
  const client = createClient(Echo, channel);
  const before = cancelledOnServer;
  const f = future(client.unary({ message: "slow", delayMs: 5000 }));
  const err = await rejects(f.result(50));
  assert.ok(err instanceof FutureTimeoutError, String(err));
  assert.ok(f.running());
  let called = 0;
  f.addDoneCallback(() => called++);
  assert.ok(f.cancel());
  assert.not.ok(f.cancel(), "a second cancel() is refused");
  assert.ok(f.cancelled());
  assert.ok(f.done());
  assert.is(called, 1);
  assert.ok((await rejects(f.result())) instanceof FutureCancelledError);
  assert.ok((await rejects(f.exception())) instanceof FutureCancelledError);
  await eventually(() => cancelledOnServer > before, "the server to see the cancellation");
});

test("a throwing callback does not stop the others", async () => {
  const f = new Future(Promise.resolve(1));
  const seen: number[] = [];
  const error = console.error;
  console.error = () => {};
  try {
    f.addDoneCallback(() => {
      throw new Error("broken callback");
    });
    f.addDoneCallback(() => seen.push(1));
    await f.result();
  } finally {
    console.error = error;
  }
  assert.equal(seen, [1]);
});

test("future() refuses a streaming call", () => {
  const client = createClient(Echo, channel);
  const call = client.serverStream({});
  assert.throws(() => future(call as never), /one response/);
  call.cancel();
});

test("withCall: the response with code, details and both metadata; a failure rejects with the RpcError", async () => {
  const client = createClient(Echo, channel);
  const { response, call } = await withCall(client.unary({ message: "w" }));
  assert.is(response.message, "echo:w");
  assert.is(call.code, StatusCode.OK);
  assert.is(call.details, "");
  assert.is(call.initialMetadata.get("x-initial"), "i");
  assert.is(call.trailingMetadata.get("x-trailing"), "t");
  const err = await rejects(withCall(client.unary({ message: "fail" })));
  assert.ok(err instanceof RpcError && err.code === StatusCode.FAILED_PRECONDITION);
});

test("compatClient: every method keeps its call, and gains future() and withCall()", async () => {
  const client = compatClient(createClient(Echo, channel));
  assert.is((await client.unary({ message: "plain" })).message, "echo:plain");
  assert.is((await client.unary.future({ message: "f" }).result()).message, "echo:f");
  assert.is((await client.unary.withCall({ message: "wc" })).call.trailingMetadata.get("x-trailing"), "t");
  assert.is((await client.clientStream.future([{}, {}, {}]).result()).index, 3);
  let n = 0;
  for await (const _ of client.serverStream({ count: 0 })) n++;
  assert.is(n, 0);
  // A generated client class keeps its methods on the prototype.
  const generated = compatClient(new EchoClient(channel));
  assert.is((await generated.unary.future({ message: "g" }).result()).message, "echo:g");
  assert.is((await generated.unary({ message: "h" })).message, "echo:h");
});

test("channelReadyFuture: completes once the channel is READY; cancel() stops the wait", async () => {
  const fresh = insecureChannel(started.target);
  try {
    assert.is(fresh.getState(), ConnectivityState.IDLE);
    const ready = channelReadyFuture(fresh);
    await ready.result(10_000);
    assert.is(fresh.getState(), ConnectivityState.READY);
  } finally {
    await fresh.close();
  }
  const nowhere = insecureChannel("127.0.0.1:1");
  try {
    const waiting = channelReadyFuture(nowhere);
    assert.ok((await rejects(waiting.result(100))) instanceof FutureTimeoutError);
    assert.ok(waiting.cancel());
    assert.ok((await rejects(waiting.result())) instanceof FutureCancelledError);
  } finally {
    await nowhere.close();
  }
});

test.run();
