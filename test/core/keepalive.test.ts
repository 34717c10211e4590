// Keepalive (gRFC A8, gRPC doc/keepalive.md): the client's answer to GOAWAY
// "too_many_pings", the server's ping strikes, server keepalive pings. A raw client
// (raw-h2.ts) sends PINGs on its own schedule and sees the GOAWAY's code and debug data;
// a node:http2 server plays a strict gRPC server against our client.
import * as http2 from "node:http2";
import type { ServerHttp2Session } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConnectivityState, insecureChannel, type Server } from "../../src/index.js";
import { Echo, EchoRequestSchema } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, sleep, startServer } from "../helpers.js";
import { frame, FRAME, goawayOf, grpcMessage, grpcRequestHeaders, rawClient, rawServer, type RawPeer } from "./raw-h2.js";

const test = suite("keepalive");
const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

const ping = (n: number) => frame(FRAME.PING, 0, 0, Buffer.alloc(8, n));
const goaways = (peer: RawPeer) => peer.of(FRAME.GOAWAY).map(goawayOf);
const tooManyPings = { code: NGHTTP2_ENHANCE_YOUR_CALM, debug: "too_many_pings" };

async function echoServer(options: Record<string, number>): Promise<{ server: Server; port: number }> {
  const { server, port } = await startServer(
    (s) =>
      s.addService(Echo, {
        async *serverStream(request, context) {
          for (let i = 0; i < request.count; i++) {
            await sleep(request.delayMs, context.signal);
            yield { index: i };
          }
        },
      }),
    { options },
  );
  return { server, port };
}

/** Sends `count` PINGs `gapMs` apart. */
async function pingEvery(peer: RawPeer, count: number, gapMs: number): Promise<void> {
  for (let i = 0; i < count && !peer.closed; i++) {
    if (i > 0) await sleep(gapMs);
    peer.write(ping(i));
  }
}

test("server: pings too close together, with no calls, get GOAWAY ENHANCE_YOUR_CALM too_many_pings and the connection closes", async () => {
  const { server, port } = await echoServer({});
  const peer = await rawClient(port);
  // Defaults: 2 strikes allowed; with no calls a ping is allowed every 2 hours. The
  // first ping is free, the next two are strikes 1 and 2, the fourth is one too many.
  await pingEvery(peer, 3, 10);
  await sleep(100);
  assert.equal(goaways(peer), [], "two strikes are tolerated");
  peer.write(ping(4));
  await peer.until((p) => p.closed, "the connection to close");
  const [g] = goaways(peer);
  assert.equal({ code: g?.code, debug: g?.debug }, tooManyPings);
  await server.stop(null);
  await assertNoLeaks();
});

test("server: headers and data sent between pings forgive them; once the call ends, strikes count again", async () => {
  const { server, port } = await echoServer({ "grpc.http2.min_ping_interval_without_data_ms": 60_000 });
  const peer = await rawClient(port);
  peer.write(grpcRequestHeaders(1, "/testing.Echo/ServerStream"));
  peer.write(grpcMessage(1, toBinary(EchoRequestSchema, create(EchoRequestSchema, { count: 8, delayMs: 40 }))));
  // A ping every 60 ms while the server sends a message every 40 ms: never a strike.
  await pingEvery(peer, 5, 60);
  await peer.until((p) => p.frames.some((f) => f.streamId === 1 && f.type === FRAME.HEADERS && (f.flags & 1) === 1), "the end of the call");
  assert.equal(goaways(peer), [], "pings between data frames are fine");
  // Now nothing is sent between pings: the fourth (1 allowed + 2 strikes) is too many.
  await pingEvery(peer, 4, 10);
  await peer.until((p) => p.closed, "the connection to close");
  const [g] = goaways(peer);
  assert.equal({ code: g?.code, debug: g?.debug }, tooManyPings);
  await server.stop(null);
  await assertNoLeaks();
});

test("server: pings at the permitted interval are fine, and max_ping_strikes 0 tolerates any rate", async () => {
  const permitted = await echoServer({ "grpc.http2.min_ping_interval_without_data_ms": 30, "grpc.keepalive_permit_without_calls": 1 });
  const peer = await rawClient(permitted.port);
  await pingEvery(peer, 6, 60);
  await sleep(50);
  assert.equal(goaways(peer), []);
  assert.is(peer.closed, false);
  peer.close();
  await permitted.server.stop(null);

  const unlimited = await echoServer({ "grpc.http2.max_ping_strikes": 0 });
  const flood = await rawClient(unlimited.port);
  await pingEvery(flood, 20, 1);
  await flood.until((p) => p.of(FRAME.PING).filter((f) => f.flags & 1).length === 20, "20 ping acks");
  assert.equal(goaways(flood), []);
  flood.close();
  await unlimited.server.stop(null);
  await assertNoLeaks();
});

test("server keepalive: pings only while calls are open (unless permitted), and drops a client that never acks", async () => {
  const { server, port } = await echoServer({ "grpc.keepalive_time_ms": 30, "grpc.keepalive_timeout_ms": 150 });
  const peer = await rawClient(port);
  peer.ackPings = false;
  await sleep(200);
  assert.is(peer.of(FRAME.PING).length, 0, "no calls: no keepalive pings (gRPC core's default)");
  peer.write(grpcRequestHeaders(1, "/testing.Echo/ServerStream"));
  peer.write(grpcMessage(1, toBinary(EchoRequestSchema, create(EchoRequestSchema, { count: 1, delayMs: 10_000 }))));
  await peer.until((p) => p.of(FRAME.PING).length > 0, "a keepalive ping during the call");
  await peer.until((p) => p.closed, "the server to drop the silent client", 3000);
  await server.stop(null);
  await assertNoLeaks();
});

test("client: GOAWAY ENHANCE_YOUR_CALM too_many_pings doubles the channel's keepalive time, and the channel reconnects", async () => {
  // A strict server: the first ping on the first connection is answered with GOAWAY
  // too_many_pings (as grpc-go and gRPC core do); it answers calls with an empty message.
  const h2 = http2.createServer();
  const sessions: { connectedAt: number; pings: number[] }[] = [];
  h2.on("session", (session: ServerHttp2Session) => {
    const record = { connectedAt: Date.now(), pings: [] as number[] };
    const index = sessions.push(record) - 1;
    session.on("ping", () => {
      record.pings.push(Date.now());
      if (index === 0) {
        session.goaway(NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from("too_many_pings"));
        setImmediate(() => session.destroy());
      }
    });
  });
  h2.on("stream", (stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
  const port = (h2.address() as { port: number }).port;
  const channel = insecureChannel(`127.0.0.1:${port}`, { options: { "grpc.keepalive_time_ms": 100, "grpc.keepalive_permit_without_calls": 1 } });
  await channel.channelReady();
  await eventually(() => channel.getState() === ConnectivityState.IDLE, "the GOAWAY to retire the connection");
  // Every call on the new connection works (it used to fail forever against such servers).
  const reply = await channel.unaryUnary("/t.S/M")(new Uint8Array());
  assert.is(reply.length, 0);
  await eventually(() => (sessions[1]?.pings.length ?? 0) >= 1, "a keepalive ping on the second connection");
  const second = sessions[1]!;
  // Timers never fire early: the first ping comes no sooner than the doubled interval.
  assert.ok(second.pings[0]! - second.connectedAt >= 190, `first ping after ${second.pings[0]! - second.connectedAt} ms`);
  assert.ok(sessions[0]!.pings[0]! - sessions[0]!.connectedAt < 190, "the first connection used the configured 100 ms");
  await channel.close();
  await new Promise((r) => h2.close(r));
  await assertNoLeaks();
});

test("client keepalive: one ping at a time, and a server that never acks loses the connection", async () => {
  const raw = await rawServer((peer) => {
    peer.ackPings = false;
  });
  const channel = insecureChannel(`127.0.0.1:${raw.port}`, {
    options: { "grpc.keepalive_time_ms": 30, "grpc.keepalive_timeout_ms": 100, "grpc.keepalive_permit_without_calls": 1 },
  });
  await channel.channelReady();
  await eventually(() => raw.peers[0]!.closed, "the client to drop the connection", 3000);
  assert.ok(raw.peers[0]!.of(FRAME.PING).length >= 1);
  assert.is(raw.peers[0]!.of(FRAME.PING).length, 1, "one ping at a time: no new ping while one waits for its ack");
  await channel.close();
  await raw.close();
  await assertNoLeaks();
});

test.run();
