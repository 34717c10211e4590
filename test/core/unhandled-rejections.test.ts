// No path of the library may leave an unhandled rejection: Node's default ends the
// process on one. Each scenario drives a failure path the way real users do (writes
// not awaited, calls cancelled or failed mid-stream, compression on) and the suite
// counts what reaches process.on("unhandledRejection").
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  insecureChannel,
  methodHandlersGenericHandler,
  RpcError,
  StatusCode,
  streamStreamRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { assertNoLeaks, sleep, startServer, type Started } from "../helpers.js";

const test = suite("no unhandled rejections");
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
let started: Started;
let channel: Channel;
const serverSide = { writesAfterCancel: 0 };

test.before(async () => {
  process.on("unhandledRejection", onUnhandled);
  started = await startServer(
    (server) =>
      server.addGenericRpcHandlers([
        methodHandlersGenericHandler("ur.Svc", {
          FailAtOnce: streamStreamRpcMethodHandler(() => {
            throw new RpcError(StatusCode.FAILED_PRECONDITION, "no");
          }),
          // Writes without awaiting, and keeps going after the client has gone.
          Firehose: streamStreamRpcMethodHandler(async (_requests, context) => {
            for (let i = 0; i < 200; i++) {
              void context.write(new Uint8Array(32 * 1024));
              if (context.signal.aborted) serverSide.writesAfterCancel++;
              await sleep(2);
            }
          }),
          // A generator that throws once the client has cancelled.
          ThrowsAfterCancel: unaryStreamRpcMethodHandler(async function* (_request, context) {
            for (let i = 0; i < 1000; i++) {
              if (context.signal.aborted) throw new Error("reacting to the cancellation");
              yield new Uint8Array(1024);
              await sleep(2);
            }
          }),
          BadResponse: unaryUnaryRpcMethodHandler(async () => "not bytes" as unknown as Uint8Array, {
            responseSerializer: () => {
              throw new Error("cannot serialize");
            },
          }),
          // Ignores the deadline and answers anyway.
          LateAnswer: unaryUnaryRpcMethodHandler(async (request: Uint8Array) => {
            await sleep(100);
            return request;
          }),
        }),
      ]),
    { compression: "gzip" },
  );
  channel = insecureChannel(started.target, { compression: "gzip" });
});

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  process.off("unhandledRejection", onUnhandled);
  await assertNoLeaks();
});

async function settle(): Promise<void> {
  // Rejections are reported after the microtask queue drains; give them every chance.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await sleep(50);
}

test("a client writing every 10 ms without awaiting, on a call the server fails at once", async () => {
  const call = channel.streamStream("/ur.Svc/FailAtOnce")();
  for (let i = 0; i < 30; i++) {
    void call.write(new Uint8Array(100));
    await sleep(10);
  }
  void call.doneWriting();
  assert.is(await call.code(), StatusCode.FAILED_PRECONDITION);
  void call.write(new Uint8Array(1)); // after the end, not awaited either
  await settle();
  assert.equal(unhandled, []);
});

test("writes queued (and compressing) before a connection that never comes", async () => {
  const nowhere = insecureChannel("127.0.0.1:1", { compression: "gzip", options: { "grpc.initial_reconnect_backoff_ms": 50 } });
  const call = nowhere.streamStream("/ur.Svc/Anything")();
  for (let i = 0; i < 10; i++) void call.write(new Uint8Array(10_000));
  void call.doneWriting();
  assert.is(await call.code(), StatusCode.UNAVAILABLE);
  const unary = nowhere.unaryUnary("/ur.Svc/Anything")(new Uint8Array(10_000));
  assert.is(await unary.code(), StatusCode.UNAVAILABLE);
  await nowhere.close();
  await settle();
  assert.equal(unhandled, []);
});

test("a client that cancels while the server writes without awaiting, compressed", async () => {
  serverSide.writesAfterCancel = 0;
  const call = channel.streamStream("/ur.Svc/Firehose")();
  let n = 0;
  for await (const _ of call) if (++n === 5) break; // breaking out cancels the call
  void call.write(new Uint8Array(1));
  await sleep(100);
  assert.ok(serverSide.writesAfterCancel > 0, "the handler kept writing after the cancellation");
  await settle();
  assert.equal(unhandled, []);
});

test("a server generator that throws after the cancellation; a response that cannot be serialized; an answer after the deadline", async () => {
  const abort = new AbortController();
  const stream = channel.unaryStream("/ur.Svc/ThrowsAfterCancel")(new Uint8Array(1), { signal: abort.signal });
  await stream.read();
  abort.abort();
  assert.is(await stream.code(), StatusCode.CANCELLED);
  assert.is(await channel.unaryUnary("/ur.Svc/BadResponse")(new Uint8Array(1)).code(), StatusCode.INTERNAL);
  assert.is(await channel.unaryUnary("/ur.Svc/LateAnswer")(new Uint8Array(1), { timeoutMs: 20 }).code(), StatusCode.DEADLINE_EXCEEDED);
  await sleep(150);
  await settle();
  assert.equal(unhandled, []);
});

test.run();
