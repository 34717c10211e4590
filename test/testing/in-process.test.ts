// The in-process transport (async-grpc/testing): a real Server and a Channel connected
// in memory, through the same stream seam as HTTP/2, with HTTP/2's semantics.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, Metadata, RpcError, StatusCode, transportChannel, type ClientInterceptor, type ClientTransport, type ServerConfig, type ServerInterceptor, type ServicerContext } from "../../src/index.js";
import { inProcessChannel, inProcessTransport, type InProcessChannelConfig } from "../../src/testing/index.js";
import { EchoClient, type EchoServicer } from "../gen/testing/echo_grpc.js";
import type { EchoRequest } from "../gen/testing/echo_pb.js";
import { connectEcho, startEcho } from "./in-process-fixture.js";
import { assertNoLeaks, eventually, expectStatus, pattern, sleep } from "../helpers.js";

const test = suite("testing: in-process transport");

const attempts = new Map<string, number>();
const hedgeCancelled: unknown[] = [];

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
    // Retried and hedged calls: the first attempt fails, or hangs.
    let attempt = 0;
    if (/^(flaky|hedge):/.test(request.message)) {
      attempt = (attempts.get(request.message) ?? 0) + 1;
      attempts.set(request.message, attempt);
    }
    if (attempt === 1 && request.message.startsWith("flaky:")) context.abort(StatusCode.UNAVAILABLE, "try again");
    if (attempt === 1 && request.message.startsWith("hedge:")) {
      try {
        await sleep(5000, context.signal);
      } catch (err) {
        hedgeCancelled.push(context.signal.reason);
        throw err;
      }
    }
    if (attempt > 0) return { message: `attempt ${attempt}` };
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

const started = (config?: ServerConfig) => startEcho(echo, config);
const connect = (serverConfig?: ServerConfig, channelConfig?: InProcessChannelConfig) => connectEcho(echo, serverConfig, channelConfig);

test("all four call kinds through a generated client, with no port", async () => {
  const { client, done } = await connect();
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
  await done();
});

test("metadata both ways: text and binary keys, initial and trailing", async () => {
  const { client, done } = await connect();
  const metadata = new Metadata({ "x-ask": "please", "x-data-bin": new Uint8Array([0, 1, 2, 255]) });
  metadata.add("x-twice", "one");
  metadata.add("x-twice", "two");
  // Reserved keys never leave the client, as over HTTP/2: no deadline rides in here.
  metadata.add("grpc-timeout", "1n");
  metadata.add("content-type", "text/plain");
  const call = client.unary({ message: "metadata" }, { metadata });
  const reply = await call;
  assert.is(reply.message, "echo:metadata");
  const got = seen.metadata!;
  assert.is(got.get("x-ask"), "please");
  assert.equal([...(got.get("x-data-bin") as Uint8Array)], [0, 1, 2, 255]);
  assert.equal(got.getAll("x-twice"), ["one", "two"]);
  // The request's own headers are not metadata.
  assert.is(got.get("content-type"), undefined);
  assert.is(got.get(":path"), undefined);
  assert.is(got.get("grpc-timeout"), undefined);
  assert.is(seen.timeRemaining, undefined);
  const initial = await call.initialMetadata();
  assert.is(initial.get("x-initial"), "hello");
  assert.equal([...(initial.get("x-initial-bin") as Uint8Array)], [9, 8, 7]);
  assert.is((await call.trailingMetadata()).get("x-trailing"), "please");
  await done();
});

test("errors carry their code, details and trailing metadata (Trailers-Only, and after responses)", async () => {
  const { client, done } = await connect();
  const err = await expectStatus(client.unary({ message: `status:${StatusCode.PERMISSION_DENIED}` }), StatusCode.PERMISSION_DENIED);
  assert.is(err.details, `asked for ${StatusCode.PERMISSION_DENIED}`);
  assert.is(err.trailingMetadata.get("x-why"), "asked");
  assert.equal([...(err.trailingMetadata.get("x-bin-bin") as Uint8Array)], [0, 1, 255]);
  // A status after two responses: the responses arrive, then the error.
  const call = client.serverStream({ count: 2, message: "fail" });
  const indexes: number[] = [];
  const failed = await expectStatus(
    (async () => {
      for await (const r of call) indexes.push(r.index);
    })(),
    StatusCode.DATA_LOSS,
  );
  assert.equal(indexes, [0, 1]);
  assert.is(failed.details, "failed after the responses");
  // A handler that throws something else is UNKNOWN, without its message.
  const bad = createServer();
  bad.addService((await import("../gen/testing/echo_pb.js")).Echo, {
    unary() {
      throw new Error("secret stack");
    },
  });
  await bad.start();
  const badChannel = inProcessChannel(bad);
  const unknown = await expectStatus(new EchoClient(badChannel).unary({}), StatusCode.UNKNOWN);
  assert.not.match(unknown.details, /secret/);
  await badChannel.close();
  await bad.stop(0);
  await done();
});

test("server and client interceptors run around in-process calls", async () => {
  const order: string[] = [];
  const serverInterceptor: ServerInterceptor = {
    async interceptService(continuation, details) {
      order.push(`server:${details.method}`);
      if (details.invocationMetadata.get("x-deny") !== undefined) throw new RpcError(StatusCode.PERMISSION_DENIED, "denied by the interceptor");
      return continuation(details);
    },
  };
  const clientInterceptor: ClientInterceptor = (details, next) => {
    order.push(`client:${details.method}`);
    return next(details);
  };
  const { client, done } = await connect({ interceptors: [serverInterceptor] }, { interceptors: [clientInterceptor] });
  assert.is((await client.unary({ message: "i" })).message, "echo:i");
  assert.equal(order, ["client:/testing.Echo/Unary", "server:/testing.Echo/Unary"]);
  const denied = await expectStatus(client.unary({ message: "i" }, { metadata: { "x-deny": "1" } }), StatusCode.PERMISSION_DENIED);
  assert.is(denied.details, "denied by the interceptor");
  await done();
});

test("retries and hedging from the service config run over the in-process transport", async () => {
  const methodConfig = (policy: object) => JSON.stringify({ methodConfig: [{ name: [{ service: "testing.Echo" }], ...policy }] });
  const retrying = await connect(undefined, {
    options: { "grpc.service_config": methodConfig({ retryPolicy: { maxAttempts: 3, initialBackoff: "0.01s", maxBackoff: "0.05s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"] } }) },
  });
  assert.is((await retrying.client.unary({ message: "flaky:1" })).message, "attempt 2");
  await retrying.done();
  const hedging = await connect(undefined, { options: { "grpc.service_config": methodConfig({ hedgingPolicy: { maxAttempts: 2, hedgingDelay: "0.05s" } }) } });
  const t0 = Date.now();
  assert.is((await hedging.client.unary({ message: "hedge:1" })).message, "attempt 2");
  assert.ok(Date.now() - t0 < 4000, "the second attempt won");
  await eventually(() => hedgeCancelled.length === 1, "the first attempt's cancellation");
  assert.is((hedgeCancelled[0] as RpcError).code, StatusCode.CANCELLED);
  await hedging.done();
});

test("an unknown method is UNIMPLEMENTED; a server not started, or stopped, is UNAVAILABLE", async () => {
  const server = createServer();
  server.addService((await import("../gen/testing/echo_pb.js")).Echo, echo);
  const channel = inProcessChannel(server);
  const client = new EchoClient(channel);
  const early = await expectStatus(client.unary({ message: "x" }), StatusCode.UNAVAILABLE);
  assert.match(early.details, /not started/);
  await server.start();
  const nope = channel.unaryUnary("/testing.Echo/Nope");
  const err = await expectStatus(nope(new Uint8Array(0)), StatusCode.UNIMPLEMENTED);
  assert.match(err.details, /Nope/);
  await server.stop(0);
  await expectStatus(client.unary({ message: "x" }), StatusCode.UNAVAILABLE);
  await channel.close();
});

test("deadlines: grpc-timeout reaches the handler, and both sides end with DEADLINE_EXCEEDED", async () => {
  const { client, done } = await connect();
  seen.signalReason = undefined;
  const t0 = Date.now();
  await expectStatus(client.unary({ message: "slow", delayMs: 10_000 }, { timeoutMs: 200 }), StatusCode.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - t0 < 5000, "the deadline ended the call");
  // The server applied the same deadline: the handler saw time remaining and its signal fired.
  assert.ok(seen.timeRemaining !== undefined && seen.timeRemaining <= 0.2 && seen.timeRemaining > 0, `time remaining ${seen.timeRemaining}`);
  await eventually(() => seen.signalReason !== undefined, "the handler's signal to abort");
  assert.ok(seen.signalReason instanceof RpcError);
  // Both sides' timers expire together: the server's own, or the client's reset, aborts the handler.
  assert.ok([StatusCode.DEADLINE_EXCEEDED, StatusCode.CANCELLED].includes((seen.signalReason as RpcError).code));
  // Without a deadline the handler sees none.
  await client.unary({ message: "no deadline" });
  assert.is(seen.timeRemaining, undefined);
  await done();
});

test("the server enforces grpc-timeout on its own (a client that sends it but keeps no timer)", async () => {
  const server = await started();
  const inner = inProcessTransport(server);
  // Only the server knows of this deadline: the header is added below the client call.
  const transport: ClientTransport = {
    openStream: (headers, listener) => inner.openStream({ ...headers, "grpc-timeout": "100m" }, listener),
  };
  const channel = transportChannel("deadline-only-on-the-server", transport);
  seen.signalReason = undefined;
  const err = await expectStatus(new EchoClient(channel).unary({ message: "slow", delayMs: 10_000 }), StatusCode.DEADLINE_EXCEEDED);
  assert.is(err.details, "Deadline Exceeded");
  assert.is((seen.signalReason as RpcError).code, StatusCode.DEADLINE_EXCEEDED);
  assert.ok(seen.timeRemaining !== undefined && seen.timeRemaining <= 0.1);
  // A malformed grpc-timeout is refused, as over HTTP/2.
  const malformed = transportChannel("bad-timeout", { openStream: (headers, listener) => inner.openStream({ ...headers, "grpc-timeout": "soon" }, listener) });
  const bad = await expectStatus(new EchoClient(malformed).unary({}), StatusCode.INTERNAL);
  assert.match(bad.details, /grpc-timeout/);
  await malformed.close();
  await channel.close();
  await server.stop(0);
});

test("a client cancel aborts the handler's signal with CANCELLED", async () => {
  const { client, done } = await connect();
  seen.signalReason = undefined;
  const call = client.unary({ message: "slow", delayMs: 10_000 });
  await eventually(() => seen.metadata !== undefined && seen.timeRemaining === undefined, "the handler to start");
  await sleep(20);
  assert.ok(call.cancel());
  await expectStatus(call, StatusCode.CANCELLED);
  await eventually(() => seen.signalReason !== undefined, "the handler's signal to abort");
  assert.is((seen.signalReason as RpcError).code, StatusCode.CANCELLED);
  // An AbortSignal cancels the same way.
  seen.signalReason = undefined;
  const controller = new AbortController();
  const second = client.unary({ message: "slow", delayMs: 10_000 }, { signal: controller.signal });
  await sleep(50);
  controller.abort();
  await expectStatus(second, StatusCode.CANCELLED);
  await eventually(() => seen.signalReason !== undefined, "the handler's signal to abort");
  await done();
});

test("message size limits, both ways", async () => {
  const { server, client, done } = await connect({ options: { "grpc.max_receive_message_length": 1024, "grpc.max_send_message_length": 2048 } }, { options: { "grpc.max_receive_message_length": 512 } });
  // The server refuses a request above its receive limit.
  const big = await expectStatus(client.clientStream([{ payload: pattern(4000) }]), StatusCode.RESOURCE_EXHAUSTED);
  assert.match(big.details, /larger than max|exceeds|too large|max/i);
  // The client refuses a response above its receive limit.
  await expectStatus(client.unary({ payload: pattern(800) }), StatusCode.RESOURCE_EXHAUSTED);
  // Within both, the call goes through.
  assert.is((await client.unary({ payload: pattern(100) })).payload.byteLength, 100);
  // The client's send limit.
  const limited = inProcessChannel(server, { options: { "grpc.max_send_message_length": 64 } });
  await expectStatus(new EchoClient(limited).unary({ payload: pattern(200) }), StatusCode.RESOURCE_EXHAUSTED);
  await limited.close();
  await done();
});

test("compressed messages both ways", async () => {
  const { client, done } = await connect({ compression: "gzip" }, { compression: "gzip" });
  const payload = new Uint8Array(20_000).fill(7);
  const call = client.unary({ message: "zip", payload });
  const reply = await call;
  assert.ok(sameBytes(reply.payload, payload));
  assert.ok(seen.requestCompressed, "the request went compressed");
  assert.ok(call.responseCompressed(), "the response came compressed");
  const summary = await client.clientStream([{ payload }, { payload }]);
  assert.is(summary.index, 40_000);
  assert.ok(seen.requestCompressed);
  // The receive limit applies to the inflated size: a small compressed message that inflates past it fails.
  const strict = await started({ options: { "grpc.max_receive_message_length": 10_000 } });
  const strictChannel = inProcessChannel(strict, { compression: "gzip" });
  await expectStatus(new EchoClient(strictChannel).unary({ payload }), StatusCode.RESOURCE_EXHAUSTED);
  await strictChannel.close();
  await strict.stop(0);
  await done();
});

test.after(async () => {
  await assertNoLeaks();
});

test.run();
