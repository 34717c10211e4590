import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, RpcError, StatusCode, type ServerInterceptor } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, sleep, startServer } from "../helpers.js";

const test = suite("server lifecycle");

function slowEcho(observed: { aborted?: unknown; started: number }) {
  return {
    async unary(request: { message: string; delayMs: number }, context: { signal: AbortSignal }) {
      observed.started++;
      await sleep(request.delayMs, context.signal).catch((reason: unknown) => {
        observed.aborted = reason;
        throw reason;
      });
      return { message: `done:${request.message}` };
    },
  };
}

test("stop(grace) lets in-flight calls finish and refuses new ones", async () => {
  const observed = { started: 0 } as { aborted?: unknown; started: number };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)));
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  const inflight = client.unary({ message: "a", delayMs: 200 });
  await eventually(() => observed.started === 1, "the call to start");
  const stopping = server.stop(5);
  await sleep(20);
  // New calls on the draining connection or a new one fail with UNAVAILABLE.
  await expectStatus(client.unary({ message: "b" }), StatusCode.UNAVAILABLE);
  assert.is((await inflight).message, "done:a");
  await stopping;
  assert.is(observed.aborted, undefined);
  await channel.close();
  await assertNoLeaks();
});

test("when the grace period ends, remaining calls are cancelled and their handlers see the signal", async () => {
  const observed = { started: 0 } as { aborted?: unknown; started: number };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)));
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  const inflight = client.unary({ message: "a", delayMs: 10_000 });
  await eventually(() => observed.started === 1, "the call to start");
  const t0 = Date.now();
  await server.stop(0.2);
  assert.ok(Date.now() - t0 < 3000);
  const err = await expectStatus(inflight, StatusCode.UNAVAILABLE);
  assert.is(err.details, "Server shutting down");
  assert.ok(observed.aborted instanceof RpcError);
  await channel.close();
  await assertNoLeaks();
});

test("stop(null) cancels at once; waitForTermination resolves; stop is idempotent", async () => {
  const observed = { started: 0 } as { aborted?: unknown; started: number };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)));
  const channel = insecureChannel(target);
  const inflight = createClient(Echo, channel).unary({ message: "a", delayMs: 10_000 });
  await eventually(() => observed.started === 1, "the call to start");
  const terminated = server.waitForTermination();
  assert.is(await server.waitForTermination(0.01), true, "times out while running");
  await server.stop(null);
  await server.stop(null);
  assert.is(await terminated, false);
  const err = await expectStatus(inflight, StatusCode.UNAVAILABLE);
  assert.ok(err.details.length > 0);
  await channel.close();
  await assertNoLeaks();
});

test("interceptors see every call and can reject or pass it on", async () => {
  const seen: string[] = [];
  const interceptor: ServerInterceptor = {
    async interceptService(continuation, details) {
      seen.push(`${details.method} ${String(details.invocationMetadata.get("x-user"))}`);
      if (details.invocationMetadata.get("x-user") !== "ada") throw new RpcError(StatusCode.PERMISSION_DENIED, "who are you");
      return continuation(details);
    },
  };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho({ started: 0 })), { interceptors: [interceptor] });
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  assert.is((await client.unary({ message: "x" }, { metadata: { "x-user": "ada" } })).message, "done:x");
  await expectStatus(client.unary({ message: "y" }, { metadata: { "x-user": "eve" } }), StatusCode.PERMISSION_DENIED);
  await expectStatus(client.serverStream({}, { metadata: { "x-user": "ada" } }).read(), StatusCode.UNIMPLEMENTED);
  assert.equal(seen, ["/testing.Echo/Unary ada", "/testing.Echo/Unary eve", "/testing.Echo/ServerStream ada"]);
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("maximumConcurrentRpcs refuses calls beyond the limit with RESOURCE_EXHAUSTED", async () => {
  const observed = { started: 0 } as { aborted?: unknown; started: number };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)), { maximumConcurrentRpcs: 1 });
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  const first = client.unary({ message: "a", delayMs: 200 });
  await eventually(() => observed.started === 1, "the first call to start");
  await expectStatus(client.unary({ message: "b" }), StatusCode.RESOURCE_EXHAUSTED);
  await first;
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("handlers can't be added after start; a port that is taken fails to bind", async () => {
  const { server, port } = await startServer(() => undefined);
  assert.throws(() => server.addService(Echo, {}), /before the server starts/);
  const other = (await import("../../src/index.js")).createServer();
  try {
    await other.addInsecurePort(`127.0.0.1:${port}`);
    assert.unreachable("bound a port that is in use");
  } catch (err) {
    assert.match((err as Error).message, /Failed to bind/);
  }
  await other.stop(null);
  await server.stop(null);
  await assertNoLeaks();
});

test.run();
