// testingServer (gRPC Python grpc_testing.server_from_dictionary): the servicer runs on a
// real server and the test invokes it; deadlines follow the server's Time.
import { create } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RpcError, StatusCode, UsageError, type ServicerContext } from "../../src/index.js";
import { strictFakeTime, testingServer } from "../../src/testing/index.js";
import { Echo, EchoResponseSchema, type EchoRequest, type EchoResponse } from "../gen/testing/echo_pb.js";
import type { EchoServicer } from "../gen/testing/echo_grpc.js";
import { RouteGuide } from "../../examples/route-guide/gen/routeguide/route_guide_pb.js";
import { assertNoLeaks } from "../helpers.js";
import { pending, rejection, within } from "./helpers.js";

const test = suite("testing: testingServer");

/** What a servicer saw when its call's signal aborted. */
interface Seen {
  reason?: RpcError;
  remaining: (number | undefined)[];
  deadline?: number;
}

function echoServicer(seen: Seen): EchoServicer {
  return {
    async unary(request, context) {
      await context.sendInitialMetadata({ "x-initial": "early" });
      context.setTrailingMetadata({ "x-echo": request.message });
      if (request.message === "fail") context.abort(StatusCode.FAILED_PRECONDITION, "told to fail", { "x-why": "asked" });
      if (request.message === "throw") throw new Error("a bug in the servicer");
      return { message: request.message.toUpperCase() };
    },
    async *serverStream(request, context) {
      for (let index = 0; request.count === 0 || index < request.count; index++) {
        if (context.signal.aborted) {
          seen.reason = RpcError.from(context.signal.reason);
          return;
        }
        yield { message: request.message, index };
        // Endless streams pace themselves on the event loop; the test cancels them.
        if (request.count === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async clientStream(requests) {
      const messages: string[] = [];
      for await (const r of requests) {
        messages.push(r.message);
        if (r.message === "enough") break;
      }
      return { message: messages.join(","), index: messages.length };
    },
    async *bidi(requests, context) {
      seen.deadline = context.deadline;
      context.signal.addEventListener("abort", () => (seen.reason = RpcError.from(context.signal.reason)));
      for await (const r of requests) {
        seen.remaining.push(context.timeRemaining());
        yield { message: `${r.message}:${String(context.timeRemaining())}` };
      }
    },
  };
}

test("unary: response, initial and trailing metadata, OK", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  try {
    const rpc = server.invokeUnaryUnary(Echo.method.unary, { "x-id": "1" }, { message: "hi" }, 10);
    assert.is((await rpc.initialMetadata()).get("x-initial"), "early");
    const { response, trailingMetadata, code, details } = await rpc.termination();
    assert.is(response?.message, "HI");
    assert.is(trailingMetadata.get("x-echo"), "hi");
    assert.is(code, StatusCode.OK);
    assert.is(details, "");
  } finally {
    await server.close();
  }
});

test("unary: a handler's abort gives its code, details and trailing metadata, and no response", async () => {
  const server = await testingServer(new Map([[Echo, echoServicer({ remaining: [] })]]));
  try {
    const failed = await server.invokeUnaryUnary(Echo.method.unary, undefined, { message: "fail" }).termination();
    assert.is(failed.response, undefined);
    assert.is(StatusCode[failed.code], "FAILED_PRECONDITION");
    assert.is(failed.details, "told to fail");
    assert.is(failed.trailingMetadata.get("x-why"), "asked");
    const thrown = await server.invokeUnaryUnary(Echo.method.unary, undefined, { message: "throw" }).termination();
    assert.is(StatusCode[thrown.code], "UNKNOWN");
    assert.not.match(thrown.details, /a bug in the servicer/);
  } finally {
    await server.close();
  }
});

test("unary-stream: responses taken one by one, then the status; none left after the end", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  try {
    const rpc = server.invokeUnaryStream(Echo.method.serverStream, undefined, { message: "m", count: 3 });
    assert.is((await rpc.takeResponse()).index, 0);
    // termination() waits for the end and keeps what was not taken.
    const { code } = await rpc.termination();
    assert.is(code, StatusCode.OK);
    assert.is((await rpc.takeResponse()).index, 1);
    assert.is((await rpc.takeResponse()).index, 2);
    const err = await rejection(rpc.takeResponse());
    assert.match(err.message, /ended before a response of \/testing\.Echo\/ServerStream arrived/);
  } finally {
    await server.close();
  }
});

test("stream-unary: requests sent and closed, the response in termination()", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  try {
    const rpc = server.invokeStreamUnary(Echo.method.clientStream, undefined);
    await rpc.sendRequest({ message: "a" });
    await rpc.sendRequest({ message: "b" });
    await rpc.requestsClosed();
    const { response, code } = await rpc.termination();
    assert.is(code, StatusCode.OK);
    assert.is(response?.message, "a,b");
  } finally {
    await server.close();
  }
});

test("stream-unary: a servicer that stops reading answers, and the RPC ends OK without the requests closed", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  try {
    const rpc = server.invokeStreamUnary(Echo.method.clientStream, undefined);
    await rpc.sendRequest({ message: "a" });
    await rpc.sendRequest({ message: "enough" });
    const { response, code } = await within(rpc.termination(), "the servicer to answer");
    assert.is(code, StatusCode.OK);
    assert.equal([response?.message, response?.index], ["a,enough", 2]);
  } finally {
    await server.close();
  }
});

test("stream-stream: requests and responses interleave", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  try {
    const rpc = server.invokeStreamStream(Echo.method.bidi, undefined);
    await rpc.sendRequest({ message: "one" });
    assert.is((await rpc.takeResponse()).message, "one:undefined");
    await rpc.sendRequest({ message: "two" });
    assert.is((await rpc.takeResponse()).message, "two:undefined");
    await rpc.requestsClosed();
    assert.is((await rpc.termination()).code, StatusCode.OK);
  } finally {
    await server.close();
  }
});

test("fake time: timeRemaining() and context.deadline follow it, and the deadline passes when the test steps past it", async () => {
  const time = strictFakeTime(1_000);
  const seen: Seen = { remaining: [] };
  const server = await testingServer([[Echo, echoServicer(seen)]], time);
  try {
    const rpc = server.invokeStreamStream(Echo.method.bidi, undefined, 10);
    await rpc.sendRequest({ message: "a" });
    assert.is((await rpc.takeResponse()).message, "a:10");
    assert.is(seen.deadline, 1_010_000);
    await time.sleepFor(4);
    await rpc.sendRequest({ message: "b" });
    assert.is((await rpc.takeResponse()).message, "b:6");
    await time.sleepFor(5.999);
    assert.ok(await pending(rpc.termination()), "the RPC ended before its deadline");
    assert.is(seen.reason, undefined);
    await time.sleepFor(0.001);
    const { code, details } = await within(rpc.termination(), "the deadline to end the RPC");
    assert.is(StatusCode[code], "DEADLINE_EXCEEDED");
    assert.is(details, "Deadline Exceeded");
    assert.is(seen.reason && StatusCode[seen.reason.code], "DEADLINE_EXCEEDED");
    assert.equal(seen.remaining, [10, 6]);
  } finally {
    await server.close();
  }
});

test("fake time: a unary servicer waiting on context.signal is released by the deadline, not by real time", async () => {
  const time = strictFakeTime(0);
  const aborted: string[] = [];
  const server = await testingServer(
    [
      [
        Echo,
        {
          unary: (_request: EchoRequest, context: ServicerContext<EchoRequest, EchoResponse>) =>
            new Promise<EchoResponse>((resolve) =>
              context.signal.addEventListener("abort", () => {
                aborted.push(StatusCode[RpcError.from(context.signal.reason).code]);
                resolve(create(EchoResponseSchema, { message: "late" }));
              }),
            ),
        } satisfies Partial<EchoServicer>,
      ],
    ],
    time,
  );
  try {
    const rpc = server.invokeUnaryUnary(Echo.method.unary, undefined, { message: "x" }, 30);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(aborted, []);
    await time.sleepFor(30);
    const { code, response } = await within(rpc.termination(), "the deadline");
    assert.is(StatusCode[code], "DEADLINE_EXCEEDED");
    assert.is(response, undefined);
    assert.equal(aborted, ["DEADLINE_EXCEEDED"]);
  } finally {
    await server.close();
  }
});

test("cancel() mid-stream: the servicer's signal aborts with CANCELLED and the RPC ends CANCELLED", async () => {
  const seen: Seen = { remaining: [] };
  const server = await testingServer([[Echo, echoServicer(seen)]]);
  try {
    const rpc = server.invokeUnaryStream(Echo.method.serverStream, undefined, { message: "m", count: 0 });
    await rpc.takeResponse();
    await rpc.takeResponse();
    rpc.cancel();
    const { code } = await within(rpc.termination(), "the cancelled RPC to end");
    assert.is(StatusCode[code], "CANCELLED");
    const until = Date.now() + 5000;
    while (seen.reason === undefined && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.is(seen.reason && StatusCode[seen.reason.code], "CANCELLED");
  } finally {
    await server.close();
  }
});

test("a method the servicer does not implement ends UNIMPLEMENTED", async () => {
  const server = await testingServer([[Echo, { unary: () => ({ message: "only this" }) } satisfies Partial<EchoServicer>]]);
  try {
    const { code } = await server.invokeUnaryStream(Echo.method.serverStream, undefined, { count: 1 }).termination();
    assert.is(StatusCode[code], "UNIMPLEMENTED");
  } finally {
    await server.close();
  }
});

test("misuse: a method of another kind or of another service is refused at once, naming what to do", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  try {
    assert.throws(
      () => server.invokeUnaryStream(Echo.method.unary as never, undefined, {}),
      (err: unknown) => err instanceof UsageError && /invokeUnaryStream: \/testing\.Echo\/Unary is a unary method; use invokeUnaryUnary/.test(err.message),
    );
    assert.throws(
      () => server.invokeStreamUnary(Echo.method.bidi as never, undefined),
      /\/testing\.Echo\/Bidi is a bidi-streaming method; use invokeStreamStream/,
    );
    assert.throws(
      () => server.invokeUnaryUnary(RouteGuide.method.getFeature, undefined, {}),
      /\/routeguide\.RouteGuide\/GetFeature is not a method of the services given \(testing\.Echo\)/,
    );
    assert.throws(() => server.invokeUnaryUnary(undefined as never, undefined, {}), /expected a method descriptor/);
  } finally {
    await server.close();
  }
});

test("close() ends an RPC still running and releases the port; invoking afterwards is refused", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  const rpc = server.invokeUnaryStream(Echo.method.serverStream, undefined, { count: 0 });
  await rpc.takeResponse();
  await server.close();
  const { code } = await within(rpc.termination(), "the RPC to end at close");
  assert.ok(code !== StatusCode.OK, StatusCode[code]);
  assert.throws(() => server.invokeUnaryUnary(Echo.method.unary, undefined, {}), /closed/);
  await server.close();
});

test("a response stream with no responses: termination() OK, takeResponse() rejects", async () => {
  const server = await testingServer([[Echo, echoServicer({ remaining: [] })]]);
  try {
    const rpc = server.invokeUnaryStream(Echo.method.serverStream, undefined, { count: -1 });
    assert.is((await rpc.termination()).code, StatusCode.OK);
    await rejection(rpc.takeResponse());
  } finally {
    await server.close();
  }
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
