// The server's public seams for companions: registeredServices() and addStopCallback().
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, unaryUnaryRpcMethodHandler } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, startServer } from "../helpers.js";

const test = suite("server seams");

test("registeredServices(): addService with its descriptor, addRegisteredMethodHandlers by name; a copy", () => {
  const server = createServer();
  server.addRegisteredMethodHandlers("raw.Service", { Call: unaryUnaryRpcMethodHandler((r: Uint8Array) => r) });
  server.addService(Echo, {});
  const services = server.registeredServices();
  assert.equal([...services.keys()], ["raw.Service", "testing.Echo"]);
  assert.is(services.get("testing.Echo"), Echo);
  assert.is(services.get("raw.Service"), undefined);
  (services as Map<string, unknown>).delete("testing.Echo");
  assert.ok(server.registeredServices().has("testing.Echo"), "the caller's copy only");
});

test("addStopCallback(): runs once, in order; a throwing callback does not stop the stop", async () => {
  const started = await startServer((s) => s.addService(Echo, { unary: (r) => ({ message: r.message }) }));
  const seen: string[] = [];
  started.server.addStopCallback(() => seen.push("first"));
  started.server.addStopCallback(() => {
    throw new Error("boom");
  });
  started.server.addStopCallback(() => seen.push("third"));
  const a = started.server.stop(null);
  const b = started.server.stop(null);
  assert.is(a, b);
  await a;
  assert.equal(seen, ["first", "third"]);
  started.server.addStopCallback(() => seen.push("late"));
  assert.is(seen.at(-1), "late", "a callback added after stop() runs at once");
  await assertNoLeaks();
});

test("a stop callback may call stop() itself", async () => {
  const started = await startServer((s) => s.addService(Echo, { unary: (r) => ({ message: r.message }) }));
  let inner: Promise<void> | undefined;
  started.server.addStopCallback(() => {
    inner = started.server.stop(null);
  });
  const outer = started.server.stop(null);
  assert.is(outer, inner);
  await outer;
  await assertNoLeaks();
});

test.run();
