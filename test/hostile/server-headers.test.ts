// Hostile request headers and non-gRPC bytes on the gRPC port: each case asserts the
// status or the connection error, bounds memory, then a normal call on a new
// connection must succeed.
import { create, toBinary } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { StatusCode } from "../../src/index.js";
import { EchoRequestSchema } from "../gen/testing/echo_pb.js";
import { assertNoLeaks } from "../helpers.js";
import { assertHeapSinceMark, markHeap, grpcFrame, KiB, MiB, normalCallSucceeds, rawCall, startTarget, withHeapBound, type RawOutcome } from "./harness.js";
import { rawClient } from "../core/raw-h2.js";
import { closedWithin, frame, FRAME, grpcRequestBlock, headersFrames, tcp } from "./raw-frames.js";

const test = suite("hostile: request headers");
let target: Awaited<ReturnType<typeof startTarget>>;
const body = [grpcFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { message: "x" })))];

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

function statusOf(r: RawOutcome): string {
  return r.grpcStatus === undefined ? `no status (rst ${r.rstCode}, http ${r.httpStatus}, ${r.connectionError})` : StatusCode[r.grpcStatus]!;
}

test("bad grpc-timeout values: INTERNAL naming the value; a huge valid one is served", async () => {
  for (const value of ["abc", "1", "-5S", "123456789S", "1.5S", "10Q", ""]) {
    const r = await rawCall(target.port, { headers: { "grpc-timeout": value }, body });
    assert.is(statusOf(r), "INTERNAL", `grpc-timeout ${JSON.stringify(value)}`);
    if (value !== "") assert.is(r.grpcMessage, `Invalid grpc-timeout: ${value}`);
  }
  const r = await rawCall(target.port, { headers: { "grpc-timeout": "99999999H" }, body });
  assert.is(statusOf(r), "OK");
});

test("non-ASCII metadata values and bad base64 in -bin keys do not break the call", async () => {
  const r = await rawCall(target.port, {
    headers: { "x-name": "café\u00ff", "x-data-bin": "!!!not base64!!!", "x-empty-bin": "" },
    body,
  });
  assert.is(statusOf(r), "OK");
});

/**
 * Sends one request whose header block holds `pairs` with raw frames (node:http2 would
 * refuse to send them itself) and returns how the server answered stream 1.
 */
async function oversizedHeaders(pairs: [string, string][]): Promise<string> {
  const peer = await rawClient(target.port);
  try {
    peer.write(headersFrames(1, grpcRequestBlock("/testing.Echo/Unary", pairs), false));
    peer.write(frame(FRAME.DATA, 0x1, 1, body[0]!));
    await peer.until((p) => p.closed || p.of(FRAME.GOAWAY).length > 0 || p.frames.some((f) => f.streamId === 1 && (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS)), "an answer");
    const rst = peer.frames.find((f) => f.streamId === 1 && f.type === FRAME.RST_STREAM);
    if (rst) return `RST_STREAM ${rst.payload.readUInt32BE(0)}`;
    const goaway = peer.of(FRAME.GOAWAY)[0];
    if (goaway) return `GOAWAY ${goaway.payload.readUInt32BE(4)}`;
    return peer.closed ? "closed" : "HEADERS";
  } finally {
    peer.close();
  }
}

test("1 MiB of headers: the stream is refused, the handler never runs, nothing kept", async () => {
  const calls = target.handled.calls;
  await withHeapBound(16 * MiB, async () => {
    const pairs: [string, string][] = Array.from({ length: 64 }, (_, i) => [`x-big-${i}`, "v".repeat(16 * KiB)]);
    const answer = await oversizedHeaders(pairs);
    assert.match(answer, /^(RST_STREAM|GOAWAY|closed)/);
  });
  assert.is(target.handled.calls, calls);
});

test("a header list over the limit (1,000 pairs): the stream is refused, the handler never runs", async () => {
  const calls = target.handled.calls;
  await withHeapBound(16 * MiB, async () => {
    const answer = await oversizedHeaders(Array.from({ length: 1000 }, (_, i) => [`x-h-${i}`, String(i)]));
    assert.match(answer, /^(RST_STREAM|GOAWAY|closed)/);
  });
  assert.is(target.handled.calls, calls);
});

test("HTTP/1.1 on the gRPC port: the connection is closed", async () => {
  const socket = await tcp(target.port);
  socket.write("POST /testing.Echo/Unary HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0");
  assert.ok(await closedWithin(socket, 5000), "the server closed the connection");
  socket.destroy();
});

test("the HTTP/2 preface followed by garbage: the connection is closed", async () => {
  const socket = await tcp(target.port);
  socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff))]));
  assert.ok(await closedWithin(socket, 5000), "the server closed the connection");
  socket.destroy();
});

test("a wrong method, content-type or missing te: HTTP 405/415 or INTERNAL, never a handler call", async () => {
  const calls = target.handled.calls;
  let r = await rawCall(target.port, { headers: { ":method": "GET" }, body: [], end: true });
  assert.is(r.httpStatus, 405);
  r = await rawCall(target.port, { headers: { "content-type": "text/plain" }, body });
  assert.is(r.httpStatus, 415);
  r = await rawCall(target.port, { headers: { te: null }, body });
  assert.is(statusOf(r), "INTERNAL");
  assert.is(target.handled.calls, calls);
});

test.run();
