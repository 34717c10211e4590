import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, type Channel } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, startServer, type Started } from "../helpers.js";

const test = suite("compression");
let started: Started;
let gzipServer: Started;
let channel: Channel;
const seen: boolean[] = [];
const big = "compressible ".repeat(2000);

test.before(async () => {
  const impl = {
    async unary(request: { message: string }, context: { requestCompressed(): boolean; setCompression(a: string): void }) {
      seen.push(context.requestCompressed());
      if (request.message.startsWith("compress:")) context.setCompression(request.message.slice(9));
      return { message: big };
    },
    async clientStream(requests: AsyncIterable<{ message: string }>, context: { requestCompressed(): boolean }) {
      for await (const _ of requests) seen.push(context.requestCompressed());
      return { message: "ok" };
    },
    async *serverStream(_request: unknown, context: { setCompression(a: string): void; disableNextMessageCompression(): void }) {
      context.setCompression("gzip");
      yield { message: big, index: 0 };
      context.disableNextMessageCompression();
      yield { message: big, index: 1 };
      yield { message: big, index: 2 };
    },
  };
  started = await startServer((s) => s.addService(Echo, impl));
  gzipServer = await startServer((s) => s.addService(Echo, impl), { compression: "gzip" });
  channel = insecureChannel(started.target);
});

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  await gzipServer.server.stop(null);
  await assertNoLeaks();
});

test("per-call request compression (gzip, deflate) reaches the server compressed; identity does not", async () => {
  const client = createClient(Echo, channel);
  seen.length = 0;
  for (const compression of ["gzip", "deflate", "identity"]) await client.unary({ message: big }, { compression });
  await client.unary({ message: big });
  assert.equal(seen, [true, true, false, false]);
});

test("a channel default compression applies to every call", async () => {
  const gz = insecureChannel(started.target, { compression: "gzip" });
  seen.length = 0;
  const reply = await createClient(Echo, gz).unary({ message: big });
  assert.is(reply.message, big);
  assert.equal(seen, [true]);
  await gz.close();
});

test("per-message control: write(m, { compress: false }) sends that one uncompressed", async () => {
  const client = createClient(Echo, channel);
  seen.length = 0;
  const call = client.clientStream(undefined, { compression: "gzip" });
  await call.write({ message: big });
  await call.write({ message: big }, { compress: false });
  await call.write({ message: big });
  await call.doneWriting();
  await call;
  assert.equal(seen, [true, false, true]);
});

test("context.setCompression compresses responses; disableNextMessageCompression skips one", async () => {
  const client = createClient(Echo, channel);
  const call = client.unary({ message: "compress:gzip" });
  assert.is((await call).message, big);
  assert.ok(call.responseCompressed());
  const plain = client.unary({ message: "plain" });
  await plain;
  assert.not.ok(plain.responseCompressed());
  const stream = client.serverStream({});
  const flags: boolean[] = [];
  for await (const m of stream) {
    assert.is(m.message, big);
    flags.push(stream.responseCompressed());
  }
  assert.equal(flags, [true, false, true]);
});

test("a server default compression is used only for clients that accept it", async () => {
  const ch = insecureChannel(gzipServer.target);
  const call = createClient(Echo, ch).unary({ message: "x" });
  assert.is((await call).message, big);
  assert.ok(call.responseCompressed());
  await ch.close();
});

test("an unknown compression name is refused up front", () => {
  const client = createClient(Echo, channel);
  assert.throws(() => client.unary({}, { compression: "snappy" }), /Unsupported compression snappy/);
  assert.throws(() => insecureChannel(started.target, { compression: "lz4" }), /Unsupported compression lz4/);
});

test.run();
