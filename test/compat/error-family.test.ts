// gRPC Python's grpc.aio error family: BaseError, RpcError, UsageError (misuse of the API,
// with a message that says what to do instead) and InternalError; and
// call.waitForConnection().
import { createServer as createNetServer } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BaseError, createClient, createServer, insecureChannel, InternalError, RpcError, StatusCode, UsageError, type Channel } from "../../src/index.js";
import { Echo, EchoRequestSchema } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, rejects, startServer, type Started } from "../helpers.js";
import { create } from "@bufbuild/protobuf";

const test = suite("compat: error family");
let started: Started;
let channel: Channel;

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      async *serverStream(request) {
        for (let i = 0; i < request.count; i++) yield { index: i };
      },
      async clientStream(requests, context) {
        let message = "";
        try {
          for await (const _ of requests) await context.read();
        } catch (err) {
          message = `${(err as Error).name}: ${(err as Error).message}`;
        }
        return { message };
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

test("RpcError, UsageError and InternalError are BaseErrors, and distinct", () => {
  const rpc = new RpcError(StatusCode.NOT_FOUND, "x");
  const usage = new UsageError("do this instead");
  const internal = new InternalError("a bug");
  for (const e of [rpc, usage, internal]) assert.ok(e instanceof BaseError && e instanceof Error);
  assert.not.ok(usage instanceof RpcError);
  assert.not.ok(rpc instanceof UsageError);
  assert.is(usage.name, "UsageError");
  assert.is(internal.name, "InternalError");
  assert.is(rpc.name, "RpcError");
});

test("client misuse is a UsageError saying what to do: read() and iteration mixed, write() after doneWriting()", async () => {
  const client = createClient(Echo, channel);
  const call = client.serverStream({ count: 2 });
  await call.read();
  const mixed = (() => {
    try {
      call[Symbol.asyncIterator]();
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(mixed instanceof UsageError, String(mixed));
  assert.match((mixed as Error).message, /pick one/);
  call.cancel();
  const writer = client.clientStream();
  await writer.doneWriting();
  const late = await rejects(writer.write({}));
  assert.ok(late instanceof UsageError);
  assert.match((late as Error).message, /doneWriting\(\) once/);
  await writer;
});

test("server misuse is a UsageError too: mixed reads in a handler, handlers after start(), start() twice", async () => {
  const client = createClient(Echo, channel);
  const reply = await client.clientStream([create(EchoRequestSchema, { message: "a" })]);
  assert.match(reply.message, /^UsageError: Requests are read either/);
  const server = createServer();
  await server.start();
  assert.throws(() => server.addService(Echo, {}), (e: unknown) => e instanceof UsageError);
  await rejects(server.start()).then((e) => assert.ok(e instanceof UsageError));
  await server.stop(null);
});

test("waitForConnection: resolves once the call is on a connection; rejects with the call's RpcError", async () => {
  const client = createClient(Echo, channel);
  const call = client.serverStream({ count: 1 });
  await call.waitForConnection();
  for await (const _ of call);
  await call.waitForConnection(); // done and OK: resolves

  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  const nowhere = insecureChannel(`127.0.0.1:${port}`);
  try {
    const failing = createClient(Echo, nowhere).unary({});
    await expectStatus(failing.waitForConnection(), StatusCode.UNAVAILABLE);
    await expectStatus(failing, StatusCode.UNAVAILABLE);
  } finally {
    await nowhere.close();
  }
});

test.run();
