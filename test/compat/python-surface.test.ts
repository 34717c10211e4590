// The rest of gRPC Python's surface that the compat layer adds: intercept_channel and
// the Compression enum.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Compression, interceptChannel } from "../../src/compat/index.js";
import { Channel, ConnectivityState, createClient, insecureChannel, type ClientInterceptor } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, startServer, type Started } from "../helpers.js";

const test = suite("compat: gRPC Python surface");
let started: Started;

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      unary(request, context) {
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

test.run();
