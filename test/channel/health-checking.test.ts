// Client-side health checking (gRFC A17): with `healthCheckConfig` in the service config
// and round_robin, each connection watches its server's grpc.health.v1.Health and calls
// go only to SERVING backends. Real servers on loopback, each with the health companion.
import { spawn } from "node:child_process";
import { createServer as createHttp2Server } from "node:http2";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, createServer, insecureChannel, RpcError, StatusCode, type Server, type ServicerContext } from "../../src/index.js";
import { decodeServingStatus, encodeHealthCheckRequest } from "../../src/client/health-watch.js";
import { HealthCheckRequestSchema, HealthCheckResponseSchema, HealthServicer, ServingStatus, type HealthCheckRequest } from "../../src/health/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, sleep } from "../helpers.js";

const test = suite("client-side health checking");
const SERVICE = "echo.Echo";

/** An Echo server answering with its name, with a health servicer (or none), counting its Watch calls. */
class HealthBackend {
  served = 0;
  watches = 0;
  readonly health: CountingHealth | undefined;
  server: Server | undefined;
  address = "";

  private constructor(
    readonly name: string,
    withHealth: boolean,
  ) {
    this.health = withHealth ? new CountingHealth(this) : undefined;
  }

  static async start(name: string, status: ServingStatus | undefined = ServingStatus.SERVING, failWatches = 0): Promise<HealthBackend> {
    const backend = new HealthBackend(name, status !== undefined);
    if (backend.health !== undefined) backend.health.failNext = failWatches;
    if (status !== undefined) backend.health!.set(SERVICE, status);
    const server = createServer();
    server.addService(Echo, {
      unary: async () => {
        backend.served++;
        return { message: name };
      },
    });
    backend.health?.addToServer(server);
    const port = await server.addInsecurePort("127.0.0.1:0");
    await server.start();
    backend.server = server;
    backend.address = `127.0.0.1:${port}`;
    return backend;
  }

  async stop(): Promise<void> {
    await this.server?.stop(null);
  }
}

class CountingHealth extends HealthServicer {
  /** Watch calls to fail with INTERNAL before any answer. */
  failNext = 0;

  constructor(private readonly backend: { watches: number }) {
    super();
  }

  override watch(request: HealthCheckRequest, context: ServicerContext) {
    this.backend.watches++;
    if (this.failNext > 0) {
      this.failNext--;
      return (async function* () {
        throw new RpcError(StatusCode.INTERNAL, "health store unavailable");
      })();
    }
    return super.watch(request, context);
  }
}

const roundRobinWithHealth = (serviceName: string = SERVICE) =>
  JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }], healthCheckConfig: { serviceName } });

function channelTo(backends: readonly HealthBackend[], serviceConfig: string, options: Record<string, string | number> = {}) {
  return insecureChannel(`ipv4:${backends.map((b) => b.address).join(",")}`, { options: { "grpc.service_config": serviceConfig, ...options } });
}

/** Who answers `n` calls, by name. */
async function served(client: { unary(r: object): PromiseLike<{ message: string }> }, n: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) names.add((await client.unary({})).message);
  return names;
}

const sorted = (s: Set<string>) => [...s].sort().join(",");

/** Calls until exactly `expected` backends answer `n` calls in a row (bounded: health changes arrive asynchronously). */
async function untilServedBy(client: { unary(r: object): PromiseLike<{ message: string }> }, expected: string[], what: string): Promise<void> {
  const want = [...expected].sort().join(",");
  let last = "";
  // Bounded by time, not by rounds: on a fast machine 200 rounds take less than the
  // Watch retry's one-second backoff.
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    last = sorted(await served(client, 12));
    if (last === want) return;
    await sleep(10);
  }
  assert.unreachable(`${what}: wanted ${want}, calls went to ${last}`);
}

test("the request and response are encoded by hand as the generated messages are", () => {
  for (const service of ["", "echo.Echo", "x".repeat(200), "grüße"]) {
    assert.equal(Array.from(encodeHealthCheckRequest(service)), Array.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service }))), service);
    assert.is(fromBinary(HealthCheckRequestSchema, encodeHealthCheckRequest(service)).service, service);
  }
  for (const status of [ServingStatus.UNKNOWN, ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVICE_UNKNOWN]) {
    assert.is(decodeServingStatus(toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status }))), status);
  }
  // Unknown fields of every wire type are skipped; the last status wins.
  assert.is(decodeServingStatus(Uint8Array.from([0x08, 0x02, 0x10, 0x96, 0x01, 0x1a, 0x02, 0x61, 0x62, 0x25, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x01])), 1);
  assert.throws(() => decodeServingStatus(Uint8Array.from([0x08])), /truncated/);
  assert.throws(() => decodeServingStatus(Uint8Array.from([0x1a, 0x05, 0x61])), /truncated/);
});

test("healthCheckConfig is validated with the rest of the service config, naming the field", () => {
  const make = (config: unknown) => () => insecureChannel("127.0.0.1:1", { options: { "grpc.service_config": JSON.stringify(config) } });
  assert.throws(make({ healthCheckConfig: "echo" }), /Invalid service config: healthCheckConfig must be an object/);
  assert.throws(make({ healthCheckConfig: [] }), /Invalid service config: healthCheckConfig must be an object/);
  assert.throws(make({ healthCheckConfig: { serviceName: 7 } }), /Invalid service config: healthCheckConfig\.serviceName must be a string/);
  make({ healthCheckConfig: { serviceName: "" } })();
  make({ healthCheckConfig: {} })();
});

test("round_robin + healthCheckConfig: calls go only to SERVING backends; NOT_SERVING moves traffic away, SERVING brings it back", async () => {
  const a = await HealthBackend.start("a");
  const b = await HealthBackend.start("b");
  const c = await HealthBackend.start("c", ServingStatus.NOT_SERVING);
  const channel = channelTo([a, b, c], roundRobinWithHealth());
  const client = createClient(Echo, channel);
  await untilServedBy(client, ["a", "b"], "c starts NOT_SERVING");
  assert.is(c.served, 0, "c never got a call");
  assert.ok(a.watches >= 1 && b.watches >= 1 && c.watches >= 1, "each connection watches its server");

  b.health!.set(SERVICE, ServingStatus.NOT_SERVING);
  await untilServedBy(client, ["a"], "b turned NOT_SERVING");
  c.health!.set(SERVICE, ServingStatus.SERVING);
  await untilServedBy(client, ["a", "c"], "c turned SERVING");
  b.health!.set(SERVICE, ServingStatus.SERVING);
  await untilServedBy(client, ["a", "b", "c"], "b back to SERVING");
  // A service the server forgets is SERVICE_UNKNOWN on Watch: no calls either.
  a.health!.clear(SERVICE);
  await untilServedBy(client, ["b", "c"], "a forgot the service");

  await channel.close();
  await Promise.all([a, b, c].map((x) => x.stop()));
  assert.is(a.health!.watchCount + b.health!.watchCount + c.health!.watchCount, 0, "every Watch ended with the channel");
  await assertNoLeaks();
});

test("with every backend unhealthy, calls fail UNAVAILABLE naming the health status; waitForReady calls wait for a SERVING one", async () => {
  const a = await HealthBackend.start("a", ServingStatus.NOT_SERVING);
  const b = await HealthBackend.start("b", ServingStatus.NOT_SERVING);
  const channel = channelTo([a, b], roundRobinWithHealth());
  const client = createClient(Echo, channel);
  let err: RpcError | undefined;
  for (let i = 0; i < 200 && err === undefined; i++) {
    // The first calls may queue while the first answers are awaited (CONNECTING), then fail.
    err = await expectStatus(client.unary({}, { timeoutMs: 2000 }), StatusCode.UNAVAILABLE).catch(() => undefined);
  }
  assert.ok(err !== undefined, "calls fail while nothing is SERVING");
  assert.match(err.details, /NOT_SERVING/);
  const waiting = client.unary({}, { waitForReady: true, timeoutMs: 10_000 });
  b.health!.set(SERVICE, ServingStatus.SERVING);
  assert.is((await waiting).message, "b");
  assert.is(a.served, 0);
  await channel.close();
  await Promise.all([a, b].map((x) => x.stop()));
  await assertNoLeaks();
});

test("a server without the health service (UNIMPLEMENTED) counts as healthy and gets traffic", async () => {
  const a = await HealthBackend.start("a");
  const plain = await HealthBackend.start("plain", undefined);
  const sick = await HealthBackend.start("sick", ServingStatus.NOT_SERVING);
  const channel = channelTo([a, plain, sick], roundRobinWithHealth());
  const client = createClient(Echo, channel);
  await untilServedBy(client, ["a", "plain"], "the server without health service takes calls");
  assert.is(sick.served, 0);
  await channel.close();
  await Promise.all([a, plain, sick].map((x) => x.stop()));
  await assertNoLeaks();
});

test("serviceName \"\" watches the whole server's health", async () => {
  const a = await HealthBackend.start("a");
  const b = await HealthBackend.start("b");
  b.health!.set("", ServingStatus.NOT_SERVING);
  const channel = channelTo([a, b], roundRobinWithHealth(""));
  const client = createClient(Echo, channel);
  await untilServedBy(client, ["a"], "b's server is NOT_SERVING");
  b.health!.set("", ServingStatus.SERVING);
  await untilServedBy(client, ["a", "b"], "b's server is SERVING again");
  await channel.close();
  await Promise.all([a, b].map((x) => x.stop()));
  await assertNoLeaks();
});

test("without healthCheckConfig no Watch stream is opened and NOT_SERVING backends still get calls", async () => {
  const a = await HealthBackend.start("a");
  const b = await HealthBackend.start("b", ServingStatus.NOT_SERVING);
  const channel = channelTo([a, b], JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }));
  const client = createClient(Echo, channel);
  await untilServedBy(client, ["a", "b"], "round_robin without health checks");
  assert.is(a.watches + b.watches, 0, "no Watch call reached a server");
  await channel.close();
  await Promise.all([a, b].map((x) => x.stop()));
  await assertNoLeaks();
});

test("pick_first does not health-check (as in gRPC), even with healthCheckConfig", async () => {
  const a = await HealthBackend.start("a", ServingStatus.NOT_SERVING);
  const channel = channelTo([a], JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }], healthCheckConfig: { serviceName: SERVICE } }));
  const client = createClient(Echo, channel);
  assert.is((await client.unary({})).message, "a");
  assert.is(a.watches, 0);
  await channel.close();
  await a.stop();
  await assertNoLeaks();
});

test("grpc.inhibit_health_checking turns it off whatever the service config says", async () => {
  const a = await HealthBackend.start("a");
  const b = await HealthBackend.start("b", ServingStatus.NOT_SERVING);
  const channel = channelTo([a, b], roundRobinWithHealth(), { "grpc.inhibit_health_checking": 1 });
  const client = createClient(Echo, channel);
  await untilServedBy(client, ["a", "b"], "health checking inhibited");
  assert.is(a.watches + b.watches, 0);
  await channel.close();
  await Promise.all([a, b].map((x) => x.stop()));
  await assertNoLeaks();
});

test("a Watch that fails (not UNIMPLEMENTED) makes the backend unhealthy and is retried with backoff while the connection is up", async () => {
  const good = await HealthBackend.start("good");
  // Its first Watch fails with INTERNAL before any answer; the retry (after about 1 s) gets SERVING.
  const flaky = await HealthBackend.start("flaky", ServingStatus.SERVING, 1);
  const channel = channelTo([good, flaky], roundRobinWithHealth());
  const client = createClient(Echo, channel);
  await untilServedBy(client, ["good"], "the failed Watch keeps flaky out");
  await untilServedBy(client, ["good", "flaky"], "the retried Watch brings flaky in");
  assert.ok(flaky.watches >= 2, `flaky was asked again (${flaky.watches} Watch calls)`);
  await channel.close();
  await Promise.all([good, flaky].map((x) => x.stop()));
  await assertNoLeaks();
});

test("a backend that stops (its health turns NOT_SERVING first) loses traffic and its Watch ends", async () => {
  const a = await HealthBackend.start("a");
  const b = await HealthBackend.start("b");
  const channel = channelTo([a, b], roundRobinWithHealth(), { "grpc.initial_reconnect_backoff_ms": 50, "grpc.max_reconnect_backoff_ms": 200 });
  const client = createClient(Echo, channel);
  await untilServedBy(client, ["a", "b"], "both healthy");
  // server.stop() flips the health servicer first; Watch streams end with the server.
  const stopping = b.stop();
  await untilServedBy(client, ["a"], "b stopped");
  await stopping;
  await eventually(() => b.health!.watchCount === 0, "b's Watch ended");
  await channel.close();
  await a.stop();
  await assertNoLeaks();
});

test("a Watch answer that breaks the protocol (compressed flag without an encoding, oversized message) is a failed health check, retried", async () => {
  for (const frame of [Buffer.from([1, 0, 0, 0, 2, 0x08, 0x01]), Buffer.from([0, 0, 0x10, 0, 0])]) {
    let watches = 0;
    const raw = createHttp2Server();
    raw.on("stream", (stream, headers) => {
      stream.on("error", () => {});
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      if (headers[":path"] !== "/grpc.health.v1.Health/Watch") return;
      watches++;
      stream.write(frame);
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const port = (raw.address() as { port: number }).port;
    const channel = insecureChannel(`ipv4:127.0.0.1:${port}`, { options: { "grpc.service_config": roundRobinWithHealth() } });
    const client = createClient(Echo, channel);
    let err: RpcError | undefined;
    for (let i = 0; i < 200 && err === undefined; i++) err = await expectStatus(client.unary({}, { timeoutMs: 2000 }), StatusCode.UNAVAILABLE).catch(() => undefined);
    assert.ok(err !== undefined, "calls fail while the health check fails");
    assert.match(err.details, /health check failed: (INTERNAL|RESOURCE_EXHAUSTED)/);
    assert.ok(watches >= 1);
    await channel.close();
    await new Promise((resolve) => raw.close(resolve));
  }
  await assertNoLeaks();
});

test("an open Watch stream does not keep the process alive: a client that never closes its channel exits", async () => {
  const a = await HealthBackend.start("a");
  const index = fileURLToPath(new URL("../../src/index.js", import.meta.url));
  const config = roundRobinWithHealth();
  const script = `import { insecureChannel } from ${JSON.stringify(index)};
const ch = insecureChannel(${JSON.stringify(`ipv4:${a.address}`)}, { options: { "grpc.service_config": ${JSON.stringify(config)} } });
const r = await ch.unaryUnary("/testing.Echo/Unary")(new Uint8Array(), { timeoutMs: 10000 });
process.stdout.write("reply " + r.length + "\\n");`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill(), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(killer);
  assert.is(code, 0, "the child exited on its own");
  assert.match(out, /^reply \d+/, `child printed: ${out}`);
  assert.ok(a.watches >= 1, "the child watched the server's health");
  await a.stop();
  await assertNoLeaks();
});

test.run();
