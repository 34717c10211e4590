// A server call that has decided its status leaves the server's books even when its
// client is still sending: what is buffered is dropped, the stream flows, and a client
// that never half-closes is reset after the trailers.
import * as http2 from "node:http2";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  insecureChannel,
  methodHandlersGenericHandler,
  Metadata,
  StatusCode,
  streamUnaryRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type GenericRpcHandler,
  type ServerInterceptor,
  type ServicerContext,
} from "../../src/index.js";
import { assertNoLeaks, eventually, expectStatus, grpcFrame, sleep, startServer } from "../helpers.js";

const KiB = 1024;
const test = suite("call lifecycle");


// Each reads one request with context.read(), then ends the call its own way while
// the client is still sending.
const quitters = {
  Throws: streamUnaryRpcMethodHandler(async (_requests, context: ServicerContext) => {
    await context.read();
    throw new Error("the handler gave up");
  }),
  Aborts: streamUnaryRpcMethodHandler(async (_requests, context: ServicerContext) => {
    await context.read();
    context.abort(StatusCode.FAILED_PRECONDITION, "no more");
  }),
  Expires: streamUnaryRpcMethodHandler(async (_requests, context: ServicerContext) => {
    await context.read();
    await sleep(5000, context.signal);
    return new Uint8Array();
  }),
  Answers: streamUnaryRpcMethodHandler(async (_requests, context: ServicerContext) => {
    await context.read();
    return new Uint8Array([1]);
  }),
  Unary: unaryUnaryRpcMethodHandler(async (request: Uint8Array) => request),
};

test("finished calls whose client is still sending leave the server; the concurrency limit recovers; stop() is prompt", async () => {
  const { server, target } = await startServer(
    (s) => s.addGenericRpcHandlers([methodHandlersGenericHandler("lc.Svc", quitters)]),
    { maximumConcurrentRpcs: 2 },
  );
  const channel = insecureChannel(target);
  const expected: [string, StatusCode, number?][] = [
    ["Throws", StatusCode.UNKNOWN],
    ["Aborts", StatusCode.FAILED_PRECONDITION],
    ["Expires", StatusCode.DEADLINE_EXCEEDED, 300],
    ["Answers", StatusCode.OK],
  ];
  for (const [method, code, timeoutMs] of expected) {
    const call = channel.streamUnary(`/lc.Svc/${method}`)(undefined, { timeoutMs: timeoutMs ?? 10_000 });
    // 40 x 64 KiB, not awaited and never half-closed: far more than the server buffers.
    for (let i = 0; i < 40; i++) void call.write(new Uint8Array(64 * KiB));
    assert.is(StatusCode[await call.code()], StatusCode[code], method);
  }
  // With a limit of 2, any call still counted would refuse this one.
  const ok = await channel.unaryUnary("/lc.Svc/Unary")(new Uint8Array([7]), { timeoutMs: 5000 });
  assert.equal([...ok], [7]);
  const t0 = Date.now();
  await server.stop(5);
  assert.ok(Date.now() - t0 < 2000, `stop(5) took ${Date.now() - t0} ms with no call in flight`);
  await channel.close();
  await assertNoLeaks();
});

test("a client that never half-closes gets the trailers, then RST_STREAM NO_ERROR", async () => {
  const { server, target } = await startServer((s) => s.addGenericRpcHandlers([methodHandlersGenericHandler("lc.Svc", quitters)]), {
    maximumConcurrentRpcs: 1,
  });
  const session = http2.connect(`http://${target}`);
  session.on("error", () => {});
  try {
    for (const method of ["Throws", "Answers"]) {
      const stream = session.request({ ":method": "POST", ":path": `/lc.Svc/${method}`, "content-type": "application/grpc", te: "trailers" });
      stream.on("error", () => {});
      stream.resume();
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
        stream.once("trailers", resolve);
        stream.once("response", (headers, flags) => {
          if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) resolve(headers);
        });
      });
      for (let i = 0; i < 8; i++) stream.write(grpcFrame(new Uint8Array(64 * KiB)));
      const closed = new Promise<void>((resolve) => stream.once("close", resolve));
      const status = await trailers;
      assert.is(status["grpc-status"], method === "Throws" ? String(StatusCode.UNKNOWN) : "0", method);
      await Promise.race([closed, sleep(3000)]);
      assert.ok(stream.closed, `${method}: the server closed the stream`);
      assert.is(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR, method);
    }
    // The session stays open: only the server closing the streams frees the one slot.
    const channel = insecureChannel(target);
    const ok = await channel.unaryUnary("/lc.Svc/Unary")(new Uint8Array([7]), { timeoutMs: 5000 });
    assert.equal([...ok], [7]);
    await channel.close();
    const t0 = Date.now();
    await server.stop(5);
    assert.ok(Date.now() - t0 < 2000, `stop(5) took ${Date.now() - t0} ms with no call in flight`);
  } finally {
    session.destroy();
  }
  await server.stop(null);
  await assertNoLeaks();
});

test("stop(grace): responses of calls that finish during the grace all reach the client", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started = 0;
  const { server, target } = await startServer((s) =>
    s.addGenericRpcHandlers([
      methodHandlersGenericHandler("lc.Svc", {
        Big: unaryUnaryRpcMethodHandler(async () => {
          started++;
          await gate;
          return new Uint8Array(8 * KiB).fill(9);
        }),
      }),
    ]),
  );
  const channel = insecureChannel(target);
  const calls = Array.from({ length: 1000 }, () => channel.unaryUnary("/lc.Svc/Big")(new Uint8Array(1), { timeoutMs: 10_000 }));
  const codes = calls.map((c) => c.code());
  await eventually(() => started === 1000, "every call to reach its handler", 10_000);
  const stopping = server.stop(5);
  release();
  const counts = (await Promise.all(codes)).reduce<Record<string, number>>((acc, c) => ({ ...acc, [StatusCode[c]]: (acc[StatusCode[c]] ?? 0) + 1 }), {});
  assert.equal(counts, { OK: 1000 });
  await stopping;
  await channel.close();
  await assertNoLeaks();
});

test("the concurrency limit holds across the interceptors' async gap", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slowInterceptor: ServerInterceptor = {
    async interceptService(continuation, details) {
      await sleep(30);
      return continuation(details);
    },
  };
  let running = 0;
  const { server, target } = await startServer(
    (s) =>
      s.addGenericRpcHandlers([
        methodHandlersGenericHandler("lc.Svc", {
          Hold: unaryUnaryRpcMethodHandler(async (request: Uint8Array) => {
            running++;
            await gate;
            return request;
          }),
        }),
      ]),
    { maximumConcurrentRpcs: 2, interceptors: [slowInterceptor] },
  );
  const channel = insecureChannel(target);
  const calls = Array.from({ length: 5 }, () => channel.unaryUnary("/lc.Svc/Hold")(new Uint8Array([1]), { timeoutMs: 5000 }));
  const codes = calls.map((c) => c.code());
  await eventually(() => running === 2, "two calls admitted");
  await sleep(100);
  assert.is(running, 2, "no more than the limit ran");
  release();
  const counts = (await Promise.all(codes)).reduce<Record<string, number>>((acc, c) => ({ ...acc, [StatusCode[c]]: (acc[StatusCode[c]] ?? 0) + 1 }), {});
  assert.equal(counts, { OK: 2, RESOURCE_EXHAUSTED: 3 });
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("generic handlers see the call's metadata when server interceptors are configured", async () => {
  let seen: string | undefined;
  const generic: GenericRpcHandler = {
    service(details) {
      seen = String(details.invocationMetadata.get("x-tenant"));
      return details.method === "/lc.Dyn/Echo" ? unaryUnaryRpcMethodHandler(async (r: Uint8Array) => r) : undefined;
    },
  };
  const passThrough: ServerInterceptor = { interceptService: (continuation, details) => continuation(details) };
  const { server, target } = await startServer((s) => s.addGenericRpcHandlers([generic]), { interceptors: [passThrough] });
  const channel = insecureChannel(target);
  await channel.unaryUnary("/lc.Dyn/Echo")(new Uint8Array([1]), { metadata: new Metadata({ "x-tenant": "acme" }), timeoutMs: 5000 });
  assert.is(seen, "acme");
  await expectStatus(channel.unaryUnary("/lc.Dyn/Nope")(new Uint8Array([1]), { timeoutMs: 5000 }), StatusCode.UNIMPLEMENTED);
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test.run();
