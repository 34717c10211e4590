import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConnectivityState, createClient, createServer, insecureChannel, parseTarget, StatusCode } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, sleep, startServer } from "../helpers.js";

const test = suite("channel");

const echo = {
  async unary(request: { message: string; delayMs: number }, context: { signal: AbortSignal }) {
    if (request.delayMs) await sleep(request.delayMs, context.signal);
    return { message: `echo:${request.message}` };
  },
};

/** A port nobody listens on: bind, note it, close. */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("targets: host:port, dns:, ipv4:, ipv6:, unix:, default port", () => {
  assert.equal(parseTarget("localhost:50051"), { address: { host: "localhost", port: 50051 }, authority: "localhost:50051" });
  assert.equal(parseTarget("dns:///example.com:443").address, { host: "example.com", port: 443 });
  assert.equal(parseTarget("dns://8.8.8.8/example.com:8080").address, { host: "example.com", port: 8080 });
  assert.equal(parseTarget("ipv4:10.0.0.1:5000,10.0.0.2:5000").address, { host: "10.0.0.1", port: 5000 });
  assert.equal(parseTarget("ipv6:[::1]:5000"), { address: { host: "::1", port: 5000 }, authority: "[::1]:5000" });
  assert.equal(parseTarget("[::1]:7").address, { host: "::1", port: 7 });
  assert.equal(parseTarget("unix:/tmp/x.sock").address, { path: "/tmp/x.sock" });
  assert.equal(parseTarget("unix:///tmp/x.sock").address, { path: "/tmp/x.sock" });
  assert.equal(parseTarget("example.com"), { address: { host: "example.com", port: 443 }, authority: "example.com" });
  assert.throws(() => parseTarget("host:99999"), /bad port/);
  assert.throws(() => parseTarget("unix:"), /empty unix socket path/);
});

test("a channel is IDLE until asked, then READY; channelReady() resolves", async () => {
  const { server, target } = await startServer((s) => s.addService(Echo, echo));
  const channel = insecureChannel(target);
  assert.is(channel.getState(), ConnectivityState.IDLE);
  await channel.channelReady();
  assert.is(channel.getState(), ConnectivityState.READY);
  await channel.close();
  assert.is(channel.getState(), ConnectivityState.SHUTDOWN);
  await server.stop(null);
  await assertNoLeaks();
});

test("nothing listening: calls fail fast with UNAVAILABLE and the channel reports TRANSIENT_FAILURE", async () => {
  const port = await freePort();
  const channel = insecureChannel(`127.0.0.1:${port}`);
  const client = createClient(Echo, channel);
  const err = await expectStatus(client.unary({ message: "x" }), StatusCode.UNAVAILABLE);
  assert.match(err.details, /ECONNREFUSED|connect/i);
  assert.is(channel.getState(), ConnectivityState.TRANSIENT_FAILURE);
  await expectStatus(client.unary({ message: "y" }), StatusCode.UNAVAILABLE);
  await channel.close();
  await assertNoLeaks();
});

test("waitForReady queues the call until the server comes up (within its deadline)", async () => {
  const port = await freePort();
  const channel = insecureChannel(`127.0.0.1:${port}`, { options: { "grpc.initial_reconnect_backoff_ms": 50, "grpc.max_reconnect_backoff_ms": 100 } });
  const client = createClient(Echo, channel);
  const call = client.unary({ message: "patient" }, { waitForReady: true, timeoutMs: 5000 });
  await sleep(150);
  assert.not.ok(call.done());
  const server = createServer();
  server.addService(Echo, echo);
  await server.addInsecurePort(`127.0.0.1:${port}`);
  await server.start();
  assert.is((await call).message, "echo:patient");
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("the channel reconnects after the server restarts on the same port", async () => {
  const first = await startServer((s) => s.addService(Echo, echo));
  const channel = insecureChannel(first.target, { options: { "grpc.initial_reconnect_backoff_ms": 50 } });
  const client = createClient(Echo, channel);
  assert.is((await client.unary({ message: "1" })).message, "echo:1");
  await first.server.stop(null);
  await eventually(() => channel.getState() !== ConnectivityState.READY, "the channel to notice the drop");
  const second = createServer();
  second.addService(Echo, echo);
  await second.addInsecurePort(first.target);
  await second.start();
  assert.is((await client.unary({ message: "2" }, { waitForReady: true, timeoutMs: 5000 })).message, "echo:2");
  await channel.close();
  await second.stop(null);
  await assertNoLeaks();
});

test("close() cancels calls in flight; later calls fail; Symbol.asyncDispose closes", async () => {
  const { server, target } = await startServer((s) => s.addService(Echo, echo));
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  await channel.channelReady();
  const inflight = client.unary({ message: "slow", delayMs: 10_000 });
  await sleep(20);
  await channel.close();
  await expectStatus(inflight, StatusCode.CANCELLED);
  await expectStatus(client.unary({ message: "after" }), StatusCode.CANCELLED);
  {
    await using disposable = insecureChannel(target);
    await createClient(Echo, disposable).unary({ message: "scoped" });
  }
  await server.stop(null);
  await assertNoLeaks();
});

test("close(graceSeconds) lets calls in flight finish, and returns as soon as they have", async () => {
  const { server, target } = await startServer((s) => s.addService(Echo, echo));
  const channel = insecureChannel(target);
  const inflight = createClient(Echo, channel).unary({ message: "graceful", delayMs: 100 });
  await sleep(20);
  const t0 = Date.now();
  await channel.close(5);
  assert.ok(Date.now() - t0 < 2000, "close waited for the call, not the whole grace");
  assert.is((await inflight).message, "echo:graceful");
  await server.stop(null);
  await assertNoLeaks();
});

test("IPv6 loopback and unix sockets", async () => {
  const v6 = await startServer((s) => s.addService(Echo, echo), undefined, "::1");
  const ch6 = insecureChannel(`ipv6:${v6.target}`);
  assert.is((await createClient(Echo, ch6).unary({ message: "six" })).message, "echo:six");
  await ch6.close();
  await v6.server.stop(null);

  const dir = mkdtempSync(join(tmpdir(), "async-grpc-"));
  const path = join(dir, "s.sock");
  const server = createServer();
  server.addService(Echo, echo);
  assert.is(await server.addInsecurePort(`unix:${path}`), 1);
  await server.start();
  const chu = insecureChannel(`unix:${path}`);
  assert.is((await createClient(Echo, chu).unary({ message: "unix" })).message, "echo:unix");
  await chu.close();
  await server.stop(null);
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks();
});

test("channel options: a response above grpc.max_receive_message_length is RESOURCE_EXHAUSTED", async () => {
  const { server, target } = await startServer((s) => s.addService(Echo, { async unary() { return { message: "x".repeat(5000) }; } }));
  const channel = insecureChannel(target, { options: { "grpc.max_receive_message_length": 1000 } });
  await expectStatus(createClient(Echo, channel).unary({}), StatusCode.RESOURCE_EXHAUSTED);
  const sendLimited = insecureChannel(target, { options: { "grpc.max_send_message_length": 10 } });
  await expectStatus(createClient(Echo, sendLimited).unary({ message: "y".repeat(100) }), StatusCode.RESOURCE_EXHAUSTED);
  await channel.close();
  await sendLimited.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("a pending call keeps the process alive while the channel connects (no early exit)", async () => {
  const { server, target } = await startServer((s) => s.addService(Echo, echo));
  const index = fileURLToPath(new URL("../../src/index.js", import.meta.url));
  // A script whose only work is one call without a deadline: Node exits early (code 13)
  // if nothing holds the event loop open while the connection is being made.
  const script = `import { insecureChannel } from ${JSON.stringify(index)};
const ch = insecureChannel(${JSON.stringify(target)});
const r = await ch.unaryUnary("/testing.Echo/Unary")(new Uint8Array());
process.stdout.write("reply " + r.length + "\\n"); await ch.close();`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.is(code, 0);
  assert.match(out, /^reply \d+/, `child printed: ${out}`);
  await server.stop(null);
  await assertNoLeaks();
});

test.run();
