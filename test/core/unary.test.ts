import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, Metadata, StatusCode, type Channel } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, startServer, type Started } from "../helpers.js";

const test = suite("unary");
let started: Started;
let channel: Channel;
const seen: { metadata?: Metadata; peer?: string; method?: string } = {};

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      async unary(request, context) {
        seen.metadata = context.invocationMetadata();
        seen.peer = context.peer();
        seen.method = context.method();
        if (request.message.startsWith("status:")) {
          const code = Number(request.message.slice(7));
          context.abort(code, `details for ${StatusCode[code]}: ünïcødé ✓ 100%\r\n`, { "x-trailer": "t", "x-trailer-bin": new Uint8Array([0, 255]) });
        }
        if (request.message === "throw") throw new Error("secret internal stack detail");
        if (request.message === "set-code") {
          context.setCode(StatusCode.FAILED_PRECONDITION);
          context.setDetails("set via context");
          return { message: "ignored" };
        }
        if (request.message === "metadata") {
          await context.sendInitialMetadata({ "x-initial": "i", "x-initial-bin": new Uint8Array([9, 8, 7]) });
          context.setTrailingMetadata(new Metadata([["x-trailing", "a"], ["x-trailing", "b"]]));
        }
        return { message: `echo:${request.message}`, payload: request.payload };
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

test("a unary call returns the response; the call object reports OK", async () => {
  const client = createClient(Echo, channel);
  const call = client.unary({ message: "hello", payload: new Uint8Array([1, 2, 3]) });
  const reply = await call;
  assert.is(reply.message, "echo:hello");
  assert.equal([...reply.payload], [1, 2, 3]);
  assert.is(await call.code(), StatusCode.OK);
  assert.is(await call.details(), "");
  assert.ok(call.done());
  assert.not.ok(call.cancelled());
  assert.is(call.timeRemaining(), undefined);
  assert.is(seen.method, "/testing.Echo/Unary");
  assert.match(seen.peer!, /^ipv4:127\.0\.0\.1:\d+$/);
});

test("metadata travels both ways, ASCII and binary, multi-valued", async () => {
  const client = createClient(Echo, channel);
  const md = new Metadata();
  md.add("x-ascii", "value one");
  md.add("x-multi", "a");
  md.add("x-multi", "b");
  md.add("x-data-bin", new Uint8Array([0, 1, 254, 255]));
  const call = client.unary({ message: "metadata" }, { metadata: md });
  await call;
  assert.is(seen.metadata!.get("x-ascii"), "value one");
  assert.equal(seen.metadata!.getAll("x-multi"), ["a", "b"]);
  assert.equal([...(seen.metadata!.get("x-data-bin") as Uint8Array)], [0, 1, 254, 255]);
  assert.match(String(seen.metadata!.get("user-agent")), /grpc-node-async\//);
  assert.not.ok(seen.metadata!.has("content-type"), "reserved headers are not user metadata");
  assert.not.ok(seen.metadata!.has("te"));
  const initial = await call.initialMetadata();
  assert.is(initial.get("x-initial"), "i");
  assert.equal(initial.keys(), ["x-initial", "x-initial-bin"], "nothing but what the handler sent (no date header)");
  assert.equal([...(initial.get("x-initial-bin") as Uint8Array)], [9, 8, 7]);
  const trailing = await call.trailingMetadata();
  assert.equal(trailing.getAll("x-trailing"), ["a", "b"]);
  assert.not.ok(trailing.has("grpc-status"), "grpc-status is not surfaced as metadata");
});

test("every non-OK status code reaches the client as an RpcError with details and trailers", async () => {
  const client = createClient(Echo, channel);
  for (let code = 1; code <= 16; code++) {
    const call = client.unary({ message: `status:${code}` });
    const err = await expectStatus(call, code);
    assert.is(err.details, `details for ${StatusCode[code]}: ünïcødé ✓ 100%\r\n`);
    assert.is(err.trailingMetadata.get("x-trailer"), "t");
    assert.equal([...(err.trailingMetadata.get("x-trailer-bin") as Uint8Array)], [0, 255]);
    assert.is(await call.code(), code);
    assert.match(err.stack!, /at async expectStatus/, "the error's stack shows where the caller awaited");
  }
});

test("a handler that throws a plain Error gives UNKNOWN without leaking the message or stack", async () => {
  const client = createClient(Echo, channel);
  const err = await expectStatus(client.unary({ message: "throw" }), StatusCode.UNKNOWN);
  assert.not.match(err.details, /secret/);
  assert.not.match(err.details, /\bat\b.*\.js/);
});

test("setCode/setDetails decide the status when the handler returns", async () => {
  const client = createClient(Echo, channel);
  const err = await expectStatus(client.unary({ message: "set-code" }), StatusCode.FAILED_PRECONDITION);
  assert.is(err.details, "set via context");
});

test("unknown methods and services are UNIMPLEMENTED", async () => {
  const err = await expectStatus(channel.unaryUnary("/testing.Echo/Missing")(new Uint8Array()), StatusCode.UNIMPLEMENTED);
  assert.match(err.details, /testing\.Echo\/Missing/);
  await expectStatus(channel.unaryUnary("/no.Such/Service")(new Uint8Array()), StatusCode.UNIMPLEMENTED);
});

test("a non-OK status never resolves the awaited call; code() alone does not leave an unhandled rejection", async () => {
  const client = createClient(Echo, channel);
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on("unhandledRejection", onUnhandled);
  try {
    const call = client.unary({ message: "status:5" });
    assert.is(await call.code(), StatusCode.NOT_FOUND);
    await new Promise((r) => setTimeout(r, 20));
    assert.is(unhandled, 0);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("many concurrent calls on one channel all complete", async () => {
  const client = createClient(Echo, channel);
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.unary({ message: String(i) })));
  assert.equal(
    replies.map((r) => r.message),
    Array.from({ length: 200 }, (_, i) => `echo:${i}`),
  );
});

test("thousands of calls on one connection: no per-call RST_STREAM that a server would take for an attack", async () => {
  // Node's server answers a burst of client resets with GOAWAY (rapid-reset defence);
  // a client that reset every finished stream lost its connection after ~1000 calls.
  const client = createClient(Echo, channel);
  let done = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (done < 4000) {
        done++;
        await client.unary({ message: "x" });
      }
    }),
  );
  assert.ok(done >= 4000);
});

test.run();
