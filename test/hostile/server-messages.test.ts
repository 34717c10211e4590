// Hostile request bodies against a running server: each case asserts the status, bounds
// the memory it costs, then a normal call on a new connection must succeed.
import { toBinary } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { StatusCode } from "../../src/index.js";
import { EchoRequestSchema } from "../gen/testing/echo_pb.js";
import { create } from "@bufbuild/protobuf";
import { gzipSync } from "node:zlib";
import { assertNoLeaks } from "../helpers.js";
import { assertHeapSinceMark, markHeap, gzipZeros, grpcFrame, KiB, MiB, normalCallSucceeds, prefix, rawCall, startTarget, withHeapBound } from "./harness.js";

const test = suite("hostile: request messages");
let target: Awaited<ReturnType<typeof startTarget>>;
const request = (message: string) => Buffer.from(toBinary(EchoRequestSchema, create(EchoRequestSchema, { message })));

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

function expectStatus(outcome: Awaited<ReturnType<typeof rawCall>>, code: StatusCode): void {
  assert.is(outcome.grpcStatus === undefined ? "none" : StatusCode[outcome.grpcStatus], StatusCode[code], `grpc-status (message: ${outcome.grpcMessage}, rst ${outcome.rstCode}, ${outcome.connectionError})`);
}

test("a length prefix of 4 GiB: RESOURCE_EXHAUSTED at once, nothing allocated for it", async () => {
  await withHeapBound(8 * MiB, async () => {
    const r = await rawCall(target.port, { body: [prefix(0xffffffff), Buffer.alloc(16 * KiB)], end: false, timeoutMs: 5000 });
    expectStatus(r, StatusCode.RESOURCE_EXHAUSTED);
  });
});

test("a message one byte over the receive limit: RESOURCE_EXHAUSTED, its bytes never buffered", async () => {
  await withHeapBound(8 * MiB, async () => {
    // The prefix alone decides: the 4 MiB + 1 that would follow are never sent.
    const r = await rawCall(target.port, { body: [prefix(4 * MiB + 1), Buffer.alloc(64 * KiB)], end: false, timeoutMs: 5000 });
    expectStatus(r, StatusCode.RESOURCE_EXHAUSTED);
    assert.match(r.grpcMessage ?? "", /4194305/);
  });
});

test("a gzip bomb (64 MiB of zeros in 64 KiB): RESOURCE_EXHAUSTED, inflation stops at the limit", async () => {
  const bomb = gzipZeros(64 * MiB);
  await withHeapBound(24 * MiB, async () => {
    const r = await rawCall(target.port, { headers: { "grpc-encoding": "gzip" }, body: [grpcFrame(bomb, true)] });
    expectStatus(r, StatusCode.RESOURCE_EXHAUSTED);
  });
});

test("many small compressed frames that each inflate to the limit: served one at a time, memory bounded", async () => {
  // A valid EchoRequest whose payload is zeros, just under the limit once inflated.
  const inflated = toBinary(EchoRequestSchema, create(EchoRequestSchema, { payload: new Uint8Array(4 * MiB - 16) }));
  const frame = grpcFrame(gzipSync(inflated), true);
  const before = target.handled.messages;
  await withHeapBound(48 * MiB, async (peak) => {
    const r = await rawCall(target.port, {
      path: "/testing.Echo/ClientStream",
      headers: { "grpc-encoding": "gzip" },
      body: Array.from({ length: 100 }, () => frame),
      timeoutMs: 60_000,
    });
    peak();
    expectStatus(r, StatusCode.OK);
  });
  assert.is(target.handled.messages - before, 100);
});

test("the compressed flag without grpc-encoding: INTERNAL", async () => {
  const r = await rawCall(target.port, { body: [grpcFrame(request("x"), true)] });
  expectStatus(r, StatusCode.INTERNAL);
});

test("an unknown grpc-encoding: UNIMPLEMENTED, naming what is accepted", async () => {
  const r = await rawCall(target.port, { headers: { "grpc-encoding": "zstd-9000" }, body: [grpcFrame(request("x"), true)] });
  expectStatus(r, StatusCode.UNIMPLEMENTED);
});

test("a frame truncated at the end of the stream: INTERNAL", async () => {
  const whole = grpcFrame(request("truncated"));
  const r = await rawCall(target.port, { body: [whole.subarray(0, whole.length - 3)] });
  expectStatus(r, StatusCode.INTERNAL);
});

test("bytes after the last message of a unary request: INTERNAL", async () => {
  const r = await rawCall(target.port, { body: [grpcFrame(request("x")), Buffer.from([0, 0, 0])] });
  expectStatus(r, StatusCode.INTERNAL);
});

test("two messages for a unary method: UNIMPLEMENTED (a cardinality violation)", async () => {
  const r = await rawCall(target.port, { body: [grpcFrame(request("a")), grpcFrame(request("b"))] });
  expectStatus(r, StatusCode.UNIMPLEMENTED);
});

test("no message for a unary method: UNIMPLEMENTED", async () => {
  const r = await rawCall(target.port, { body: [] });
  expectStatus(r, StatusCode.UNIMPLEMENTED);
});

test("a message that is not the method's protobuf: INTERNAL, the handler never runs", async () => {
  const calls = target.handled.calls;
  const r = await rawCall(target.port, { body: [grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))] });
  expectStatus(r, StatusCode.INTERNAL);
  assert.is(target.handled.calls, calls);
});

test.run();
