// The rest of gRPC Python's surface that the compat layer adds: intercept_channel, the
// Compression enum, and interceptors that answer calls themselves.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { answeredCall, Compression, interceptChannel } from "../../src/compat/index.js";
import { Channel, ConnectivityState, createClient, EOF, insecureChannel, Metadata, RpcError, StatusCode, type Call, type ClientInterceptor } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, startServer, type Started } from "../helpers.js";

const test = suite("compat: gRPC Python surface");
let started: Started;
let served = 0;

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      unary(request, context) {
        served++;
        return {
          message: `${context.invocationMetadata().getAll("x-order").join(">")} compressed=${context.requestCompressed()}`,
          payload: request.payload,
        };
      },
    }),
  );
});

test.after(async () => {
  await started.server.stop(null);
  await assertNoLeaks();
});

const tag =
  (name: string): ClientInterceptor =>
  (details, next) => {
    details.options.metadata.add("x-order", name);
    return next(details);
  };

test("interceptChannel wraps an existing channel: new interceptors outermost, the original untouched", async () => {
  const channel = insecureChannel(started.target, { interceptors: [tag("own")] });
  const wrapped = interceptChannel(channel, tag("a"), tag("b"));
  try {
    assert.ok(wrapped instanceof Channel);
    assert.is((await createClient(Echo, wrapped).unary({})).message, "a>b>own compressed=false");
    assert.is((await createClient(Echo, channel).unary({})).message, "own compressed=false");
    const twice = interceptChannel(wrapped, tag("outer"));
    assert.is((await createClient(Echo, twice).unary({})).message, "outer>a>b>own compressed=false");
    assert.is(wrapped.getState(), channel.getState());
  } finally {
    await wrapped.close();
  }
  assert.is(channel.getState(), ConnectivityState.SHUTDOWN, "closing the wrapper closes the channel");
});

test("Compression names are accepted wherever a compression name is", async () => {
  assert.equal(Compression, { NoCompression: "identity", Deflate: "deflate", Gzip: "gzip" });
  const channel = insecureChannel(started.target, { compression: Compression.Deflate });
  try {
    const client = createClient(Echo, channel);
    const payload = new Uint8Array(4096).fill(7);
    assert.match((await client.unary({ payload })).message, /compressed=true/);
    assert.match((await client.unary({ payload }, { compression: Compression.Gzip })).message, /compressed=true/);
    assert.match((await client.unary({ payload }, { compression: Compression.NoCompression })).message, /compressed=false/);
  } finally {
    await channel.close();
  }
});

test("an interceptor answers calls itself: a cache, a fake error, a fake stream", async () => {
  const cache = new Map<string, unknown>();
  const caching: ClientInterceptor = (details, next) => {
    if (details.kind !== "unary") return next(details);
    const key = JSON.stringify(details.request);
    if (cache.has(key)) return answeredCall(details, { response: cache.get(key), trailingMetadata: { "x-cache": "hit" } });
    const call = next(details) as Call & PromiseLike<unknown>;
    call.then((response) => cache.set(key, response), () => {});
    return call;
  };
  const faking: ClientInterceptor = (details, next) => {
    if (details.method.endsWith("/ClientStream")) return answeredCall(details, { error: new RpcError(StatusCode.UNAVAILABLE, "faked", { trailingMetadata: new Metadata({ "x-fake": "1" }) }) });
    if (details.method.endsWith("/ServerStream")) return answeredCall(details, { responses: [{ index: 1 }, { index: 2 }], error: new RpcError(StatusCode.ABORTED, "then failed") });
    return next(details);
  };
  const channel = insecureChannel(started.target, { interceptors: [faking, caching] });
  try {
    const client = createClient(Echo, channel);
    const before = served;
    const first = await client.unary({ message: "q" });
    const call = client.unary({ message: "q" });
    const second = await call;
    assert.is(served, before + 1, "the second call never reached the server");
    assert.is(second, first);
    assert.is(await call.code(), StatusCode.OK);
    assert.is((await call.trailingMetadata()).get("x-cache"), "hit");
    assert.ok(call.done());
    let ran = false;
    call.addDoneCallback(() => (ran = true));
    assert.ok(ran);

    const failing = client.clientStream([{ message: "dropped" }]);
    try {
      await failing;
      assert.unreachable();
    } catch (err) {
      assert.ok(err instanceof RpcError && err.code === StatusCode.UNAVAILABLE && err.details === "faked");
    }
    assert.is((await failing.trailingMetadata()).get("x-fake"), "1");
    await failing.write({});

    const stream = client.serverStream({});
    assert.is(((await stream.read()) as { index: number }).index, 1);
    assert.is(((await stream.read()) as { index: number }).index, 2);
    try {
      await stream.read();
      assert.unreachable();
    } catch (err) {
      assert.ok(err instanceof RpcError && err.code === StatusCode.ABORTED);
    }
    const ok = answeredCall({ method: "/x/Y", kind: "bidi_streaming", request: undefined, options: { metadata: new Metadata() } }, { responses: [] });
    assert.is(await (ok as unknown as { read(): Promise<unknown> }).read(), EOF);
    assert.throws(() => answeredCall({ method: "/x/Y", kind: "unary", request: {}, options: { metadata: new Metadata() } }, { responses: [] }), /response/);
  } finally {
    await channel.close();
  }
});

test.run();
