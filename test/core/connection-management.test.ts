// Connection management (issue #8): draining with GOAWAY, stop() called twice, connection
// idle and age limits on the server, the client's idle timeout, per-connection process
// references, option reporting. Raw peers (raw-h2.ts, node:http2) show the frames.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import * as http2 from "node:http2";
import { createServer as createNetServer } from "node:net";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConnectivityState, createClient, insecureChannel, StatusCode } from "../../src/index.js";
import { jitteredAgeMs } from "../../src/transport/connection-age.js";
import { KNOWN_OPTIONS } from "../../src/transport/options.js";
import { nodeSupportsStreamResetLimits, streamResetLimitsFrom } from "../../src/transport/rapid-reset.js";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, sleep, startServer } from "../helpers.js";
import { FRAME, goawayOf, grpcMessage, grpcRequestHeaders, rawClient } from "./raw-h2.js";

const test = suite("connection management");
const index = fileURLToPath(new URL("../../src/index.js", import.meta.url));
const rawH2 = fileURLToPath(new URL("./raw-h2.js", import.meta.url));

function slowEcho(observed: { started: number; messages: string[] }) {
  return {
    async unary(request: { message: string; delayMs: number }, context: { signal: AbortSignal; peer(): string }) {
      observed.started++;
      observed.messages.push(request.message);
      if (request.delayMs) await sleep(request.delayMs, context.signal);
      return { message: `done:${request.message}@${context.peer()}` };
    },
  };
}

/** Runs an ES module script in a child Node; resolves with its exit code and output, or "timeout". */
async function runChild(script: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null | "timeout"; out: string; err: string }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GRPC_VERBOSITY: "NONE", ...env },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null | "timeout">((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve("timeout");
    }, timeoutMs);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, out, err };
}

const encode = (message: string, delayMs = 0) => toBinary(EchoRequestSchema, create(EchoRequestSchema, { message, delayMs }));

test("drain: the GOAWAY names the last stream processed; a stream sent after it is refused, never half-served", async () => {
  const observed = { started: 0, messages: [] as string[] };
  const { server, port } = await startServer((s) => s.addService(Echo, slowEcho(observed)));
  const peer = await rawClient(port);
  peer.write(grpcRequestHeaders(1, "/testing.Echo/Unary"));
  peer.write(grpcMessage(1, encode("a", 200)));
  await eventually(() => observed.started === 1, "the first call to start");
  const stopping = server.stop(5);
  await peer.until((p) => p.of(FRAME.GOAWAY).length > 0, "GOAWAY");
  // A request the client sent before it saw the GOAWAY: nghttp2 ignores every stream
  // that arrives after a GOAWAY, so it must be refused by the last-stream-id.
  peer.write(grpcRequestHeaders(3, "/testing.Echo/Unary"));
  peer.write(grpcMessage(3, encode("b")));
  await peer.until((p) => p.frames.some((f) => f.streamId === 1 && f.type === FRAME.HEADERS && (f.flags & 1) === 1), "the trailers of stream 1");
  await stopping;
  for (const g of peer.of(FRAME.GOAWAY)) assert.equal(goawayOf(g), { lastStreamId: 1, code: 0, debug: "" });
  const data1 = peer.frames.find((f) => f.streamId === 1 && f.type === FRAME.DATA)!;
  assert.match(fromBinary(EchoResponseSchema, data1.payload.subarray(5)).message, /^done:a@/);
  assert.is(peer.frames.filter((f) => f.streamId === 3).length, 0, "nothing is sent on the refused stream");
  assert.equal(observed.messages, ["a"], "the refused call's handler never ran");
  peer.close();
  await assertNoLeaks();
});

test("stop(30) then stop(0) with a call in flight settles both at once; a later, shorter grace wins", async () => {
  const observed = { started: 0, messages: [] as string[] };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)));
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  const inflight = client.unary({ message: "a", delayMs: 20_000 });
  await eventually(() => observed.started === 1, "the call to start");
  const first = server.stop(30);
  await sleep(50);
  const second = server.stop(0);
  assert.is(second, first, "the same promise");
  const outcome = await Promise.race([first.then(() => "stopped"), sleep(5000).then(() => "still waiting")]);
  assert.is(outcome, "stopped");
  await expectStatus(inflight, StatusCode.UNAVAILABLE);
  await channel.close();

  // stop(30) then stop(0.3): the call is cancelled after ~0.3 s, not 30 s.
  const again = await startServer((s) => s.addService(Echo, slowEcho(observed)));
  const channel2 = insecureChannel(again.target);
  const call2 = createClient(Echo, channel2).unary({ message: "b", delayMs: 20_000 });
  await eventually(() => observed.started === 2, "the second call to start");
  const stopping = again.server.stop(30);
  void again.server.stop(0.3);
  void again.server.stop(10); // a longer grace never extends the shorter one
  assert.is(await Promise.race([stopping.then(() => "stopped"), sleep(5000).then(() => "still waiting")]), "stopped");
  await expectStatus(call2, StatusCode.UNAVAILABLE);
  await channel2.close();
  await assertNoLeaks();
});

test("a process whose server was stopped twice and whose channel is idle exits on its own", async () => {
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho({ started: 0, messages: [] })));
  // In the child: a server with keepalive pings and a call in flight, stopped with
  // stop(30) then stop(0) without awaiting either; a raw client that never acks pings;
  // a channel with keepalive and an idle timeout to the parent's server, left open.
  const script = `import { createServer, insecureChannel, unaryUnaryRpcMethodHandler } from ${JSON.stringify(index)};
import { rawClient, grpcRequestHeaders, grpcMessage, FRAME } from ${JSON.stringify(rawH2)};
const server = createServer({ options: { "grpc.keepalive_time_ms": 20, "grpc.keepalive_timeout_ms": 60000, "grpc.keepalive_permit_without_calls": 1 } });
let started;
const running = new Promise((r) => (started = r));
server.addRegisteredMethodHandlers("t.S", { M: unaryUnaryRpcMethodHandler((req, ctx) => { started(); return new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))); }) });
const port = await server.addInsecurePort("127.0.0.1:0");
await server.start();
const peer = await rawClient(port);
peer.ackPings = false;
peer.write(grpcRequestHeaders(1, "/t.S/M"));
peer.write(grpcMessage(1, new Uint8Array()));
await running;
await peer.until((p) => p.of(FRAME.PING).length > 0, "a keepalive ping");
const channel = insecureChannel(${JSON.stringify(target)}, { options: { "grpc.keepalive_time_ms": 20, "grpc.keepalive_permit_without_calls": 1, "grpc.client_idle_timeout_ms": 600000 } });
await channel.unaryUnary("/testing.Echo/Unary")(new Uint8Array());
void server.stop(30);
setTimeout(() => void server.stop(0), 20);
process.stdout.write("ready\\n");`;
  const { code, out } = await runChild(script, 8000);
  assert.is(code, 0, `the child exited (${String(code)}), output: ${out}`);
  assert.match(out, /ready/);
  await server.stop(null);
  await assertNoLeaks();
});

test("grpc.max_connection_idle_ms: a connection without calls gets GOAWAY, and the next call reconnects", async () => {
  const observed = { started: 0, messages: [] as string[] };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)), { options: { "grpc.max_connection_idle_ms": 150 } });
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  // A call longer than the idle limit keeps the connection: idle means no calls.
  const first = (await client.unary({ message: "a", delayMs: 300 })).message;
  assert.is(channel.getState(), ConnectivityState.READY);
  await eventually(() => channel.getState() === ConnectivityState.IDLE, "the GOAWAY of the idle connection");
  const second = (await client.unary({ message: "b" })).message;
  assert.not.equal(first.split("@")[1], second.split("@")[1], "a new connection (another client port)");
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("grpc.max_connection_age_ms: GOAWAY once the age is reached, calls in flight finish; after the grace they are cut", async () => {
  const observed = { started: 0, messages: [] as string[] };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)), { options: { "grpc.max_connection_age_ms": 100 } });
  const channel = insecureChannel(target);
  const client = createClient(Echo, channel);
  const long = client.unary({ message: "a", delayMs: 400 });
  await eventually(() => channel.getState() === ConnectivityState.IDLE, "the GOAWAY at the connection's age");
  assert.match((await long).message, /^done:a@/, "no grace limit: the call in flight finishes");
  await channel.close();
  await server.stop(null);

  const graced = await startServer((s) => s.addService(Echo, slowEcho(observed)), {
    options: { "grpc.max_connection_age_ms": 100, "grpc.max_connection_age_grace_ms": 100 },
  });
  const channel2 = insecureChannel(graced.target);
  const t0 = Date.now();
  await expectStatus(createClient(Echo, channel2).unary({ message: "b", delayMs: 10_000 }), StatusCode.UNAVAILABLE);
  assert.ok(Date.now() - t0 < 5000, "cut at the end of the grace, not at the end of the call");
  await channel2.close();
  await graced.server.stop(null);
  await assertNoLeaks();
});

test("the connection age is jittered by ±10%, as in gRPC core", () => {
  assert.is(jitteredAgeMs(1000, () => 0), 900);
  assert.is(jitteredAgeMs(1000, () => 0.5), 1000);
  assert.ok(Math.abs(jitteredAgeMs(1000, () => 0.999999) - 1100) < 0.01);
});

test("grpc.client_idle_timeout_ms: an unused channel goes IDLE and closes its connection; the next call reconnects", async () => {
  const observed = { started: 0, messages: [] as string[] };
  const { server, target } = await startServer((s) => s.addService(Echo, slowEcho(observed)));
  const channel = insecureChannel(target, { options: { "grpc.client_idle_timeout_ms": 150 } });
  const client = createClient(Echo, channel);
  const first = (await client.unary({ message: "a", delayMs: 250 })).message;
  assert.is(channel.getState(), ConnectivityState.READY, "a call longer than the timeout does not count as idle");
  await eventually(() => channel.getState() === ConnectivityState.IDLE, "the idle timeout");
  const second = (await client.unary({ message: "b" })).message;
  assert.not.equal(first.split("@")[1], second.split("@")[1], "a new connection");
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("waitForStateChange with an already-aborted signal rejects at once with the signal's reason", async () => {
  const channel = insecureChannel("127.0.0.1:1");
  const reason = new Error("gave up");
  const outcome = await Promise.race([
    channel.waitForStateChange(ConnectivityState.IDLE, AbortSignal.abort(reason)).then(
      () => "resolved",
      (err: unknown) => err,
    ),
    sleep(1000).then(() => "never settled"),
  ]);
  assert.is(outcome, reason);
  await channel.close();
});

test("a call that ends on a retired connection does not release the connection a waiting call needs", async () => {
  // Connection 1 answers its call after 200 ms but sends GOAWAY at once; connection 2
  // sends its SETTINGS only after 600 ms. The child starts a second call after the
  // GOAWAY: it waits on connection 2 while the first call ends on connection 1. If that
  // end released connection 2, nothing would hold the child's event loop and it would
  // exit (code 13) with the second call unanswered.
  const h2 = http2.createServer();
  let connections = 0;
  h2.on("stream", (stream) => {
    stream.on("error", () => {});
    const first = connections === 1;
    if (first) stream.session?.close();
    setTimeout(
      () => {
        if (stream.destroyed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      },
      first ? 200 : 0,
    );
  });
  const sockets = new Set<import("node:net").Socket>();
  const tcp = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const n = ++connections;
    setTimeout(() => h2.emit("connection", socket), n === 1 ? 0 : 600);
  });
  await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
  const port = (tcp.address() as { port: number }).port;
  const script = `import { ConnectivityState, insecureChannel } from ${JSON.stringify(index)};
const ch = insecureChannel("127.0.0.1:${port}");
const call = ch.unaryUnary("/t.S/M");
const s1 = call(new Uint8Array());
await ch.waitForStateChange(ConnectivityState.IDLE);
if (ch.getState() === ConnectivityState.CONNECTING) await ch.waitForStateChange(ConnectivityState.CONNECTING);
await ch.waitForStateChange(ConnectivityState.READY);
const s2 = call(new Uint8Array());
await s1;
await s2;
process.stdout.write("both answered\\n");
await ch.close();`;
  const { code, out, err } = await runChild(script, 8000);
  assert.is(code, 0, `child exit ${String(code)}: ${out} ${err}`);
  assert.match(out, /both answered/);
  assert.is(connections, 2);
  for (const s of sockets) s.destroy();
  await new Promise((r) => tcp.close(r));
  h2.close();
  await assertNoLeaks();
});

test("unknown grpc. options are reported once per process per key (GRPC_VERBOSITY=DEBUG); known ones are not", async () => {
  const script = `import { createServer, insecureChannel } from ${JSON.stringify(index)};
const options = { "grpc.made_up_option": 1, "grpc-node.made_up_too": 2, "grpc.max_receive_message_length": 10, "grpc.http2.max_ping_strikes": 3, "my.own.key": 4 };
for (let i = 0; i < 2; i++) {
  await insecureChannel("127.0.0.1:1", { options }).close();
  await createServer({ options }).stop(null);
}`;
  const { code, err } = await runChild(script, 8000, { GRPC_VERBOSITY: "DEBUG" });
  assert.is(code, 0, err);
  const lines = err.split("\n").filter((l) => l.includes("is not used by async-grpc"));
  assert.is(lines.length, 2, err);
  assert.match(lines[0]!, /channel option grpc\.made_up_option /);
  assert.match(lines[1]!, /channel option grpc-node\.made_up_too /);
  for (const key of ["grpc.client_idle_timeout_ms", "grpc.max_connection_age_ms", "grpc.http2.min_ping_interval_without_data_ms", "grpc-node.stream_reset_burst"]) {
    assert.ok(KNOWN_OPTIONS.has(key), key);
  }
});

test("the README's options table lists exactly the keys the library reads", async () => {
  const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
  const table = readme.slice(readme.indexOf("## Channel and server options"), readme.indexOf("## Repository layout"));
  const documented = new Set<string>();
  for (const line of table.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const first = line.split("|")[1]!;
    for (const m of first.matchAll(/`([^`]+)`/g)) documented.add(m[1]!);
  }
  assert.equal([...documented].sort(), [...KNOWN_OPTIONS].sort());
});

test("grpc-node.stream_reset_burst/_rate go to Node where it supports them, and are reported as a no-op where not", async () => {
  assert.is(nodeSupportsStreamResetLimits("20.20.2"), false);
  assert.is(nodeSupportsStreamResetLimits("22.9.0"), false);
  assert.is(nodeSupportsStreamResetLimits("22.10.0"), true);
  assert.is(nodeSupportsStreamResetLimits("24.1.0"), true);
  assert.equal(streamResetLimitsFrom({}, true), {});
  assert.equal(streamResetLimitsFrom({ "grpc-node.stream_reset_burst": 5 }, true), { streamResetBurst: 5, streamResetRate: 33 });
  assert.equal(streamResetLimitsFrom({ "grpc-node.stream_reset_rate": 1 }, false), {});
  // A real server: with the option where Node honours it, a client resetting more
  // streams than the burst gets GOAWAY; elsewhere the one-time report says so.
  const script = `import { createServer, unaryUnaryRpcMethodHandler } from ${JSON.stringify(index)};
import { rawClient, grpcRequestHeaders, frame, FRAME } from ${JSON.stringify(rawH2)};
const server = createServer({ options: { "grpc-node.stream_reset_burst": 10, "grpc-node.stream_reset_rate": 1 } });
server.addRegisteredMethodHandlers("t.S", { M: unaryUnaryRpcMethodHandler(async () => new Uint8Array()) });
const port = await server.addInsecurePort("127.0.0.1:0");
await server.start();
const peer = await rawClient(port);
const rst = Buffer.alloc(4); rst.writeUInt32BE(8);
for (let id = 1; id < 80; id += 2) { peer.write(grpcRequestHeaders(id, "/t.S/M")); peer.write(frame(FRAME.RST_STREAM, 0, id, rst)); }
await new Promise((r) => setTimeout(r, 300));
process.stdout.write(peer.of(FRAME.GOAWAY).length > 0 ? "goaway\\n" : "no goaway\\n");
peer.close();
await server.stop(null);`;
  const { code, out, err } = await runChild(script, 8000, { GRPC_VERBOSITY: "ERROR" });
  assert.is(code, 0, err);
  if (nodeSupportsStreamResetLimits()) {
    assert.match(out, /^goaway/);
  } else {
    assert.match(out, /^no goaway/, "40 resets are far below Node's fixed limit");
    assert.is(err.split("grpc-node.stream_reset_burst / grpc-node.stream_reset_rate have no effect").length - 1, 1, err);
  }
});

test.run();
