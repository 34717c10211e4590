// The health companion between our own client and server: Check, Watch and List,
// set/clear/enterGracefulShutdown, server.stop() flipping it first, and the unhappy
// paths of the Watch stream (a client that stops reading, cancels, hits its deadline,
// or a server that stops with watches open).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { EOF, insecureChannel, StatusCode, type Channel, type UnaryStreamCall } from "../../src/index.js";
import { HealthClient, HealthServicer, LIST_LIMIT, ServingStatus, type HealthCheckResponse } from "../../src/health/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, startServer, type Started } from "../helpers.js";

const test = suite("health: our client and server");
let health: HealthServicer;
let started: Started;
let channel: Channel;
let client: HealthClient;

async function next(call: Pick<UnaryStreamCall<never, HealthCheckResponse>, "read">): Promise<ServingStatus> {
  const r = await call.read();
  if (r === EOF) throw new Error("the watch ended");
  return r.status;
}

test.before.each(async () => {
  health = new HealthServicer();
  started = await startServer((server) => {
    health.addToServer(server);
    server.addService(Echo, { unary: (r) => ({ message: r.message }) });
  });
  channel = insecureChannel(started.target);
  client = new HealthClient(channel);
});

test.after.each(async () => {
  await channel.close();
  await started.server.stop(null);
});

test.after(async () => {
  await assertNoLeaks();
});

test("Check: the whole server starts SERVING; unknown services are NOT_FOUND; set and clear", async () => {
  assert.is((await client.check({ service: "" })).status, ServingStatus.SERVING);
  await expectStatus(client.check({ service: "testing.Echo" }), StatusCode.NOT_FOUND);
  health.set("testing.Echo", ServingStatus.NOT_SERVING);
  assert.is((await client.check({ service: "testing.Echo" })).status, ServingStatus.NOT_SERVING);
  health.set("testing.Echo", ServingStatus.SERVING);
  assert.is((await client.check({ service: "testing.Echo" })).status, ServingStatus.SERVING);
  health.clear("testing.Echo");
  await expectStatus(client.check({ service: "testing.Echo" }), StatusCode.NOT_FOUND);
  assert.throws(() => health.set("x", ServingStatus.SERVICE_UNKNOWN), /clear\(\)/);
});

test("Watch: SERVICE_UNKNOWN at once for an unknown service, then every change, no repeats", async () => {
  const call = client.watch({ service: "svc" });
  assert.is(await next(call), ServingStatus.SERVICE_UNKNOWN);
  health.set("svc", ServingStatus.SERVING);
  assert.is(await next(call), ServingStatus.SERVING);
  health.set("svc", ServingStatus.SERVING); // no change: nothing sent
  health.set("svc", ServingStatus.NOT_SERVING);
  assert.is(await next(call), ServingStatus.NOT_SERVING);
  health.clear("svc");
  assert.is(await next(call), ServingStatus.SERVICE_UNKNOWN);
  call.cancel();
  await expectStatus(call.read(), StatusCode.CANCELLED);
  await eventually(() => health.watchCount === 0, "the watch to leave the servicer");
});

test("Watch: the current status at once for a known service; several watchers see the same change", async () => {
  health.set("svc", ServingStatus.NOT_SERVING);
  const a = client.watch({ service: "svc" });
  const b = client.watch({ service: "svc" });
  assert.is(await next(a), ServingStatus.NOT_SERVING);
  assert.is(await next(b), ServingStatus.NOT_SERVING);
  health.set("svc", ServingStatus.SERVING);
  assert.is(await next(a), ServingStatus.SERVING);
  assert.is(await next(b), ServingStatus.SERVING);
  a.cancel();
  b.cancel();
  await eventually(() => health.watchCount === 0, "both watches to leave the servicer");
});

test("List: every status; RESOURCE_EXHAUSTED beyond the limit", async () => {
  health.set("a", ServingStatus.SERVING);
  health.set("b", ServingStatus.NOT_SERVING);
  const listed = await client.list({});
  assert.equal(
    Object.fromEntries(Object.entries(listed.statuses).map(([k, v]) => [k, v.status])),
    { "": ServingStatus.SERVING, a: ServingStatus.SERVING, b: ServingStatus.NOT_SERVING },
  );
  for (let i = 0; i < LIST_LIMIT; i++) health.set(`svc-${i}`, ServingStatus.SERVING);
  await expectStatus(client.list({}), StatusCode.RESOURCE_EXHAUSTED);
});

test("enterGracefulShutdown(): everything NOT_SERVING, watchers told, later set() and clear() ignored", async () => {
  health.set("svc", ServingStatus.SERVING);
  const whole = client.watch({ service: "" });
  const svc = client.watch({ service: "svc" });
  assert.is(await next(whole), ServingStatus.SERVING);
  assert.is(await next(svc), ServingStatus.SERVING);
  health.enterGracefulShutdown();
  assert.is(await next(whole), ServingStatus.NOT_SERVING);
  assert.is(await next(svc), ServingStatus.NOT_SERVING);
  health.set("svc", ServingStatus.SERVING);
  health.clear("svc");
  assert.is((await client.check({ service: "svc" })).status, ServingStatus.NOT_SERVING);
  assert.is((await client.check({ service: "" })).status, ServingStatus.NOT_SERVING);
  whole.cancel();
  svc.cancel();
});

test("server.stop(grace) flips the servicer first: an open watch sees NOT_SERVING, then UNAVAILABLE at the end of the grace", async () => {
  const call = client.watch({ service: "" });
  assert.is(await next(call), ServingStatus.SERVING);
  const stopped = started.server.stop(0.3);
  assert.is(await next(call), ServingStatus.NOT_SERVING);
  assert.is(health.status(""), ServingStatus.NOT_SERVING);
  await expectStatus(call.read(), StatusCode.UNAVAILABLE);
  await stopped;
  await eventually(() => health.watchCount === 0, "the watch to leave the servicer");
});

test("addToServer(server, { enterGracefulShutdownOnStop: false }) leaves the statuses alone on stop", async () => {
  const own = new HealthServicer();
  const other = await startServer((server) => own.addToServer(server, { enterGracefulShutdownOnStop: false }));
  await other.server.stop(null);
  assert.is(own.status(""), ServingStatus.SERVING);
  // A callback added after stop() runs at once.
  let ran = false;
  other.server.addStopCallback(() => (ran = true));
  assert.ok(ran);
});

test("a watcher that stops reading costs one record: changes collapse into the latest status", async () => {
  const call = client.watch({ service: "svc" });
  assert.is(await next(call), ServingStatus.SERVICE_UNKNOWN);
  // 10,000 changes while the client reads nothing; the server keeps only the latest.
  for (let i = 0; i < 10_000; i++) health.set("svc", i % 2 === 0 ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  health.set("svc", ServingStatus.SERVING);
  const seen: ServingStatus[] = [];
  for (let i = 0; i < 10_000 && seen.at(-1) !== ServingStatus.SERVING; i++) seen.push(await next(call));
  assert.ok(seen.length <= 2, `the watcher got ${seen.length} messages for 10,001 changes`);
  assert.is(seen.at(-1), ServingStatus.SERVING);
  call.cancel();
  await eventually(() => health.watchCount === 0, "the watch to leave the servicer");
});

test("a watch whose deadline passes ends DEADLINE_EXCEEDED and leaves the servicer", async () => {
  const call = client.watch({ service: "" }, { timeoutMs: 200 });
  assert.is(await next(call), ServingStatus.SERVING);
  await expectStatus(call.read(), StatusCode.DEADLINE_EXCEEDED);
  await eventually(() => health.watchCount === 0, "the watch to leave the servicer");
});

test("stop(null) with watches in flight: they end UNAVAILABLE and leave the servicer", async () => {
  const calls = [client.watch({ service: "" }), client.watch({ service: "a" }), client.watch({ service: "b" })];
  for (const call of calls) await next(call);
  assert.is(health.watchCount, 3);
  await started.server.stop(null);
  for (const call of calls) await expectStatus(call.read(), StatusCode.UNAVAILABLE);
  await eventually(() => health.watchCount === 0, "the watches to leave the servicer");
});

test.run();
