import { spawnSync } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BlockingChannel, createBlockingClient, FutureCancelledError, FutureTimeoutError, type BlockingClient } from "../../src/compat/index.js";
import { EOF, Metadata, RpcError, sslChannelCredentials, StatusCode } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually } from "../helpers.js";
import { startServerThread, testCert, type ServerThread } from "./server-thread.js";

const test = suite("compat: blocking client");
let server: ServerThread;
let client: BlockingClient<typeof Echo>;

const fixture = (name: string) => new URL(`./fixtures/${name}.js`, import.meta.url);

function rpcError(fn: () => unknown, code: StatusCode): RpcError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RpcError, `expected an RpcError, got ${String(err)}`);
    assert.is(StatusCode[err.code], StatusCode[code], `status (details: ${err.details})`);
    return err;
  }
  throw new Error(`expected ${StatusCode[code]}, but the call succeeded`);
}

async function deadPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test.before(async () => {
  server = await startServerThread();
  client = createBlockingClient(Echo, server.target, undefined, { defaultTimeoutMs: 20_000 });
});

test.after(async () => {
  client.close();
  await server.stop();
  await assertNoLeaks();
});

test("a unary call returns the response before anything else runs on the thread", () => {
  let ranMicrotask = false;
  let ranTimer = false;
  void Promise.resolve().then(() => (ranMicrotask = true));
  setTimeout(() => (ranTimer = true), 0);
  const reply = client.unary({ message: "hi", payload: new Uint8Array([1, 2, 3]) });
  assert.is(reply.message, "echo:hi");
  assert.equal([...reply.payload], [1, 2, 3]);
  assert.not.ok(ranMicrotask, "no await ran in the caller before the value came back");
  assert.not.ok(ranTimer);
});

test("withCall gives the status and both kinds of metadata; metadata reaches the server", () => {
  const { response, call } = client.unary.withCall({ message: "md" }, { metadata: { "x-echo": "e1" } });
  assert.is(response.message, "echo:md");
  assert.is(call.code, StatusCode.OK);
  assert.is(call.initialMetadata.get("x-served-by"), "server-thread");
  assert.is(call.trailingMetadata.get("x-echo"), "e1");
});

test("a failed call throws the same RpcError, with trailers, and a stack from the caller", () => {
  function callerFrame() {
    return rpcError(() => client.unary({ message: `status:${StatusCode.NOT_FOUND}` }), StatusCode.NOT_FOUND);
  }
  const err = callerFrame();
  assert.is(err.details, "failed with NOT_FOUND as asked");
  assert.is(err.trailingMetadata.get("x-why"), "asked");
  assert.match(err.stack ?? "", /callerFrame/);
});

test("a deadline that passes while the thread is blocked ends the call with DEADLINE_EXCEEDED", async () => {
  rpcError(() => client.unary({ message: "slow", delayMs: 10_000 }, { timeoutMs: 200 }), StatusCode.DEADLINE_EXCEEDED);
  rpcError(() => client.unary({ message: "slow", delayMs: 10_000 }, { deadline: Date.now() + 200 }), StatusCode.DEADLINE_EXCEEDED);
  await eventually(() => server.events.filter((e) => e === "cancelled:unary").length >= 2, "the server to see both deadlines");
  // The client is still usable afterwards.
  assert.is(client.unary({ message: "after" }).message, "echo:after");
});

test("defaultTimeoutMs bounds a call that sets no timeout of its own", () => {
  const c = createBlockingClient(Echo, server.target, undefined, { defaultTimeoutMs: 200 });
  try {
    rpcError(() => c.unary({ message: "slow", delayMs: 10_000 }), StatusCode.DEADLINE_EXCEEDED);
  } finally {
    c.close();
  }
});

test("waitForReady crosses to the worker: fail fast without it, wait until the deadline with it", async () => {
  const c = createBlockingClient(Echo, `127.0.0.1:${await deadPort()}`);
  try {
    rpcError(() => c.unary({ message: "x" }), StatusCode.UNAVAILABLE);
    rpcError(() => c.unary({ message: "x" }, { waitForReady: true, timeoutMs: 300 }), StatusCode.DEADLINE_EXCEEDED);
  } finally {
    c.close();
  }
});

test("an AbortSignal is refused with a clear TypeError", () => {
  assert.throws(() => client.unary({ message: "x" }, { signal: new AbortController().signal } as never), /timeoutMs/);
});

test("server streaming: a synchronous iterator, then the status", () => {
  const call = client.serverStream({ message: "s", count: 5 });
  const got: number[] = [];
  for (const r of call) got.push(r.index);
  assert.equal(got, [0, 1, 2, 3, 4]);
  assert.is(call.code(), StatusCode.OK);
  assert.is(call.details(), "");
  assert.ok(call.done());
  assert.not.ok(call.cancel(), "an ended call cannot be cancelled");
});

test("a stream's metadata and status block until they are there; cancel() ends it", () => {
  const call = client.serverStream({ message: "m", count: 1000, delayMs: 5 }, { metadata: { "x-echo": "s" } });
  assert.instance(call.initialMetadata(), Metadata); // blocks for the headers, before any message
  assert.is(call.next().value?.index, 0);
  assert.ok(call.cancel());
  assert.ok(call.done());
  assert.is(call.code(), StatusCode.CANCELLED);
  rpcError(() => call.next(), StatusCode.CANCELLED);
  const short = client.serverStream({ message: "m", count: 2 });
  // code() before reading: it waits for the end (the two responses fit the buffers),
  // and the responses can still be read afterwards.
  assert.is(short.code(), StatusCode.OK);
  assert.ok(short.done());
  assert.not.ok(short.cancel(), "the call has ended");
  assert.equal([...short].map((r) => r.index), [0, 1]);
});

test("server streaming with read() until EOF; mixing with iteration throws", () => {
  const call = client.serverStream({ message: "s", count: 2 });
  assert.is((call.read() as { index: number }).index, 0);
  assert.throws(() => [...call], /read\(\) or by iteration/);
  assert.is((call.read() as { index: number }).index, 1);
  assert.is(call.read(), EOF);
  assert.is(call.read(), EOF);
});

test("a server error in the middle of a stream is thrown by the iterator after the responses before it", () => {
  const call = client.serverStream({ message: "fail-after:3", count: 10 });
  const got: number[] = [];
  const err = rpcError(() => {
    for (const r of call) got.push(r.index);
  }, StatusCode.DATA_LOSS);
  assert.equal(got, [0, 1, 2]);
  assert.is(err.details, "failed after 3 responses");
  assert.is(call.code(), StatusCode.DATA_LOSS);
  // The error stays: reading again throws it again.
  rpcError(() => call.next(), StatusCode.DATA_LOSS);
});

test("a deadline in the middle of a stream", () => {
  const call = client.serverStream({ message: "slow", count: 100, delayMs: 50 }, { timeoutMs: 300 });
  let n = 0;
  rpcError(() => {
    for (const _ of call) n++;
  }, StatusCode.DEADLINE_EXCEEDED);
  assert.ok(n < 100);
});

test("leaving the loop early cancels the call on the server", async () => {
  const before = server.events.filter((e) => e === "cancelled:serverStream").length;
  const call = client.serverStream({ message: "many", count: 1000, delayMs: 5 });
  for (const r of call) if (r.index === 2) break;
  assert.ok(call.done());
  await eventually(() => server.events.filter((e) => e === "cancelled:serverStream").length > before, "the server to see the cancellation");
});

test("client streaming takes a synchronous iterable (a generator)", () => {
  function* requests() {
    for (let i = 0; i < 40; i++) yield { message: `m${i}` };
  }
  const reply = client.clientStream(requests());
  assert.is(reply.index, 40);
  assert.is(reply.message.split(",")[39], "m39");
  const { response, call } = client.clientStream.withCall([{ message: "a" }, { message: "b" }]);
  assert.is(response.message, "a,b");
  assert.is(call.code, StatusCode.OK);
});

test("client streaming: a server failure stops the iterable and throws; an iterable that throws cancels the call", () => {
  let pulled = 0;
  let returned = false;
  const failing: Iterable<{ message: string }> = {
    [Symbol.iterator]() {
      return {
        next: () => ({ done: false, value: { message: pulled++ === 2 ? `status:${StatusCode.INVALID_ARGUMENT}` : "ok" } }),
        return: () => {
          returned = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  rpcError(() => client.clientStream(failing, { timeoutMs: 10_000 }), StatusCode.INVALID_ARGUMENT);
  assert.ok(returned, "the iterable was closed");
  function* broken() {
    yield { message: "a" };
    throw new Error("the source broke");
  }
  assert.throws(() => client.clientStream(broken()), /the source broke/);
  assert.is(client.unary({ message: "still fine" }).message, "echo:still fine");
});

test("bidi: blocking write(), read(), doneWriting(); or an iterable of requests", () => {
  const call = client.bidi();
  call.write({ message: "one" });
  assert.is((call.read() as { message: string }).message, "one");
  call.write({ message: "two" });
  assert.is((call.read() as { message: string }).message, "two");
  call.doneWriting();
  assert.is(call.read(), EOF);
  assert.throws(() => call.write({ message: "late" }), /doneWriting/);
  const all = [...client.bidi([{ message: "a" }, { message: "b" }, { message: "c" }])].map((r) => r.message);
  assert.equal(all, ["a", "b", "c"]);
  const failed = client.bidi();
  failed.write({ message: `status:${StatusCode.ABORTED}` });
  rpcError(() => failed.read(), StatusCode.ABORTED);
});

test("future(): result() blocks for the response; timeouts, cancellation and callbacks", async () => {
  const f = client.unary.future({ message: "f" });
  const g = client.unary.future({ message: "g" });
  assert.is(g.result().message, "echo:g");
  assert.is(f.result().message, "echo:f");
  assert.ok(f.done());
  let ranAtOnce = false;
  f.addDoneCallback(() => (ranAtOnce = true));
  assert.ok(ranAtOnce, "a callback added after completion runs at once");

  const slow = client.unary.future({ message: "slow", delayMs: 10_000 }, { timeoutMs: 20_000 });
  assert.throws(() => slow.result(100), (e: unknown) => e instanceof FutureTimeoutError);
  assert.ok(slow.running());
  assert.ok(slow.cancel());
  assert.ok(slow.cancelled());
  assert.throws(() => slow.result(), (e: unknown) => e instanceof FutureCancelledError);

  const failing = client.unary.future({ message: `status:${StatusCode.PERMISSION_DENIED}` });
  const err = failing.exception();
  assert.ok(err instanceof RpcError && err.code === StatusCode.PERMISSION_DENIED);
  assert.match(failing.traceback() ?? "", /PERMISSION_DENIED/);

  // While the thread is free, the answer arrives as an event and the callback runs.
  const later = client.unary.future({ message: "later" });
  const seen = await new Promise<string>((resolve) => later.addDoneCallback((fut) => resolve(fut.result().message)));
  assert.is(seen, "echo:later");
});

test("close() with a stream in flight: the stream fails with CANCELLED, so do later calls", () => {
  const c = createBlockingClient(Echo, server.target);
  const call = c.serverStream({ message: "open", count: 1000, delayMs: 5 });
  assert.is(call.next().value?.index, 0);
  c.close();
  const err = rpcError(() => call.next(), StatusCode.CANCELLED);
  assert.match(err.details, /closed/i);
  rpcError(() => c.unary({ message: "after close" }), StatusCode.CANCELLED);
  c.close(); // twice is fine
});

test("a worker that crashes during a call: a clear error, not a hang; later calls fail at once", () => {
  const c = createBlockingClient(Echo, server.target, undefined, { interceptorsModule: fixture("crashing-interceptors") });
  try {
    assert.is(c.unary({ message: "ok" }).message, "echo:ok");
    const err = rpcError(() => c.unary({ message: "slow", delayMs: 5000 }, { metadata: { "x-crash": "throw" } }), StatusCode.INTERNAL);
    assert.match(err.details, /worker thread crashed: .*boom in the worker/);
    rpcError(() => c.unary({ message: "again" }), StatusCode.INTERNAL);
  } finally {
    c.close();
  }
});

test("a worker that exits during a call", () => {
  const c = createBlockingClient(Echo, server.target, undefined, { interceptorsModule: fixture("crashing-interceptors") });
  try {
    const err = rpcError(() => c.unary({ message: "slow", delayMs: 5000 }, { metadata: { "x-crash": "exit" } }), StatusCode.INTERNAL);
    assert.match(err.details, /worker thread exited/);
  } finally {
    c.close();
  }
});

test("a worker that hangs: the caller gives up after workerStallTimeoutMs", () => {
  const c = createBlockingClient(Echo, server.target, undefined, { interceptorsModule: fixture("crashing-interceptors"), workerStallTimeoutMs: 1500 });
  try {
    c.unary({ message: "warm-up" });
    const err = rpcError(() => c.unary({ message: "slow", delayMs: 5000 }, { metadata: { "x-crash": "hang" } }), StatusCode.INTERNAL);
    assert.match(err.details, /stopped responding/);
  } finally {
    c.close();
  }
});

test("an unclosed client does not keep the process alive", async () => {
  const child = spawnSync(process.execPath, [new URL("./fixtures/unclosed-client.js", import.meta.url).pathname, `127.0.0.1:${await deadPort()}`], {
    timeout: 30_000,
    encoding: "utf8",
  });
  assert.is(child.signal, null, "the process ended on its own (not killed by the timeout)");
  assert.is(child.status, 0, child.stderr);
  assert.match(child.stdout, /UNAVAILABLE/);
});

test("TLS credentials cross to the worker: a trusted server answers, an untrusted one fails with UNAVAILABLE", async () => {
  const tls = await startServerThread({ tls: true });
  const port = tls.target.split(":")[1];
  const trusted = createBlockingClient(Echo, `localhost:${port}`, sslChannelCredentials(testCert("ca.pem")));
  const untrusted = createBlockingClient(Echo, `localhost:${port}`, sslChannelCredentials(testCert("server1.pem")));
  try {
    assert.is(trusted.unary({ message: "tls" }).message, "echo:tls");
    rpcError(() => untrusted.unary({ message: "tls" }), StatusCode.UNAVAILABLE);
  } finally {
    trusted.close();
    untrusted.close();
    await tls.stop();
  }
});

test("a target or channel option the core refuses is a clear error, at once or at the first call", () => {
  assert.throws(() => createBlockingClient(Echo, "dns:///"), /target/i);
  const c = createBlockingClient(Echo, server.target, undefined, { compression: "zstd-nope" });
  try {
    const err = rpcError(() => c.unary({ message: "x" }), StatusCode.INTERNAL);
    assert.match(err.details, /could not make its channel: .*Unsupported compression zstd-nope/);
  } finally {
    c.close();
  }
});

test("BlockingChannel: raw bytes through a method path", () => {
  const channel = new BlockingChannel(server.target);
  try {
    channel.channelReady(10_000);
    const unary = channel.unaryUnary("/testing.Echo/Unary");
    // EchoRequest { message: "raw" } by hand: field 1, length 3.
    const reply = unary(new Uint8Array([0x0a, 3, 0x72, 0x61, 0x77]), { metadata: new Metadata({ "x-echo": "1" }) });
    assert.equal([...reply.subarray(0, 2)], [0x0a, 8]);
    assert.throws(() => channel.unaryUnary("no-slash"), /starts with/);
  } finally {
    channel.close();
  }
});

let t0 = 0;
test.before.each(() => { t0 = Date.now(); });
test.after.each((ctx) => { if (process.env.TIMING) console.log(`\n${Date.now() - t0} ms: ${(ctx as { __test__?: string }).__test__}`); });
test.run();
