// Small frames written in one tick leave in one write (transport/message-writer.ts).
// What that saves is CPU, measured in benchmarks/; here: never a message out of order,
// lost at the end of a stream or before a large frame, or written to a stream that was
// reset meanwhile.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  insecureChannel,
  methodHandlersGenericHandler,
  StatusCode,
  streamUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { assertNoLeaks, pattern, startServer, type Started } from "../helpers.js";
import { FRAME, grpcMessage, grpcRequestHeaders, rawClient } from "./raw-h2.js";

const test = suite("write batching");
let started: Started;
let channel: Channel;

const SMALL = 2000;
const path = (method: string): string => `/batch.Stream/${method}`;
const bytes = { requestSerializer: (b: Uint8Array) => b, responseDeserializer: (b: Uint8Array) => b };

// Sizes around the batching limit (1 KiB) and the split-frame one (16 KiB), in an order
// where each kind follows each other kind.
const MIXED = [16, 16, 2000, 16, 40_000, 16, 1019, 1020, 1021, 16, 70_000, 70_000, 1, 0, 16];

test.before(async () => {
  started = await startServer((server) =>
    server.addGenericRpcHandlers([
      methodHandlersGenericHandler("batch.Stream", {
        Small: unaryStreamRpcMethodHandler(function* () {
          for (let i = 0; i < SMALL; i++) yield smallMessage(i);
        }),
        Mixed: unaryStreamRpcMethodHandler(async function* () {
          for (const [i, size] of MIXED.entries()) yield pattern(size, i + 1);
        }),
        Endless: unaryStreamRpcMethodHandler(function* () {
          for (let i = 0; i < 10_000_000; i++) yield smallMessage(i);
        }),
        Count: streamUnaryRpcMethodHandler(async (requests: AsyncIterable<Uint8Array>) => {
          let n = 0;
          for await (const r of requests) {
            if (!Buffer.from(r).equals(Buffer.from(smallMessage(n)))) throw new Error(`request ${n} out of order`);
            n++;
          }
          return Uint8Array.of(n & 0xff, n >> 8);
        }),
      }),
    ]),
  );
  channel = insecureChannel(started.target);
});

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  await assertNoLeaks();
});

function smallMessage(i: number): Uint8Array {
  const m = new Uint8Array(16).fill(i & 0xff);
  m[0] = i >> 8;
  return m;
}

test("2,000 small responses of one tick arrive in a few DATA frames, every one in order", async () => {
  const peer = await rawClient(started.port);
  try {
    peer.write(grpcRequestHeaders(1, path("Small")));
    peer.write(grpcMessage(1, new Uint8Array(0)));
    // 2,000 x 21 bytes fit the 64 KiB initial window: no WINDOW_UPDATE needed.
    await peer.until((p) => p.of(FRAME.HEADERS).some((f) => f.streamId === 1 && (f.flags & 0x1) !== 0), "the trailers");
    const data = peer.of(FRAME.DATA).filter((f) => f.streamId === 1);
    const body = Buffer.concat(data.map((f) => f.payload));
    assert.is(body.length, SMALL * 21);
    for (let i = 0; i < SMALL; i++) {
      const at = i * 21;
      assert.is(body.readUInt32BE(at + 1), 16, `length prefix of message ${i}`);
      assert.ok(body.subarray(at + 5, at + 21).equals(Buffer.from(smallMessage(i))), `message ${i}`);
    }
    // Full DATA frames, not one per message.
    assert.ok(data.length <= 20, `${data.length} DATA frames for ${SMALL} messages`);
  } finally {
    peer.close();
  }
});

test("small, large and split responses keep their order and bytes", async () => {
  const got: Uint8Array[] = [];
  for await (const m of channel.unaryStream<Uint8Array, Uint8Array>(path("Mixed"), bytes)(new Uint8Array(0))) got.push(m);
  assert.equal(got.map((m) => m.byteLength), MIXED);
  for (const [i, m] of got.entries()) assert.ok(Buffer.from(m).equals(Buffer.from(pattern(MIXED[i]!, i + 1))), `message ${i}`);
});

test("small requests from a synchronous iterable arrive in order", async () => {
  const requests = Array.from({ length: SMALL }, (_, i) => smallMessage(i));
  const response = await channel.streamUnary<Uint8Array, Uint8Array>(path("Count"), bytes)(requests);
  assert.is(response[0]! | (response[1]! << 8), SMALL);
});

test("a stream cancelled with frames still batched ends cleanly, and the connection serves on", async () => {
  for (let round = 0; round < 5; round++) {
    const call = channel.unaryStream<Uint8Array, Uint8Array>(path("Endless"), bytes)(new Uint8Array(0));
    let n = 0;
    for await (const _ of call) {
      if (++n === 1000 + round) break;
    }
    assert.is(await call.code(), StatusCode.CANCELLED);
  }
  const got: Uint8Array[] = [];
  for await (const m of channel.unaryStream<Uint8Array, Uint8Array>(path("Mixed"), bytes)(new Uint8Array(0))) got.push(m);
  assert.is(got.length, MIXED.length);
});

test.run();
