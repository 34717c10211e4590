// Bad input gets a clear error and loses nothing: malformed requests from a raw
// node:http2 client against our server, and malformed responses from a raw
// node:http2 server against our client. After every bad exchange the same HTTP/2
// connection must still carry a good call, and the server must still be up.
//
// Frames are built here by hand (not with src/wire) so that a bug in our encoder
// cannot hide a matching bug in our decoder.
import * as http2 from "node:http2";
import type { ClientHttp2Session, ClientHttp2Stream, Http2Server, IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { createDeflate, createGzip, gzipSync } from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  insecureChannel,
  methodHandlersGenericHandler,
  RpcError,
  StatusCode,
  streamUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { Echo, EchoRequestSchema } from "../gen/testing/echo_pb.js";
import { create, toBinary } from "@bufbuild/protobuf";
import { assertNoLeaks, expectStatus, sleep, startServer, type Started } from "../helpers.js";

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INTERNAL_ERROR } = http2.constants;
const MiB = 1024 * 1024;

// ---- hand-built wire bytes -------------------------------------------------------

/** A gRPC length-prefixed message: flag, 4-byte big-endian length, payload. */
function frame(payload: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + payload.byteLength);
  out[0] = flag;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, 5);
  return out;
}

/** Only the 5-byte prefix, declaring `length` bytes that never follow. */
function prefix(length: number, flag = 0): Buffer {
  const out = Buffer.alloc(5);
  out[0] = flag;
  out.writeUInt32BE(length, 1);
  return out;
}

/** Splits the response body into messages; fails on a truncated one. */
function messagesOf(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < body.length) {
    assert.ok(body.length - pos >= 5, "truncated message prefix in the response");
    const length = body.readUInt32BE(pos + 1);
    assert.is(body[pos], 0, "response messages are not compressed here");
    assert.ok(body.length - pos - 5 >= length, "truncated message in the response");
    out.push(body.subarray(pos + 5, pos + 5 + length));
    pos += 5 + length;
  }
  return out;
}

/** Resolves `promise` or fails after `ms`, so that no test can hang the suite. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- a raw HTTP/2 client -----------------------------------------------------------

interface RawResponse {
  httpStatus: number | undefined;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders | undefined;
  /** True when the status came in the only HEADERS frame (trailers-only). */
  trailersOnly: boolean;
  body: Buffer;
  /** RST_STREAM code received from the server (undefined if it ended the stream normally or we reset it). */
  rstCode: number | undefined;
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
}

interface RawRequest {
  path: string;
  method?: string;
  /** Extra headers; a value of `null` removes a default one. */
  headers?: Record<string, string | null>;
  /** Written as separate DATA writes, in order. */
  body?: Uint8Array[];
  /** Half-close after the body (default true). */
  end?: boolean;
}

/**
 * One request on `session`; resolves once the server has finished its side (END_STREAM
 * or RST_STREAM). If we did not half-close, we reset the stream with CANCEL afterwards,
 * as a gRPC client does once it has the status.
 */
function rawCall(session: ClientHttp2Session, req: RawRequest): Promise<RawResponse> {
  const headers: OutgoingHttpHeaders = {
    ":method": req.method ?? "POST",
    ":path": req.path,
    "content-type": "application/grpc",
    te: "trailers",
  };
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  const end = req.end ?? true;
  const stream: ClientHttp2Stream = session.request(headers, { endStream: false });
  stream.on("error", () => {});
  const result: RawResponse = {
    httpStatus: undefined,
    headers: {},
    trailers: undefined,
    trailersOnly: false,
    body: Buffer.alloc(0),
    rstCode: undefined,
    grpcStatus: undefined,
    grpcMessage: undefined,
  };
  const chunks: Buffer[] = [];
  let weReset = false;
  const done = new Promise<RawResponse>((resolve) => {
    stream.on("response", (h, flags) => {
      result.httpStatus = Number(h[":status"]);
      result.headers = h;
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) result.trailersOnly = true;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("trailers", (t) => {
      result.trailers = t;
    });
    stream.on("end", () => {
      // The server's side is complete; if ours is still open, cancel it.
      if (!stream.closed && !stream.writableEnded) {
        weReset = true;
        stream.close(NGHTTP2_CANCEL);
      }
    });
    stream.on("close", () => {
      result.body = Buffer.concat(chunks);
      if (!weReset && stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        result.rstCode = stream.rstCode;
      }
      const statusFrom = result.trailersOnly ? result.headers : result.trailers;
      const raw = statusFrom?.["grpc-status"];
      result.grpcStatus = typeof raw === "string" ? Number(raw) : undefined;
      const message = statusFrom?.["grpc-message"];
      result.grpcMessage = typeof message === "string" ? decodeURIComponent(message) : undefined;
      resolve(result);
    });
  });
  for (const chunk of req.body ?? []) stream.write(chunk);
  if (end) stream.end();
  return within(5000, `raw call ${req.method ?? "POST"} ${req.path}`, done).catch((err: unknown) => {
    stream.close(NGHTTP2_CANCEL);
    throw err;
  });
}

function statusName(code: number | undefined): string {
  return code === undefined ? "(none)" : (StatusCode[code] ?? String(code));
}

function assertGrpcStatus(res: RawResponse, code: StatusCode, what: string): void {
  assert.is(res.httpStatus, 200, `${what}: HTTP status`);
  assert.is(statusName(res.grpcStatus), StatusCode[code], `${what}: grpc-status (grpc-message: ${res.grpcMessage})`);
}

function assertErrorStatus(res: RawResponse, what: string): void {
  assert.is(res.httpStatus, 200, `${what}: HTTP status`);
  assert.ok(res.grpcStatus !== undefined, `${what}: a grpc-status is sent`);
  assert.ok(res.grpcStatus !== StatusCode.OK, `${what}: grpc-status must not be OK`);
}

// ---- the server under test -------------------------------------------------------------

const serverSuite = suite("protocol errors: server");
let started: Started;
let session: ClientHttp2Session;
let goodChannel: Channel;
const seen = { unaryCalls: 0, lastDeadlineRemaining: undefined as number | undefined, slowAborted: 0 };

serverSuite.before(async () => {
  started = await startServer((server) => {
    server.addGenericRpcHandlers([
      methodHandlersGenericHandler("test.Raw", {
        Unary: unaryUnaryRpcMethodHandler(async (req: Uint8Array) => {
          seen.unaryCalls++;
          return req;
        }),
        Stream: unaryStreamRpcMethodHandler(async function* (req: Uint8Array) {
          yield req;
          yield req;
        }),
        Collect: streamUnaryRpcMethodHandler(async (reqs: AsyncIterable<Uint8Array>) => {
          const parts: Uint8Array[] = [];
          for await (const r of reqs) parts.push(r);
          return Buffer.concat(parts);
        }),
        // Reports the time remaining; given "s", first waits 50 ms without watching the signal.
        Deadline: unaryUnaryRpcMethodHandler(async (req: Uint8Array, context) => {
          if (req[0] === 0x73) await sleep(50);
          seen.lastDeadlineRemaining = context.timeRemaining();
          return new TextEncoder().encode(String(context.timeRemaining()));
        }),
        // Waits for its signal (bounded by 3 s).
        Slow: unaryUnaryRpcMethodHandler(async (req: Uint8Array, context) => {
          try {
            await sleep(3000, context.signal);
          } catch {
            seen.slowAborted++;
          }
          return req;
        }),
      }),
    ]);
    server.addService(Echo, { unary: async (req) => ({ message: req.message }) });
  });
  session = http2.connect(`http://${started.target}`);
  session.on("error", () => {});
  goodChannel = insecureChannel(started.target);
});

serverSuite.after(async () => {
  session.destroy();
  await goodChannel.close();
  await started.server.stop(null);
  await assertNoLeaks();
});

/** The same HTTP/2 connection still carries a good call, and a new connection works too. */
async function assertStillServing(what: string): Promise<void> {
  assert.not.ok(session.destroyed || session.closed, `${what}: the raw client's connection was closed`);
  const payload = Buffer.from(`still serving after ${what}`);
  const res = await rawCall(session, { path: "/test.Raw/Unary", body: [frame(payload)] });
  assertGrpcStatus(res, StatusCode.OK, `good call on the same connection after ${what}`);
  assert.equal(messagesOf(res.body).map((m) => m.toString()), [payload.toString()], `echo after ${what}`);
  const reply = await within(5000, "good call on a new connection", Promise.resolve(goodChannel.unaryUnary("/test.Raw/Unary")(payload)));
  assert.is(Buffer.from(reply).toString(), payload.toString());
}

serverSuite("a well-formed raw call succeeds (the baseline the other cases rely on)", async () => {
  const res = await rawCall(session, { path: "/test.Raw/Unary", body: [frame(Buffer.from("hi"))] });
  assertGrpcStatus(res, StatusCode.OK, "baseline");
  assert.is(res.headers["content-type"], "application/grpc");
  assert.not.ok(res.trailersOnly);
  assert.equal(messagesOf(res.body).map((m) => m.toString()), ["hi"]);
  const stream = await rawCall(session, { path: "/test.Raw/Stream", body: [frame(Buffer.from("s"))] });
  assertGrpcStatus(stream, StatusCode.OK, "baseline stream");
  assert.equal(messagesOf(stream.body).map((m) => m.toString()), ["s", "s"]);
});

for (const method of ["GET", "PUT"]) {
  serverSuite(`a ${method} request gets HTTP 405`, async () => {
    const before = seen.unaryCalls;
    const res = await rawCall(session, { path: "/test.Raw/Unary", method, body: method === "GET" ? [] : [frame(Buffer.from("x"))] });
    assert.is(res.httpStatus, 405);
    assert.is(seen.unaryCalls, before, "the handler must not run");
    await assertStillServing(`${method}`);
  });
}

for (const contentType of ["text/plain", "application/grpc-web", "application/grpc-web+proto", "application/json", null]) {
  serverSuite(`content-type ${contentType ?? "(missing)"} gets HTTP 415`, async () => {
    const before = seen.unaryCalls;
    const res = await rawCall(session, {
      path: "/test.Raw/Unary",
      headers: { "content-type": contentType },
      body: [frame(Buffer.from("x"))],
    });
    assert.is(res.httpStatus, 415);
    assert.is(seen.unaryCalls, before, "the handler must not run");
    await assertStillServing(`content-type ${contentType}`);
  });
}

serverSuite("content-type application/grpc+proto and application/grpc;charset are accepted", async () => {
  for (const contentType of ["application/grpc+proto", "application/grpc; charset=utf-8"]) {
    const res = await rawCall(session, { path: "/test.Raw/Unary", headers: { "content-type": contentType }, body: [frame(Buffer.from("ok"))] });
    assertGrpcStatus(res, StatusCode.OK, contentType);
  }
});

serverSuite("a missing te: trailers gets INTERNAL", async () => {
  const before = seen.unaryCalls;
  const res = await rawCall(session, { path: "/test.Raw/Unary", headers: { te: null }, body: [frame(Buffer.from("x"))] });
  assertGrpcStatus(res, StatusCode.INTERNAL, "no te");
  assert.is(seen.unaryCalls, before, "the handler must not run");
  await assertStillServing("missing te");
});

for (const path of ["/test.Raw/Nope", "/nope.Service/Unary", "/", "/test.Raw", "/test.Raw/Unary/extra"]) {
  serverSuite(`unknown path ${path} gets a trailers-only UNIMPLEMENTED naming it`, async () => {
    const res = await rawCall(session, { path, body: [frame(Buffer.from("x"))] });
    assertGrpcStatus(res, StatusCode.UNIMPLEMENTED, path);
    assert.ok(res.trailersOnly, "trailers-only response");
    assert.is(res.headers["content-type"], "application/grpc");
    assert.ok(res.grpcMessage?.includes(path), `grpc-message names the path: ${res.grpcMessage}`);
    assert.is(res.body.length, 0);
    await assertStillServing(`unknown path ${path}`);
  });
}

serverSuite("an unsupported grpc-encoding gets UNIMPLEMENTED with grpc-accept-encoding", async () => {
  const before = seen.unaryCalls;
  const res = await rawCall(session, {
    path: "/test.Raw/Unary",
    headers: { "grpc-encoding": "snappy" },
    body: [frame(Buffer.from("not really snappy"), 1)],
  });
  assertGrpcStatus(res, StatusCode.UNIMPLEMENTED, "snappy");
  const accept = String(res.headers["grpc-accept-encoding"] ?? "")
    .split(",")
    .map((s) => s.trim())
    .sort();
  assert.equal(accept, ["deflate", "gzip", "identity"]);
  assert.ok(res.grpcMessage?.includes("snappy"), `grpc-message names the encoding: ${res.grpcMessage}`);
  assert.is(seen.unaryCalls, before, "the handler must not run");
  await assertStillServing("grpc-encoding snappy");
});

for (const timeout of ["abc", "123456789S", "", "S", "-1S", "1.5S", "10X", "1 S", "1s", "+1S", "1SS"]) {
  serverSuite(`an invalid grpc-timeout ${JSON.stringify(timeout)} gets an error status`, async () => {
    const before = seen.unaryCalls;
    const res = await rawCall(session, { path: "/test.Raw/Unary", headers: { "grpc-timeout": timeout }, body: [frame(Buffer.from("x"))] });
    assertErrorStatus(res, `grpc-timeout ${timeout}`);
    assert.is(seen.unaryCalls, before, "the handler must not run");
    await assertStillServing(`grpc-timeout ${JSON.stringify(timeout)}`);
  });
}

serverSuite("the longest valid grpc-timeout (99999999H) is a far deadline, not an expired one", async () => {
  // 99999999 hours is far beyond setTimeout's 2^31-1 ms ceiling; an unguarded timer
  // fires after 1 ms and fails the call with DEADLINE_EXCEEDED.
  seen.lastDeadlineRemaining = undefined;
  const res = await rawCall(session, { path: "/test.Raw/Deadline", headers: { "grpc-timeout": "99999999H" }, body: [frame(Buffer.from("s"))] });
  assertGrpcStatus(res, StatusCode.OK, "grpc-timeout 99999999H");
  assert.ok((seen.lastDeadlineRemaining ?? 0) > 3.5e11, `time remaining in seconds: ${seen.lastDeadlineRemaining}`);
  const res2 = await rawCall(session, { path: "/test.Raw/Deadline", headers: { "grpc-timeout": "3000000S" }, body: [frame(Buffer.from("s"))] });
  assertGrpcStatus(res2, StatusCode.OK, "grpc-timeout 3000000S (about 35 days)");
  await assertStillServing("a far deadline");
});

serverSuite("valid grpc-timeouts in every unit are honoured", async () => {
  for (const [timeout, low, high] of [
    ["20S", 19, 20],
    ["2M", 119, 120],
    ["1H", 3599, 3600],
    ["30000m", 29, 30],
    ["30000000u", 29, 30],
    ["99999999n", 0, 0.1], // 0.1 s in nanoseconds
  ] as const) {
    seen.lastDeadlineRemaining = undefined;
    const res = await rawCall(session, { path: "/test.Raw/Deadline", headers: { "grpc-timeout": timeout }, body: [frame(Buffer.from("x"))] });
    assertGrpcStatus(res, StatusCode.OK, `grpc-timeout ${timeout}`);
    const remaining = seen.lastDeadlineRemaining ?? -1;
    assert.ok(remaining >= low && remaining <= high, `grpc-timeout ${timeout}: time remaining ${remaining} s, expected ${low}..${high}`);
  }
});

serverSuite("a short grpc-timeout expires: DEADLINE_EXCEEDED, and the handler's signal aborts", async () => {
  const aborted = seen.slowAborted;
  const t0 = Date.now();
  const res = await rawCall(session, { path: "/test.Raw/Slow", headers: { "grpc-timeout": "100m" }, body: [frame(Buffer.from("x"))] });
  assertGrpcStatus(res, StatusCode.DEADLINE_EXCEEDED, "grpc-timeout 100m");
  assert.ok(Date.now() - t0 < 2000, "the deadline, not the handler's 3 s sleep, ended the call");
  await within(2000, "handler signal", (async () => {
    while (seen.slowAborted === aborted) await sleep(5);
  })());
  await assertStillServing("an expired deadline");
});

serverSuite("a compressed flag without grpc-encoding gets INTERNAL", async () => {
  const before = seen.unaryCalls;
  const res = await rawCall(session, { path: "/test.Raw/Unary", body: [frame(Buffer.from("x"), 1)] });
  assertGrpcStatus(res, StatusCode.INTERNAL, "flag 1, no encoding");
  const res2 = await rawCall(session, { path: "/test.Raw/Unary", headers: { "grpc-encoding": "identity" }, body: [frame(Buffer.from("x"), 1)] });
  assertGrpcStatus(res2, StatusCode.INTERNAL, "flag 1, grpc-encoding identity");
  const res3 = await rawCall(session, { path: "/test.Raw/Unary", body: [frame(Buffer.from("x"), 2)] });
  assertGrpcStatus(res3, StatusCode.INTERNAL, "flag 2");
  assert.is(seen.unaryCalls, before, "the handler must not run");
  await assertStillServing("a bad compressed flag");
});

serverSuite("a declared length above the receive limit gets RESOURCE_EXHAUSTED before the body arrives", async () => {
  const before = seen.unaryCalls;
  const external = process.memoryUsage().arrayBuffers;
  // Only the prefix is sent and the stream is left open: an answer proves the server
  // judged the length without waiting for (or allocating) 1 GiB.
  const res = await rawCall(session, { path: "/test.Raw/Unary", body: [prefix(1024 * MiB)], end: false });
  assertGrpcStatus(res, StatusCode.RESOURCE_EXHAUSTED, "1 GiB prefix");
  assert.ok(res.grpcMessage !== undefined && res.grpcMessage.length > 0, "grpc-message explains");
  assert.ok(process.memoryUsage().arrayBuffers - external < 64 * MiB, "no large buffer was allocated");
  // Just over the default 4 MiB, on a streaming method, also with the prefix only.
  const res2 = await rawCall(session, { path: "/test.Raw/Collect", body: [frame(Buffer.from("a")), prefix(4 * MiB + 1)], end: false });
  assertGrpcStatus(res2, StatusCode.RESOURCE_EXHAUSTED, "4 MiB + 1 prefix on a client stream");
  assert.is(seen.unaryCalls, before, "the handler must not run");
  await assertStillServing("an oversize declared length");
});

serverSuite("a message of exactly the receive limit (4 MiB) is accepted", async () => {
  const payload = Buffer.alloc(4 * MiB, 7);
  const res = await rawCall(session, { path: "/test.Raw/Collect", body: [frame(payload)] });
  assertGrpcStatus(res, StatusCode.OK, "4 MiB message");
  const [echo] = messagesOf(res.body);
  assert.is(echo?.length, 4 * MiB);
});

serverSuite("a request stream ending mid-message gets INTERNAL", async () => {
  const before = seen.unaryCalls;
  const truncated = frame(Buffer.alloc(100, 1)).subarray(0, 40);
  const res = await rawCall(session, { path: "/test.Raw/Unary", body: [truncated] });
  assertGrpcStatus(res, StatusCode.INTERNAL, "unary: truncated body");
  const res2 = await rawCall(session, { path: "/test.Raw/Unary", body: [Buffer.from([0, 0, 0])] });
  assertGrpcStatus(res2, StatusCode.INTERNAL, "unary: truncated prefix");
  const res3 = await rawCall(session, { path: "/test.Raw/Collect", body: [frame(Buffer.from("whole")), truncated] });
  assertGrpcStatus(res3, StatusCode.INTERNAL, "client stream: truncated last message");
  assert.is(seen.unaryCalls, before, "the handler must not run");
  await assertStillServing("a truncated message");
});

serverSuite("a unary-request method given two messages, or none, gets UNIMPLEMENTED (statuscodes.md)", async () => {
  const before = seen.unaryCalls;
  const two = await rawCall(session, { path: "/test.Raw/Unary", body: [Buffer.concat([frame(Buffer.from("a")), frame(Buffer.from("b"))])] });
  assertGrpcStatus(two, StatusCode.UNIMPLEMENTED, "two messages, one chunk");
  const twoChunks = await rawCall(session, { path: "/test.Raw/Unary", body: [frame(Buffer.from("a")), frame(Buffer.from("b"))] });
  assertGrpcStatus(twoChunks, StatusCode.UNIMPLEMENTED, "two messages, two chunks");
  const stream = await rawCall(session, { path: "/test.Raw/Stream", body: [frame(Buffer.from("a")), frame(Buffer.from("b"))] });
  assertGrpcStatus(stream, StatusCode.UNIMPLEMENTED, "server-streaming method, two requests");
  const none = await rawCall(session, { path: "/test.Raw/Unary", body: [] });
  assertGrpcStatus(none, StatusCode.UNIMPLEMENTED, "unary method, no message");
  const streamNone = await rawCall(session, { path: "/test.Raw/Stream", body: [] });
  assertGrpcStatus(streamNone, StatusCode.UNIMPLEMENTED, "server-streaming method, no message");
  assert.is(seen.unaryCalls, before, "the handler must not run");
  await assertStillServing("a wrong message count");
});

serverSuite("a malformed protobuf for a typed method gets INTERNAL", async () => {
  const good = toBinary(EchoRequestSchema, create(EchoRequestSchema, { message: "typed" }));
  const ok = await rawCall(session, { path: "/testing.Echo/Unary", body: [frame(good)] });
  assertGrpcStatus(ok, StatusCode.OK, "typed baseline");
  for (const bad of [
    Buffer.from([0x0a, 0x05, 0x61]), // field 1, length 5, one byte present
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // varint tag too long
    Buffer.from([0x0f]), // wire type 7 does not exist
  ]) {
    const res = await rawCall(session, { path: "/testing.Echo/Unary", body: [frame(bad)] });
    assertGrpcStatus(res, StatusCode.INTERNAL, `malformed ${bad.toString("hex")}`);
  }
  await assertStillServing("a malformed protobuf");
});

/** gzip (or zlib "deflate") of `total` zero bytes, made chunk by chunk so the test itself stays small. */
async function gzipZeros(total: number, format: "gzip" | "deflate" = "gzip"): Promise<Buffer> {
  const gz = format === "gzip" ? createGzip({ level: 9 }) : createDeflate({ level: 9 });
  const out: Buffer[] = [];
  gz.on("data", (c: Buffer) => out.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    gz.on("end", resolve);
    gz.on("error", reject);
  });
  const chunk = Buffer.alloc(MiB);
  for (let written = 0; written < total; written += chunk.length) {
    if (!gz.write(chunk)) await new Promise((r) => gz.once("drain", r));
  }
  gz.end();
  await finished;
  return Buffer.concat(out);
}

serverSuite("a gzip bomb gets RESOURCE_EXHAUSTED and does not balloon memory", async () => {
  const before = seen.unaryCalls;
  const bomb = await gzipZeros(100 * MiB);
  assert.ok(bomb.length < 4 * MiB, `the bomb itself fits the limit (${bomb.length} bytes)`);
  const small = await gzipZeros(MiB); // sanity: a compressed message within the limit works
  const okRes = await rawCall(session, { path: "/test.Raw/Collect", headers: { "grpc-encoding": "gzip" }, body: [frame(small, 1)] });
  assertGrpcStatus(okRes, StatusCode.OK, "1 MiB of gzip'd zeros");
  assert.is(messagesOf(okRes.body)[0]?.length, MiB);

  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const rssBefore = process.memoryUsage().rss;
  const res = await rawCall(session, { path: "/test.Raw/Unary", headers: { "grpc-encoding": "gzip" }, body: [frame(bomb, 1)] });
  assertGrpcStatus(res, StatusCode.RESOURCE_EXHAUSTED, "100 MB gzip bomb");
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
  const rssGrowth = process.memoryUsage().rss - rssBefore;
  assert.ok(peakGrowth < 64 * MiB, `peak RSS grew by ${(peakGrowth / MiB).toFixed(1)} MiB`);
  assert.ok(rssGrowth < 64 * MiB, `RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);
  assert.is(seen.unaryCalls, before, "the handler must not run");
  await assertStillServing("a gzip bomb");
});

serverSuite("a deflate bomb gets RESOURCE_EXHAUSTED too", async () => {
  const bomb = await gzipZeros(100 * MiB, "deflate");
  const small = await gzipZeros(MiB, "deflate");
  const okRes = await rawCall(session, { path: "/test.Raw/Collect", headers: { "grpc-encoding": "deflate" }, body: [frame(small, 1)] });
  assertGrpcStatus(okRes, StatusCode.OK, "1 MiB of deflated zeros");
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const res = await rawCall(session, { path: "/test.Raw/Unary", headers: { "grpc-encoding": "deflate" }, body: [frame(bomb, 1)] });
  assertGrpcStatus(res, StatusCode.RESOURCE_EXHAUSTED, "100 MB deflate bomb");
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
  assert.ok(peakGrowth < 64 * MiB, `peak RSS grew by ${(peakGrowth / MiB).toFixed(1)} MiB`);
  await assertStillServing("a deflate bomb");
});

serverSuite("invalid metadata from the client is dropped, not fatal", async () => {
  const res = await rawCall(session, {
    path: "/test.Raw/Unary",
    headers: { "x-bad-bin": "!!!not base64!!!", "x-good": "fine", "x-good-bin": "AAEC" },
    body: [frame(Buffer.from("md"))],
  });
  assertGrpcStatus(res, StatusCode.OK, "bad -bin value");
  await assertStillServing("invalid metadata");
});

serverSuite("corrupt gzip data gets INTERNAL", async () => {
  const res = await rawCall(session, { path: "/test.Raw/Unary", headers: { "grpc-encoding": "gzip" }, body: [frame(Buffer.from("definitely not gzip"), 1)] });
  assertGrpcStatus(res, StatusCode.INTERNAL, "corrupt gzip");
  await assertStillServing("corrupt gzip");
});

serverSuite("a client that resets mid-request leaves the server serving", async () => {
  const stream = session.request({ ":method": "POST", ":path": "/test.Raw/Collect", "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => {});
  stream.write(frame(Buffer.from("partial")));
  stream.write(frame(Buffer.alloc(1000)).subarray(0, 100));
  await sleep(20);
  stream.close(NGHTTP2_CANCEL);
  await within(2000, "reset stream closes", new Promise((r) => stream.once("close", r)));
  await assertStillServing("a client reset");
});

serverSuite("many bad requests in a row on one connection do not wear it out", async () => {
  for (let i = 0; i < 50; i++) {
    const res = await rawCall(session, { path: "/test.Raw/Unary", body: [frame(Buffer.from("x"), 1)] });
    assertGrpcStatus(res, StatusCode.INTERNAL, `bad request #${i}`);
  }
  await assertStillServing("50 bad requests");
});

serverSuite.run();

// ---- the client under test, against a raw HTTP/2 server -----------------------------------

const clientSuite = suite("protocol errors: client");
let rawServer: Http2Server;
let rawSessions: Set<ServerHttp2Session>;
let rawSessionCount = 0;
let channel: Channel;
let smallChannel: Channel;

type Behavior = (stream: ServerHttp2Stream) => void;

function grpcHeaders(): OutgoingHttpHeaders {
  return { ":status": 200, "content-type": "application/grpc" };
}

function withTrailers(stream: ServerHttp2Stream, trailers: OutgoingHttpHeaders, body: Buffer[]): void {
  stream.respond(grpcHeaders(), { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers(trailers));
  for (const b of body) stream.write(b);
  stream.end();
}

const behaviors: Record<string, Behavior> = {
  "/raw.Svc/Ok": (s) => withTrailers(s, { "grpc-status": "0" }, [frame(Buffer.from("fine"))]),
  "/raw.Svc/Http404": (s) => {
    s.respond({ ":status": 404, "content-type": "text/plain" });
    s.end("not found");
  },
  "/raw.Svc/Http503": (s) => {
    s.respond({ ":status": 503, "content-type": "text/plain" });
    s.end("unavailable");
  },
  "/raw.Svc/Http429": (s) => {
    s.respond({ ":status": 429 });
    s.end();
  },
  "/raw.Svc/Http401": (s) => {
    s.respond({ ":status": 401 });
    s.end();
  },
  "/raw.Svc/Http500": (s) => {
    s.respond({ ":status": 500 });
    s.end();
  },
  // A proxy or server may answer with another HTTP status but a gRPC status in a
  // trailers-only response; the grpc-status wins (http-grpc-status-mapping.md).
  "/raw.Svc/Http503TrailersOnly": (s) =>
    s.respond({ ":status": 503, "content-type": "application/grpc", "grpc-status": "7", "grpc-message": "go away" }, { endStream: true }),
  "/raw.Svc/GrpcWeb": (s) => {
    s.respond({ ":status": 200, "content-type": "application/grpc-web+proto" }, { waitForTrailers: true });
    s.once("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.end(frame(Buffer.from("fine")));
  },
  "/raw.Svc/Html": (s) => {
    s.respond({ ":status": 200, "content-type": "text/html; charset=utf-8" });
    s.end("<html><body>a captive portal</body></html>");
  },
  "/raw.Svc/NoContentType": (s) => {
    s.respond({ ":status": 200 });
    s.end();
  },
  "/raw.Svc/NoStatus": (s) => withTrailers(s, { "x-something": "else" }, [frame(Buffer.from("fine"))]),
  "/raw.Svc/NoStatusNoMessage": (s) => withTrailers(s, { "x-something": "else" }, []),
  "/raw.Svc/BadStatus": (s) => withTrailers(s, { "grpc-status": "zero" }, [frame(Buffer.from("fine"))]),
  "/raw.Svc/NoTrailers": (s) => {
    s.respond(grpcHeaders());
    s.end(frame(Buffer.from("fine")));
  },
  "/raw.Svc/OkNoMessage": (s) => withTrailers(s, { "grpc-status": "0" }, []),
  "/raw.Svc/TrailersOnlyOk": (s) => s.respond({ ...grpcHeaders(), "grpc-status": "0" }, { endStream: true }),
  "/raw.Svc/TwoMessages": (s) => withTrailers(s, { "grpc-status": "0" }, [frame(Buffer.from("one")), frame(Buffer.from("two"))]),
  "/raw.Svc/Big": (s) => withTrailers(s, { "grpc-status": "0" }, [frame(Buffer.alloc(2048, 1))]),
  "/raw.Svc/Exactly1024": (s) => withTrailers(s, { "grpc-status": "0" }, [frame(Buffer.alloc(1024, 1))]),
  "/raw.Svc/BigDeclared": (s) => {
    // Headers and a prefix declaring 1 GiB, then nothing: the client must give up on
    // the prefix alone (and reset the stream, which ends this one).
    s.respond(grpcHeaders());
    s.write(prefix(1024 * MiB));
  },
  "/raw.Svc/Truncated": (s) => withTrailers(s, { "grpc-status": "0" }, [frame(Buffer.alloc(100)).subarray(0, 50)]),
  "/raw.Svc/CompressedNoEncoding": (s) => withTrailers(s, { "grpc-status": "0" }, [frame(Buffer.from("x"), 1)]),
  "/raw.Svc/GzipOk": (s) => {
    s.respond({ ...grpcHeaders(), "grpc-encoding": "gzip" }, { waitForTrailers: true });
    s.once("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.end(frame(gzipSync(Buffer.from("fine, compressed")), 1));
  },
  "/raw.Svc/GzipBomb": (s) => {
    s.respond({ ...grpcHeaders(), "grpc-encoding": "gzip" }, { waitForTrailers: true });
    s.once("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    void gzipZeros(100 * MiB).then((bomb) => s.end(frame(bomb, 1)));
  },
  "/raw.Svc/UnknownEncoding": (s) => {
    s.respond({ ...grpcHeaders(), "grpc-encoding": "snappy" }, { waitForTrailers: true });
    s.once("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.end(frame(Buffer.from("x"), 1));
  },
  "/raw.Svc/RstCancel": (s) => s.close(NGHTTP2_CANCEL),
  "/raw.Svc/RstRefused": (s) => s.close(NGHTTP2_REFUSED_STREAM),
  "/raw.Svc/RstCalm": (s) => s.close(NGHTTP2_ENHANCE_YOUR_CALM),
  "/raw.Svc/RstInternal": (s) => s.close(NGHTTP2_INTERNAL_ERROR),
  "/raw.Svc/RstCancelAfterHeaders": (s) => {
    // waitForTrailers keeps Node from sending END_STREAM before the RST_STREAM.
    s.respond(grpcHeaders(), { waitForTrailers: true });
    s.write(frame(Buffer.from("partial")));
    setTimeout(() => s.close(NGHTTP2_CANCEL), 10);
  },
  "/raw.Svc/RstNoError": (s) => {
    s.respond(grpcHeaders(), { waitForTrailers: true });
    setTimeout(() => s.close(http2.constants.NGHTTP2_NO_ERROR), 10);
  },
};

clientSuite.before(async () => {
  rawSessions = new Set();
  rawServer = http2.createServer();
  rawServer.on("session", (s: ServerHttp2Session) => {
    rawSessionCount++;
    rawSessions.add(s);
    s.on("error", () => {});
    s.once("close", () => rawSessions.delete(s));
  });
  rawServer.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on("error", () => {});
    // Read the request so that flow control never gets in the way.
    stream.resume();
    const behavior = behaviors[String(headers[":path"])];
    if (behavior) behavior(stream);
    else stream.respond({ ":status": 404 }, { endStream: true });
  });
  await new Promise<void>((resolve) => rawServer.listen(0, "127.0.0.1", resolve));
  const address = rawServer.address();
  const port = typeof address === "object" && address ? address.port : 0;
  channel = insecureChannel(`127.0.0.1:${port}`);
  smallChannel = insecureChannel(`127.0.0.1:${port}`, { options: { "grpc.max_receive_message_length": 1024 } });
});

clientSuite.after(async () => {
  await channel.close();
  await smallChannel.close();
  for (const s of rawSessions) s.destroy();
  await new Promise<void>((resolve) => rawServer.close(() => resolve()));
  await assertNoLeaks();
});

const unary = (ch: Channel, path: string) => ch.unaryUnary(`/raw.Svc/${path}`)(Buffer.from("req"), { timeoutMs: 5000 });

/** Runs `path` as a unary call and as a server-streaming call; both must fail with `code`. */
async function expectBoth(path: string, code: StatusCode, ch: Channel = channel): Promise<RpcError> {
  const err = await expectStatus(unary(ch, path), code);
  const streamCall = ch.unaryStream(`/raw.Svc/${path}`)(Buffer.from("req"), { timeoutMs: 5000 });
  await expectStatus(
    (async () => {
      for await (const _ of streamCall) {
        // Messages before the failure are allowed; the loop must still throw.
      }
    })(),
    code,
  );
  assert.is(StatusCode[await streamCall.code()], StatusCode[code], "streaming call's code()");
  return err;
}

/** The channel still works on the same connection (no reconnect happened). */
async function assertChannelHealthy(ch: Channel = channel): Promise<void> {
  const sessionsBefore = rawSessionCount;
  const reply = await unary(ch, "Ok");
  assert.is(Buffer.from(reply).toString(), "fine");
  assert.is(rawSessionCount, sessionsBefore, "the good call reused the connection");
}

clientSuite("baseline: a well-formed response succeeds", async () => {
  // The first calls open each channel's one connection.
  assert.is(Buffer.from(await unary(channel, "Ok")).toString(), "fine");
  assert.is(Buffer.from(await unary(smallChannel, "Ok")).toString(), "fine");
  assert.is(rawSessionCount, 2, "one connection per channel");
  await assertChannelHealthy();
  const call = unary(channel, "Ok");
  await call;
  assert.is(await call.code(), StatusCode.OK);
});

for (const [path, code] of [
  ["Http404", StatusCode.UNIMPLEMENTED],
  ["Http503", StatusCode.UNAVAILABLE],
  ["Http429", StatusCode.UNAVAILABLE],
  ["Http401", StatusCode.UNAUTHENTICATED],
  ["Http500", StatusCode.UNKNOWN],
] as const) {
  clientSuite(`HTTP ${path.slice(4)} becomes ${StatusCode[code]}`, async () => {
    const err = await expectBoth(path, code);
    assert.ok(err.details.includes(path.slice(4)), `details name the HTTP status: ${err.details}`);
    await assertChannelHealthy();
  });
}

clientSuite("HTTP 200 with a text/html content-type is an error, not a response", async () => {
  const err = await expectBoth("Html", StatusCode.UNKNOWN);
  assert.ok(err.details.includes("text/html"), `details name the content-type: ${err.details}`);
  await expectBoth("NoContentType", StatusCode.UNKNOWN);
  await assertChannelHealthy();
});

clientSuite("trailers without grpc-status are an error, never a silent OK", async () => {
  for (const path of ["NoStatus", "NoStatusNoMessage", "BadStatus", "NoTrailers"]) {
    const call = unary(channel, path);
    let resolved: unknown = undefined;
    let error: unknown;
    try {
      resolved = await call;
    } catch (err) {
      error = err;
    }
    assert.is(resolved, undefined, `${path}: must not resolve a value`);
    assert.ok(error instanceof RpcError, `${path}: rejects with an RpcError`);
    assert.ok(error.code !== StatusCode.OK, `${path}: non-OK`);
    assert.is.not(await call.code(), StatusCode.OK, `${path}: code()`);
    const streamCall = channel.unaryStream(`/raw.Svc/${path}`)(Buffer.from("req"), { timeoutMs: 5000 });
    let streamError: unknown;
    try {
      for await (const _ of streamCall) {
        // The message may arrive; the end must still be an error.
      }
    } catch (err) {
      streamError = err;
    }
    assert.ok(streamError instanceof RpcError && streamError.code !== StatusCode.OK, `${path}: streaming call ends in an error`);
  }
  await assertChannelHealthy();
});

clientSuite("a unary-response call given OK with no message, or two messages, is UNIMPLEMENTED (statuscodes.md)", async () => {
  await expectStatus(unary(channel, "OkNoMessage"), StatusCode.UNIMPLEMENTED);
  await expectStatus(unary(channel, "TrailersOnlyOk"), StatusCode.UNIMPLEMENTED);
  await expectStatus(unary(channel, "TwoMessages"), StatusCode.UNIMPLEMENTED);
  const clientStreaming = (path: string) => channel.streamUnary(`/raw.Svc/${path}`)([Buffer.from("a"), Buffer.from("b")], { timeoutMs: 5000 });
  await expectStatus(clientStreaming("OkNoMessage"), StatusCode.UNIMPLEMENTED);
  await expectStatus(clientStreaming("TwoMessages"), StatusCode.UNIMPLEMENTED);
  await assertChannelHealthy();
});

clientSuite("a non-200 trailers-only response takes its grpc-status; a grpc-web response is refused", async () => {
  const err = await expectBoth("Http503TrailersOnly", StatusCode.PERMISSION_DENIED);
  assert.is(err.details, "go away");
  await expectBoth("GrpcWeb", StatusCode.UNKNOWN);
  await assertChannelHealthy();
});

clientSuite("a response above grpc.max_receive_message_length gets RESOURCE_EXHAUSTED", async () => {
  const exact = await unary(smallChannel, "Exactly1024");
  assert.is(exact.byteLength, 1024);
  await expectBoth("Big", StatusCode.RESOURCE_EXHAUSTED, smallChannel);
  const external = process.memoryUsage().arrayBuffers;
  await expectStatus(unary(channel, "BigDeclared"), StatusCode.RESOURCE_EXHAUSTED);
  assert.ok(process.memoryUsage().arrayBuffers - external < 64 * MiB, "no buffer of the declared size was allocated");
  await assertChannelHealthy(smallChannel);
  await assertChannelHealthy();
});

clientSuite("a compressed response bomb gets RESOURCE_EXHAUSTED", async () => {
  assert.is(Buffer.from(await unary(channel, "GzipOk")).toString(), "fine, compressed", "a gzip response within the limit works");
  await expectStatus(unary(channel, "GzipBomb"), StatusCode.RESOURCE_EXHAUSTED);
  await assertChannelHealthy();
});

clientSuite("a truncated response, a compressed flag without encoding, an unknown encoding: INTERNAL", async () => {
  await expectBoth("Truncated", StatusCode.INTERNAL);
  await expectBoth("CompressedNoEncoding", StatusCode.INTERNAL);
  await expectBoth("UnknownEncoding", StatusCode.INTERNAL);
  await assertChannelHealthy();
});

for (const [path, code] of [
  ["RstCancel", StatusCode.CANCELLED],
  ["RstRefused", StatusCode.UNAVAILABLE],
  ["RstCalm", StatusCode.RESOURCE_EXHAUSTED],
  ["RstInternal", StatusCode.INTERNAL],
  ["RstCancelAfterHeaders", StatusCode.CANCELLED],
  ["RstNoError", StatusCode.INTERNAL],
] as const) {
  clientSuite(`RST_STREAM ${path.slice(3)} becomes ${StatusCode[code]}`, async () => {
    await expectBoth(path, code);
    await assertChannelHealthy();
  });
}

clientSuite("every bad response leaves the one connection in use", async () => {
  assert.is(rawSessionCount, 2, "one connection per channel, none re-made");
});

clientSuite.run();
