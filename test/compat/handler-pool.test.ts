import { setTimeout as sleep } from "node:timers/promises";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { HandlerPool } from "../../src/compat/index.js";
import { createClient, createServer, insecureChannel, StatusCode, unaryUnaryRpcMethodHandler, type Channel, type Server } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, startServer } from "../helpers.js";
import * as handlers from "./fixtures/pool-handlers.js";

const test = suite("compat: handler pool");
const HANDLERS = new URL("./fixtures/pool-handlers.js", import.meta.url);

let pool: HandlerPool;
let server: Server;
let channel: Channel;

/** A server with Echo on a one-thread pool, and a small async method on the event loop. */
async function serve(config: Parameters<typeof createServer>[0], echo: object): Promise<{ server: Server; channel: Channel }> {
  const started = await startServer((s) => {
    s.addService(Echo, echo);
    s.addRegisteredMethodHandlers("testing.Small", { Ping: unaryUnaryRpcMethodHandler(async (bytes: Uint8Array) => bytes) });
  }, config);
  return { server: started.server, channel: insecureChannel(started.target) };
}

test.before(async () => {
  pool = new HandlerPool({ threads: 1 });
  ({ server, channel } = await serve({}, pool.servicer(Echo, HANDLERS)));
});

test.after(async () => {
  await channel.close();
  await server.stop(null);
  await pool.close();
  await assertNoLeaks();
});

test("a plain-function handler runs on a pool thread, with the call's context", async () => {
  const client = createClient(Echo, channel);
  const reply = await client.unary({ message: "thread" });
  assert.match(reply.message, /^thread [1-9]\d*$/, "a worker thread, not the main thread (0)");
  const call = client.unary({ message: "context" }, { timeoutMs: 10_000, metadata: { "x-echo": "hello" } });
  assert.is((await call).message, "deadline true remaining true active true");
  const trailers = await call.trailingMetadata();
  assert.is(trailers.get("x-echo"), "hello");
  assert.is(trailers.get("x-method"), "/testing.Echo/Unary");
  assert.is((await client.unary({ message: "last" })).message, "callback ran", "addCallback ran when the handler ended");
});

test("statuses from the pool: abort() with trailers, setCode(), and an exception as UNKNOWN", async () => {
  const client = createClient(Echo, channel);
  const err = await expectStatus(client.unary({ message: "abort" }), StatusCode.NOT_FOUND);
  assert.is(err.details, "not here");
  assert.is(err.trailingMetadata.get("x-why"), "pool");
  assert.is((await expectStatus(client.unary({ message: "status" }), StatusCode.FAILED_PRECONDITION)).details, "set on the pool");
  const unknown = await expectStatus(client.unary({ message: "throw" }), StatusCode.UNKNOWN);
  assert.not.match(unknown.details, /a bug/, "the exception's text stays on the server");
});

test("synchronous generators and iterables: server, client and bidi streaming", async () => {
  const client = createClient(Echo, channel);
  const got: number[] = [];
  for await (const r of client.serverStream({ message: "s", count: 20 })) got.push(r.index);
  assert.equal(got, Array.from({ length: 20 }, (_, i) => i));
  assert.is((await client.clientStream([{ message: "a" }, { message: "b" }, { message: "c" }])).message, "a,b,c");
  const replies: string[] = [];
  for await (const r of client.bidi([{ message: "x" }, { message: "y" }])) replies.push(r.message);
  assert.equal(replies, ["X", "Y"]);
});

test("a 500 ms CPU-bound handler on the pool does not hold up 100 small calls on the same server", async () => {
  const client = createClient(Echo, channel);
  const ping = channel.unaryUnary("/testing.Small/Ping");
  const big = client.unary({ message: "spin:500" });
  await big.initialMetadata(); // the handler is computing now
  let bigDone = false;
  void big.then(() => (bigDone = true));
  const latencies: number[] = [];
  let finishedWhileBusy = 0;
  await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const t0 = performance.now();
      await ping(new Uint8Array([i]));
      latencies.push(performance.now() - t0);
      if (!bigDone) finishedWhileBusy++;
    }),
  );
  assert.is((await big).message, "spun");
  assert.is(finishedWhileBusy, 100, "every small call finished while the CPU-bound handler was still computing");
  console.log(`    (100 small calls beside a 500 ms pooled handler: slowest ${Math.max(...latencies).toFixed(1)} ms)`);
});

test("without the pool, the same handler stalls the other calls (the control)", async () => {
  const plain = await serve({}, { unary: handlers.unary });
  try {
    const client = createClient(Echo, plain.channel);
    const ping = plain.channel.unaryUnary("/testing.Small/Ping");
    await ping(new Uint8Array([0])); // connected
    let bigDone = false;
    const big = client.unary({ message: "spin:300" }).then(() => (bigDone = true));
    await sleep(50);
    const finishedFirst = await Promise.all(Array.from({ length: 10 }, async () => (await ping(new Uint8Array([1])), !bigDone)));
    await big;
    assert.equal(finishedFirst, Array(10).fill(false), "on the event loop, every small call waits for the CPU-bound one");
  } finally {
    await plain.channel.close();
    await plain.server.stop(null);
  }
});

test("a cancellation reaches a handler busy computing (isActive() and signal), and frees the thread", async () => {
  const client = createClient(Echo, channel);
  const call = client.unary({ message: "spin:20000" });
  await call.initialMetadata();
  call.cancel();
  await expectStatus(call, StatusCode.CANCELLED);
  // One thread: this call runs only once the cancelled handler has returned.
  assert.is((await client.unary({ message: "last" }, { timeoutMs: 10_000 })).message, "ended early: signal.aborted=true reason=CANCELLED");
});

test("the deadline reaches a handler busy computing", async () => {
  const client = createClient(Echo, channel);
  await expectStatus(client.unary({ message: "spin:20000" }, { timeoutMs: 300 }), StatusCode.DEADLINE_EXCEEDED);
  assert.is((await client.unary({ message: "last" }, { timeoutMs: 10_000 })).message, "ended early: signal.aborted=true reason=DEADLINE_EXCEEDED");
});

test("a client that stops reading a stream stops the generator on the pool", async () => {
  const client = createClient(Echo, channel);
  let n = 0;
  for await (const _ of client.serverStream({ message: "s", count: 100_000, delayMs: 1 })) if (++n === 3) break;
  let last = "";
  for (let i = 0; i < 50 && last !== "stream stopped early"; i++) {
    last = (await client.unary({ message: "last" }, { timeoutMs: 10_000 })).message;
    if (last !== "stream stopped early") await sleep(20);
  }
  assert.is(last, "stream stopped early");
});

test("calls wait for a free thread; maximumConcurrentRpcs bounds them; a waiting call cancelled never runs", async () => {
  const small = new HandlerPool({ threads: 1 });
  const bounded = await serve({ maximumConcurrentRpcs: 3 }, small.servicer(Echo, HANDLERS));
  try {
    const client = createClient(Echo, bounded.channel);
    const first = client.unary({ message: "spin:400" });
    await first.initialMetadata();
    const queued = client.unary({ message: "thread" });
    const cancelled = client.unary({ message: "thread" });
    await sleep(50);
    await expectStatus(client.unary({ message: "thread" }), StatusCode.RESOURCE_EXHAUSTED);
    cancelled.cancel();
    await expectStatus(cancelled, StatusCode.CANCELLED);
    assert.is((await first).message, "spun");
    const q = await queued;
    // `index` counts the handler runs on that thread: spin, then this one; the cancelled call never ran.
    assert.is(q.index, 2);
    assert.is((await client.unary({ message: "thread" })).index, 3);
  } finally {
    await bounded.channel.close();
    await bounded.server.stop(null);
    await small.close();
  }
});

test("a pool thread that dies fails its call with INTERNAL; the next call gets a new thread", async () => {
  const client = createClient(Echo, channel);
  const before = (await client.unary({ message: "thread" })).message;
  const err = await expectStatus(client.unary({ message: "exit" }), StatusCode.INTERNAL);
  assert.match(err.details, /exited with code 7/);
  const after = (await client.unary({ message: "thread" })).message;
  assert.is.not(after, before);
});

test("servicer(): a module without the handler answers UNIMPLEMENTED; bad thread counts are refused", async () => {
  assert.throws(() => new HandlerPool({ threads: 0 }), /at least one thread/);
  const empty = new HandlerPool({ threads: 1 });
  const s = await serve({}, empty.servicer(Echo, new URL("./fixtures/crashing-interceptors.js", import.meta.url)));
  try {
    await expectStatus(createClient(Echo, s.channel).unary({}), StatusCode.UNIMPLEMENTED);
  } finally {
    await s.channel.close();
    await s.server.stop(null);
    await empty.close();
  }
});

test.run();
