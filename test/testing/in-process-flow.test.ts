// The in-process transport under pressure: flow control when either side stops
// reading, the server's graceful stop and the channel's close with calls in flight.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConnectivityState, RpcError, StatusCode, type ServerConfig, type ServicerContext } from "../../src/index.js";
import { inProcessChannel, type InProcessChannelConfig } from "../../src/testing/index.js";
import { EchoClient, type EchoServicer } from "../gen/testing/echo_grpc.js";
import type { EchoRequest } from "../gen/testing/echo_pb.js";
import { connectEcho, startEcho } from "./in-process-fixture.js";
import { assertNoLeaks, eventually, expectStatus, sleep } from "../helpers.js";

const test = suite("testing: in-process flow control and shutdown");

const MESSAGE = new Uint8Array(64 * 1024).fill(1);
const state: { written: number; read: number; holdReading?: Promise<void>; reasons: unknown[] } = { written: 0, read: 0, reasons: [] };

const echo: Partial<EchoServicer> = {
  async unary(request: EchoRequest, context: ServicerContext) {
    try {
      await sleep(request.delayMs, context.signal);
    } catch (err) {
      state.reasons.push(context.signal.reason);
      throw err;
    }
    return { message: request.message };
  },
  async *serverStream(request: EchoRequest, context: ServicerContext) {
    for (let i = 0; i < request.count; i++) {
      if (context.signal.aborted) return;
      yield { index: i, payload: request.payload.byteLength > 0 ? request.payload : MESSAGE };
      state.written = i + 1;
      if (request.delayMs > 0) await sleep(request.delayMs);
    }
  },
  async clientStream(requests: AsyncIterable<EchoRequest>, context: ServicerContext) {
    if (state.holdReading !== undefined) {
      const signal = context.signal;
      await Promise.race([state.holdReading, new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }))]);
      if (signal.aborted) {
        state.reasons.push(signal.reason);
        throw signal.reason;
      }
    }
    let bytes = 0;
    for await (const r of requests) {
      bytes += r.payload.byteLength;
      state.read++;
    }
    return { index: bytes };
  },
  async *bidi(requests: AsyncIterable<EchoRequest>) {
    for await (const r of requests) {
      yield { message: r.message };
      if (r.message === "last") return; // stops reading while the client still sends
    }
  },
};

const started = (config?: ServerConfig) => startEcho(echo, config);
const connect = (serverConfig?: ServerConfig, channelConfig?: InProcessChannelConfig) => connectEcho(echo, serverConfig, channelConfig);

/** Waits until `value()` stops changing for `quietMs` (bounded by 5 s); returns it. */
async function plateau(value: () => number, quietMs = 200): Promise<number> {
  const until = Date.now() + 5000;
  let last = value();
  while (Date.now() < until) {
    await sleep(quietMs);
    const now = value();
    if (now === last && now > 0) return now;
    last = now;
  }
  assert.unreachable("the writer never came to a stop");
  return last;
}

test("a client that stops reading holds the server's writer back; reading again completes the stream", async () => {
  const { client, done } = await connect(undefined, { windowBytes: 64 * 1024 });
  state.written = 0;
  const count = 400; // 25 MiB in all
  const call = client.serverStream({ count });
  const iterator = call[Symbol.asyncIterator]();
  assert.is((await iterator.next()).done, false);
  // The server writes until the client's queue (256 KiB) and the stream window (64 KiB) are full.
  const held = await plateau(() => state.written);
  assert.ok(held < 16, `the server wrote ${held} messages of 64 KiB while the client did not read`);
  let received = 1;
  for (;;) {
    const r = await iterator.next();
    if (r.done) break;
    received++;
  }
  assert.is(received, count);
  assert.is(await call.code(), StatusCode.OK);
  await done();
});

test("a handler that does not read makes the client's write() wait; reading again completes the call", async () => {
  const { client, done } = await connect();
  let release!: () => void;
  state.holdReading = new Promise<void>((resolve) => (release = resolve));
  state.read = 0;
  const call = client.clientStream();
  let written = 0;
  const total = 200; // 12.5 MiB
  const writing = (async () => {
    for (let i = 0; i < total; i++) {
      await call.write({ payload: MESSAGE });
      written++;
    }
    await call.doneWriting();
  })();
  // Bounded by the server's queue (256 KiB) and the stream window (1 MiB by default).
  const held = await plateau(() => written);
  assert.ok(held < 40, `the client wrote ${held} messages of 64 KiB that nobody read`);
  assert.is(state.read, 0);
  state.holdReading = undefined;
  release();
  await writing;
  const summary = await call;
  assert.is(summary.index, total * MESSAGE.byteLength);
  assert.is(state.read, total);
  await done();
});

test("a client's cancel reaches a handler that is not reading, past the requests it has not read", async () => {
  const { client, done } = await connect();
  state.holdReading = new Promise<void>(() => {});
  state.reasons = [];
  const call = client.clientStream();
  // Past the server's queue (256 KiB), within the stream window: buffered, unread, then the end.
  for (let i = 0; i < 10; i++) await call.write({ payload: MESSAGE });
  await call.doneWriting();
  await sleep(50);
  assert.ok(call.cancel());
  await expectStatus(call, StatusCode.CANCELLED);
  await eventually(() => state.reasons.length === 1, "the handler's signal", 1000);
  assert.is((state.reasons[0] as RpcError).code, StatusCode.CANCELLED);
  state.holdReading = undefined;
  await done();
});

test("a handler that returns while the client still sends ends the call cleanly", async () => {
  const { client, done } = await connect();
  const chat = client.bidi();
  await chat.write({ message: "a" });
  await chat.write({ message: "last" });
  const back: string[] = [];
  for await (const r of chat) back.push(r.message);
  assert.equal(back, ["a", "last"]);
  assert.is(await chat.code(), StatusCode.OK);
  await done();
});

test("server.stop(grace): calls that finish in time succeed, the others end UNAVAILABLE, new ones are refused", async () => {
  const { server, channel, client } = await connect();
  state.reasons = [];
  state.written = 0;
  const quick = client.unary({ message: "quick", delayMs: 100 });
  const slow = client.unary({ message: "slow", delayMs: 10_000 });
  const stream = client.serverStream({ count: 1_000_000, payload: new Uint8Array(10), delayMs: 5 });
  await eventually(() => state.written > 0, "the stream to start");
  const t0 = Date.now();
  const stopped = server.stop(0.5);
  assert.is((await quick).message, "quick");
  const err = await expectStatus(slow, StatusCode.UNAVAILABLE);
  assert.match(err.details, /shutting down/);
  await expectStatus(
    (async () => {
      for await (const _ of stream);
    })(),
    StatusCode.UNAVAILABLE,
  );
  await stopped;
  assert.ok(Date.now() - t0 < 5000, "stop() waited for the grace only");
  await eventually(() => state.reasons.length > 0, "the slow handler's signal");
  assert.is((state.reasons[0] as RpcError).code, StatusCode.UNAVAILABLE);
  await expectStatus(client.unary({ message: "late" }), StatusCode.UNAVAILABLE);
  await channel.close();
});

test("channel: READY without connecting; close() cancels calls in flight and the handlers see it", async () => {
  const server = await started();
  const channel = inProcessChannel(server);
  assert.is(channel.getState(), ConnectivityState.IDLE);
  await channel.channelReady();
  assert.is(channel.getState(), ConnectivityState.READY);
  const client = new EchoClient(channel);
  state.reasons = [];
  const calls = Array.from({ length: 50 }, (_, i) => client.unary({ message: String(i), delayMs: 10_000 }));
  // Many calls at once, each its own stream.
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.unary({ message: String(i) })));
  assert.equal(
    replies.map((r) => r.message),
    Array.from({ length: 200 }, (_, i) => String(i)),
  );
  await sleep(20);
  await channel.close();
  for (const call of calls) await expectStatus(call, StatusCode.CANCELLED);
  await eventually(() => state.reasons.length === 50, "every handler's signal");
  assert.ok(state.reasons.every((r) => (r as RpcError).code === StatusCode.CANCELLED));
  assert.is(channel.getState(), ConnectivityState.SHUTDOWN);
  await expectStatus(client.unary({ message: "after" }), StatusCode.CANCELLED);
  await server.stop(0);
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
