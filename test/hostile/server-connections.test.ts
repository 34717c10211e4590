// Hostile connections against a running server: stream floods, clients that never read
// or never send, many idle connections, stalled TLS handshakes. Each case asserts the
// status or the connection error, bounds memory, then a normal call on a new
// connection must succeed.
import { create, toBinary } from "@bufbuild/protobuf";
import * as http2 from "node:http2";
import { connect as tlsConnect } from "node:tls";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, createServer, secureChannel, sslChannelCredentials, sslServerCredentials, StatusCode } from "../../src/index.js";
import { rawClient, type RawPeer } from "../core/raw-h2.js";
import { ca, server1 } from "../credentials/fixtures.js";
import { Echo, EchoRequestSchema } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, sleep } from "../helpers.js";
import { assertHeapSinceMark, markHeap, grpcFrame, MiB, normalCallSucceeds, rawCall, startTarget, withHeapBound } from "./harness.js";
import { closedWithin, FRAME, grpcRequestBlock, headersFrames, rstStream, tcp } from "./raw-frames.js";

const test = suite("hostile: connections");
let target: Awaited<ReturnType<typeof startTarget>>;
const request = (init: { message?: string; count?: number }) => grpcFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, init)));

test.before(async () => {
  target = await startTarget();
});

test.after(async () => {
  await target.server.stop(null);
  await assertNoLeaks();
});

test.before.each(() => markHeap());

test.after.each(async () => {
  assertHeapSinceMark();
  await normalCallSucceeds(target.port);
});

test("rapid reset (CVE-2023-44487): 5,000 streams opened and reset at once; the connection is cut, memory bounded", async () => {
  await withHeapBound(32 * MiB, async () => {
    const peer = await rawClient(target.port);
    const block = grpcRequestBlock("/testing.Echo/Bidi");
    const chunks: Buffer[] = [];
    for (let i = 0, id = 1; i < 5000; i++, id += 2) chunks.push(headersFrames(id, block, false), rstStream(id, http2.constants.NGHTTP2_CANCEL));
    peer.write(Buffer.concat(chunks));
    await peer.until((p) => p.closed || p.of(FRAME.GOAWAY).length > 0, "GOAWAY or close", 10_000);
    const goaway = peer.of(FRAME.GOAWAY)[0];
    // Node's defence answers ENHANCE_YOUR_CALM, or INTERNAL_ERROR when nghttp2 sees the flood first.
    if (goaway) assert.ok([http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, http2.constants.NGHTTP2_INTERNAL_ERROR].includes(goaway.payload.readUInt32BE(4)), `GOAWAY code ${goaway.payload.readUInt32BE(4)}`);
    peer.close();
  });
});

test("more streams than max_concurrent_streams: the extra streams are refused, the others served", async () => {
  const limited = await startTarget({ options: { "grpc.max_concurrent_streams": 10 } });
  const peer = await rawClient(limited.port);
  try {
    await peer.until((p) => p.of(FRAME.SETTINGS).length > 0, "the server's SETTINGS");
    // 30 bidi calls left open, ignoring the limit the server announced.
    const block = grpcRequestBlock("/testing.Echo/Bidi");
    peer.write(Buffer.concat(Array.from({ length: 30 }, (_, i) => headersFrames(1 + 2 * i, block, false))));
    await peer.until((p) => p.closed || p.of(FRAME.GOAWAY).length > 0 || p.of(FRAME.RST_STREAM).length >= 20, "20 refusals");
    const refused = peer.of(FRAME.RST_STREAM).filter((f) => {
      const code = f.payload.readUInt32BE(0);
      return code === http2.constants.NGHTTP2_REFUSED_STREAM || code === http2.constants.NGHTTP2_PROTOCOL_ERROR;
    });
    assert.ok(refused.length >= 20 || peer.of(FRAME.GOAWAY).length > 0, `refused ${refused.length} of the 20 extra streams`);
    await eventually(() => limited.handled.calls === 10 || peer.closed, "the 10 allowed calls to reach the handler");
  } finally {
    peer.close();
    await normalCallSucceeds(limited.port);
    await limited.server.stop(null);
  }
});

test("a client that never reads a large response stream: flow control holds the server back, memory bounded", async () => {
  await withHeapBound(48 * MiB, async (peak) => {
    // 4,000 responses of 64 KiB: 250 MiB if the server did not wait for the reader.
    const r = await rawCall(target.port, {
      path: "/testing.Echo/ServerStream",
      body: [request({ count: 4000 })],
      neverRead: true,
      timeoutMs: 1500,
      during: async () => {
        await sleep(1000);
        peak();
      },
    });
    assert.is(r.responseBytes, 0);
    assert.is(r.grpcStatus, undefined, "the call was still held back when the client gave up");
  });
});

test("a stream that sends nothing until its deadline: DEADLINE_EXCEEDED from the server", async () => {
  const r = await rawCall(target.port, { path: "/testing.Echo/Unary", headers: { "grpc-timeout": "200m" }, body: [], end: false, timeoutMs: 5000 });
  assert.is(r.grpcStatus === undefined ? "none" : StatusCode[r.grpcStatus], "DEADLINE_EXCEEDED");
});

test("300 idle connections: held cheaply, and the server keeps serving", async () => {
  const peers: RawPeer[] = [];
  try {
    await withHeapBound(64 * MiB, async (peak) => {
      for (let i = 0; i < 300; i++) peers.push(await rawClient(target.port));
      await eventually(() => peers.every((p) => p.of(FRAME.SETTINGS).length > 0), "every connection's SETTINGS", 10_000);
      await normalCallSucceeds(target.port);
      peak();
      for (const p of peers) p.close();
    });
  } finally {
    for (const p of peers) p.close();
  }
});

test("a slow TLS handshake that never finishes: other clients are served, and the server drops it after grpc.server_handshake_timeout_ms", async () => {
  const server = createServer({ options: { "grpc.server_handshake_timeout_ms": 300 } });
  server.addService(Echo, { async unary(req) { return { message: req.message }; } });
  const port = await server.addSecurePort("127.0.0.1:0", sslServerCredentials([server1]));
  await server.start();
  // A TCP connection that sends 10 bytes of a ClientHello and then nothing.
  const stalled = await tcp(port);
  stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]));
  // And one that sends nothing at all.
  const silent = await tcp(port);
  const channel = secureChannel(`localhost:${port}`, sslChannelCredentials(ca));
  assert.is((await createClient(Echo, channel).unary({ message: "tls" })).message, "tls");
  assert.ok(await closedWithin(stalled, 5000), "the stalled handshake was dropped");
  assert.ok(await closedWithin(silent, 5000), "the silent connection was dropped");
  stalled.destroy();
  silent.destroy();
  await channel.close();
  await server.stop(null);
});

test("silent plaintext connections, or a preface without SETTINGS: dropped after grpc.server_handshake_timeout_ms, others served", async () => {
  const quick = await startTarget({ options: { "grpc.server_handshake_timeout_ms": 300 } });
  const silent = await tcp(quick.port);
  const prefaceOnly = await tcp(quick.port);
  prefaceOnly.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  await normalCallSucceeds(quick.port);
  assert.ok(await closedWithin(silent, 5000), "the silent connection was dropped");
  assert.ok(await closedWithin(prefaceOnly, 5000), "the preface-only connection was dropped");
  silent.destroy();
  prefaceOnly.destroy();
  // A connection that did its handshake and then went quiet is not a handshake problem.
  const idle = await rawClient(quick.port);
  await idle.until((p) => p.of(FRAME.SETTINGS).length > 0, "SETTINGS");
  await sleep(600);
  assert.not.ok(idle.closed, "an idle connection after its handshake stays");
  idle.close();
  await quick.server.stop(null);
});

test("a TLS client that is not speaking TLS: the connection is closed", async () => {
  const server = createServer();
  server.addService(Echo, { async unary(req) { return { message: req.message }; } });
  const port = await server.addSecurePort("127.0.0.1:0", sslServerCredentials([server1]));
  await server.start();
  const socket = await tcp(port);
  socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  assert.ok(await closedWithin(socket, 5000));
  socket.destroy();
  // And a TLS client that offers no ALPN h2.
  const http1 = tlsConnect({ port, host: "127.0.0.1", ca, servername: "localhost", ALPNProtocols: ["http/1.1"] });
  http1.on("error", () => {});
  assert.ok(await closedWithin(http1, 5000));
  http1.destroy();
  await server.stop(null);
});

test.run();
