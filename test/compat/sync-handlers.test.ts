// Plain functions and synchronous generators are handlers wherever async ones are
// (gRPC Python's synchronous servicers), with no pool: on the server's own thread.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  insecureChannel,
  methodHandlersGenericHandler,
  StatusCode,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { Echo, type EchoRequest } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, startServer, type Started } from "../helpers.js";

const test = suite("compat: synchronous handlers");
let started: Started;
let channel: Channel;
let finallyRan = false;

test.before(async () => {
  started = await startServer((server) => {
    server.addService(Echo, {
      unary(request, context) {
        if (request.message === "abort") context.abort(StatusCode.OUT_OF_RANGE, "sync abort");
        if (request.message === "throw") throw new Error("sync throw");
        context.setTrailingMetadata({ "x-sync": "yes" });
        return { message: `sync:${request.message}` };
      },
      *serverStream(request) {
        try {
          for (let i = 0; i < request.count; i++) {
            if (request.message === "fail-at-2" && i === 2) breakStream();
            yield { index: i };
          }
        } finally {
          finallyRan = true;
        }
      },
      // A plain function for a client-streaming method: it returns a promise of its own.
      clientStream(requests) {
        return count(requests).then((index) => ({ index }));
      },
      // A synchronous generator for bidi: it answers without reading (a greeting).
      *bidi() {
        yield { message: "hello" };
        yield { message: "bye" };
      },
    });
    server.addGenericRpcHandlers([
      methodHandlersGenericHandler("testing.Raw", {
        Reverse: unaryUnaryRpcMethodHandler((bytes: Uint8Array) => bytes.slice().reverse()),
        Count: unaryStreamRpcMethodHandler(function* (bytes: Uint8Array) {
          for (let i = 0; i < bytes[0]!; i++) yield new Uint8Array([i]);
        }),
      }),
    ]);
  });
  channel = insecureChannel(started.target);
});

function breakStream(): never {
  throw new Error("stream broke");
}

async function count(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  await assertNoLeaks();
});

test("a plain function answers a unary call; abort() and throw work as in an async handler", async () => {
  const client = createClient(Echo, channel);
  const call = client.unary({ message: "x" });
  assert.is((await call).message, "sync:x");
  assert.is((await call.trailingMetadata()).get("x-sync"), "yes");
  assert.is((await expectStatus(client.unary({ message: "abort" }), StatusCode.OUT_OF_RANGE)).details, "sync abort");
  await expectStatus(client.unary({ message: "throw" }), StatusCode.UNKNOWN);
});

test("a synchronous generator streams responses; an exception mid-stream ends the call after what it yielded", async () => {
  const client = createClient(Echo, channel);
  const got: number[] = [];
  for await (const r of client.serverStream({ count: 4 })) got.push(r.index);
  assert.equal(got, [0, 1, 2, 3]);
  const partial: number[] = [];
  const call = client.serverStream({ count: 5, message: "fail-at-2" });
  await expectStatus(
    (async () => {
      for await (const r of call) partial.push(r.index);
    })(),
    StatusCode.UNKNOWN,
  );
  assert.equal(partial, [0, 1]);
  assert.ok(finallyRan);
});

test("plain functions for the streaming-request kinds", async () => {
  const client = createClient(Echo, channel);
  assert.is((await client.clientStream([{}, {}, {}] as EchoRequest[])).index, 3);
  const replies: string[] = [];
  for await (const r of client.bidi([])) replies.push(r.message);
  assert.equal(replies, ["hello", "bye"]);
});

test("plain functions and generators through the *RpcMethodHandler factories", async () => {
  assert.equal([...(await channel.unaryUnary("/testing.Raw/Reverse")(new Uint8Array([1, 2, 3])))], [3, 2, 1]);
  const counted: number[] = [];
  for await (const b of channel.unaryStream("/testing.Raw/Count")(new Uint8Array([3]))) counted.push(b[0]!);
  assert.equal(counted, [0, 1, 2]);
});

test.run();
