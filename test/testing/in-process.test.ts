// The in-process transport (async-grpc/testing): a real Server and a Channel connected
// in memory, through the same stream seam as HTTP/2, with HTTP/2's semantics.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, Metadata, RpcError, StatusCode, type Server, type ServicerContext } from "../../src/index.js";
import { inProcessChannel } from "../../src/testing/index.js";
import { EchoClient, type EchoServicer } from "../gen/testing/echo_grpc.js";
import type { EchoRequest } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, pattern, sleep } from "../helpers.js";

const test = suite("testing: in-process transport");

/** What the handlers saw, for the tests to inspect. */
const seen: { metadata?: Metadata; timeRemaining?: number | undefined; signalReason?: unknown; requestCompressed?: boolean; peer?: string } = {};

const echo: EchoServicer = {
  async unary(request: EchoRequest, context: ServicerContext) {
    const metadata = context.invocationMetadata();
    seen.metadata = metadata;
    seen.timeRemaining = context.timeRemaining();
    seen.requestCompressed = context.requestCompressed();
    seen.peer = context.peer();
    const m = /^status:(\d+)$/.exec(request.message);
    if (m) context.abort(Number(m[1]) as StatusCode, `asked for ${m[1]}`, { "x-why": "asked", "x-bin-bin": new Uint8Array([0, 1, 255]) });
    if (request.message === "metadata") {
      await context.sendInitialMetadata({ "x-initial": "hello", "x-initial-bin": new Uint8Array([9, 8, 7]) });
      context.setTrailingMetadata({ "x-trailing": String(metadata.get("x-ask") ?? "none") });
    }
    if (request.delayMs > 0) {
      try {
        await sleep(request.delayMs, context.signal);
      } catch (err) {
        seen.signalReason = context.signal.reason;
        throw err;
      }
    }
    return { message: `echo:${request.message}`, payload: request.payload };
  },
  async *serverStream(request: EchoRequest, context: ServicerContext) {
    for (let i = 0; i < request.count; i++) {
      yield { index: i, payload: request.payload };
      progress.written = i + 1;
    }
    if (request.message === "fail") context.abort(StatusCode.DATA_LOSS, "failed after the responses");
  },
  async clientStream(requests: AsyncIterable<EchoRequest>, context: ServicerContext) {
    const messages: string[] = [];
    let bytes = 0;
    if (progress.holdReading !== undefined) await progress.holdReading;
    for await (const r of requests) {
      messages.push(r.message);
      bytes += r.payload.byteLength;
      if (r.message === "stop") break;
    }
    seen.requestCompressed = context.requestCompressed();
    return { message: messages.join(","), index: bytes };
  },
  async *bidi(requests: AsyncIterable<EchoRequest>) {
    for await (const r of requests) yield { message: r.message, payload: r.payload };
  },
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const progress: { written: number; holdReading?: Promise<void> } = { written: 0 };

async function started(config?: Parameters<typeof createServer>[0]): Promise<Server> {
  const server = createServer(config);
  server.addService((await import("../gen/testing/echo_pb.js")).Echo, echo);
  await server.start();
  return server;
}

test("all four call kinds through a generated client, with no port", async () => {
  const server = await started();
  const channel = inProcessChannel(server);
  const client = new EchoClient(channel);
  const reply = await client.unary({ message: "hi", payload: pattern(100) });
  assert.is(reply.message, "echo:hi");
  assert.ok(sameBytes(reply.payload, pattern(100)), "the payload came back intact");
  const streamed = [];
  for await (const r of client.serverStream({ count: 5 })) streamed.push(r.index);
  assert.equal(streamed, [0, 1, 2, 3, 4]);
  const summary = await client.clientStream([{ message: "a" }, { message: "b" }, { message: "c" }]);
  assert.is(summary.message, "a,b,c");
  const chat = client.bidi();
  const back: string[] = [];
  await chat.write({ message: "x" });
  await chat.write({ message: "y" });
  await chat.doneWriting();
  for await (const r of chat) back.push(r.message);
  assert.equal(back, ["x", "y"]);
  assert.is(await chat.code(), StatusCode.OK);
  assert.is(seen.peer, "inproc");
  await channel.close();
  await server.stop(0);
});

test.after(async () => {
  await assertNoLeaks();
  void RpcError, eventually, expectStatus;
});

test.run();
