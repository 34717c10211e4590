// Streaming handlers that return synchronous iterables (a sync generator, an array)
// are written without a promise turn per response while HTTP/2 has room, so they must
// still wait when it has none, await promises they yield as `for await` would, stop
// when the client cancels, and fail the call with what they throw.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  insecureChannel,
  methodHandlersGenericHandler,
  StatusCode,
  unaryStreamRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { assertNoLeaks, eventually, expectStatus, startServer, type Started } from "../helpers.js";

const test = suite("synchronous iterables as response streams");
let started: Started;
let channel: Channel;
const state = { produced: 0, finallyRan: false };

const path = (method: string): string => `/sync.Stream/${method}`;
const bytes = { requestSerializer: (b: Uint8Array) => b, responseDeserializer: (b: Uint8Array) => b };

test.before(async () => {
  started = await startServer((server) =>
    server.addGenericRpcHandlers([
      methodHandlersGenericHandler("sync.Stream", {
        // 3,000 x 1 KiB: far more than one write buffer, so writes must wait for drains.
        Many: unaryStreamRpcMethodHandler(function* () {
          for (let i = 0; i < 3000; i++) yield new Uint8Array(1024).fill(i & 0xff);
        }),
        Promises: unaryStreamRpcMethodHandler(function* () {
          for (let i = 0; i < 5; i++) yield new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(Uint8Array.of(i)), 2));
        }),
        Array: unaryStreamRpcMethodHandler(() => [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]),
        Throws: unaryStreamRpcMethodHandler(function* () {
          for (let i = 0; i < 10; i++) yield Uint8Array.of(i);
          throw new Error("handler bug");
        }),
        Endless: unaryStreamRpcMethodHandler(function* () {
          state.produced = 0;
          state.finallyRan = false;
          try {
            for (let i = 0; i < 10_000_000; i++) {
              state.produced++;
              yield new Uint8Array(512);
            }
          } finally {
            state.finallyRan = true;
          }
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

test("a sync generator of many responses: every one arrives, in order", async () => {
  const call = channel.unaryStream(path("Many"), bytes)(new Uint8Array(0));
  let i = 0;
  for await (const r of call) {
    assert.is(r.byteLength, 1024);
    assert.is(r[0], i & 0xff);
    i++;
  }
  assert.is(i, 3000);
  assert.is(await call.code(), StatusCode.OK);
});

test("promises a sync generator yields are awaited, as for await does", async () => {
  const got: number[] = [];
  for await (const r of channel.unaryStream(path("Promises"), bytes)(new Uint8Array(0))) got.push(r[0]!);
  assert.equal(got, [0, 1, 2, 3, 4]);
});

test("a handler returning an array streams its items", async () => {
  const got: number[] = [];
  for await (const r of channel.unaryStream(path("Array"), bytes)(new Uint8Array(0))) got.push(r[0]!);
  assert.equal(got, [1, 2, 3]);
});

test("a sync generator that throws mid-stream: the responses before it, then UNKNOWN", async () => {
  const call = channel.unaryStream(path("Throws"), bytes)(new Uint8Array(0));
  const got: number[] = [];
  const error = await expectStatus(
    (async () => {
      for await (const r of call) got.push(r[0]!);
    })(),
    StatusCode.UNKNOWN,
  );
  assert.equal(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.match(error.details, /Unexpected error/);
});

test("an endless sync generator stops when the client cancels, and the connection serves on", async () => {
  const call = channel.unaryStream(path("Endless"), bytes)(new Uint8Array(0));
  let read = 0;
  for await (const _ of call) if (++read === 100) break;
  await eventually(() => state.finallyRan, "the generator was closed");
  assert.ok(state.produced < 1_000_000, `produced ${state.produced}`);
  const got: number[] = [];
  for await (const r of channel.unaryStream(path("Array"), bytes)(new Uint8Array(0))) got.push(r[0]!);
  assert.equal(got, [1, 2, 3]);
});

test.run();
