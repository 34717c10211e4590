import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, EOF, insecureChannel, methodHandlersGenericHandler, StatusCode, streamUnaryRpcMethodHandler, type Channel } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, rejects, sleep, startServer, type Started } from "../helpers.js";

const test = suite("streaming");
let started: Started;
let channel: Channel;
const serverState = { streamAborted: false, produced: 0, clientStreamSeen: [] as string[] };

test.before(async () => {
  started = await startServer((server) =>
    server.addService(Echo, {
      async *serverStream(request, context) {
        serverState.produced = 0;
        for (let i = 0; i < request.count; i++) {
          if (request.delayMs) await sleep(request.delayMs, context.signal).catch(() => undefined);
          if (context.signal.aborted) {
            serverState.streamAborted = true;
            return;
          }
          serverState.produced++;
          yield { message: request.message, index: i };
        }
        if (request.message === "fail-after") context.abort(StatusCode.DATA_LOSS, "after the messages");
      },
      async clientStream(requests, context) {
        const seen: string[] = [];
        for await (const r of requests) seen.push(r.message);
        serverState.clientStreamSeen = seen;
        context.setTrailingMetadata({ "x-count": String(seen.length) });
        return { message: seen.join(","), index: seen.length };
      },
      async *bidi(requests) {
        let i = 0;
        for await (const r of requests) {
          if (r.message === "stop") return;
          yield { message: `re:${r.message}`, index: i++ };
        }
      },
    }),
  );
  channel = insecureChannel(started.target);
});

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  await assertNoLeaks();
});

test("server streaming: iterate all messages, then the status", async () => {
  const client = createClient(Echo, channel);
  const call = client.serverStream({ message: "m", count: 50 });
  const got: number[] = [];
  for await (const r of call) got.push(r.index);
  assert.equal(got, Array.from({ length: 50 }, (_, i) => i));
  assert.is(await call.code(), StatusCode.OK);
});

test("server streaming with read(): messages then EOF; mixing styles is refused", async () => {
  const client = createClient(Echo, channel);
  const call = client.serverStream({ message: "r", count: 3 });
  const got: unknown[] = [];
  for (let i = 0; i < 10; i++) {
    const m = await call.read();
    if (m === EOF) break;
    got.push(m.index);
  }
  assert.equal(got, [0, 1, 2]);
  assert.is(await call.read(), EOF);
  assert.throws(() => call[Symbol.asyncIterator](), /either with read\(\) or by iteration/);
});

test("server streaming: an error status after messages comes after them", async () => {
  const client = createClient(Echo, channel);
  const call = client.serverStream({ message: "fail-after", count: 2 });
  const got: number[] = [];
  await expectStatus(
    (async () => {
      for await (const r of call) got.push(r.index);
    })(),
    StatusCode.DATA_LOSS,
  );
  assert.equal(got, [0, 1]);
});

test("server streaming: breaking out of the loop cancels the call and the server sees it", async () => {
  serverState.streamAborted = false;
  const client = createClient(Echo, channel);
  const call = client.serverStream({ message: "b", count: 1000, delayMs: 2 });
  for await (const r of call) {
    if (r.index === 2) break;
  }
  assert.ok(call.cancelled());
  await eventually(() => serverState.streamAborted, "the server handler to see the cancellation");
  assert.ok(serverState.produced < 1000);
});

test("client streaming from an async generator", async () => {
  const client = createClient(Echo, channel);
  async function* requests() {
    for (let i = 0; i < 20; i++) yield { message: `r${i}` };
  }
  const call = client.clientStream(requests());
  const reply = await call;
  assert.is(reply.index, 20);
  assert.is(reply.message, Array.from({ length: 20 }, (_, i) => `r${i}`).join(","));
  assert.is((await call.trailingMetadata()).get("x-count"), "20");
});

test("client streaming with write() and doneWriting(), and with an empty stream", async () => {
  const client = createClient(Echo, channel);
  const call = client.clientStream();
  await call.write({ message: "a" });
  await call.write({ message: "b" });
  await call.doneWriting();
  assert.is((await call).message, "a,b");
  await rejects(call.write({ message: "late" }));
  const empty = await client.clientStream([]);
  assert.is(empty.index, 0);
});

test("a failing request iterator cancels the call", async () => {
  const client = createClient(Echo, channel);
  async function* requests(): AsyncGenerator<{ message: string }> {
    yield { message: "a" };
    throw new Error("source broke");
  }
  const err = await expectStatus(client.clientStream(requests()), StatusCode.CANCELLED);
  assert.match(err.details, /source broke/);
});

test("bidi ping-pong with write/read", async () => {
  const client = createClient(Echo, channel);
  const call = client.bidi();
  for (let i = 0; i < 10; i++) {
    await call.write({ message: String(i) });
    const reply = await call.read();
    assert.ok(reply !== EOF);
    assert.is(reply.message, `re:${i}`);
  }
  await call.doneWriting();
  assert.is(await call.read(), EOF);
  assert.is(await call.code(), StatusCode.OK);
});

test("bidi with an iterable of requests, iterated responses", async () => {
  const client = createClient(Echo, channel);
  const call = client.bidi(["x", "y", "z"].map((message) => ({ message })));
  const got: string[] = [];
  for await (const r of call) got.push(r.message);
  assert.equal(got, ["re:x", "re:y", "re:z"]);
});

test("large messages: protobuf messages go out without a copy, raw bytes the caller reuses are copied", async () => {
  // protobuf-es output of 100 KB (sent as prefix + message, no copy) arrives intact.
  const big = "x".repeat(100_000);
  const reply = await createClient(Echo, channel).clientStream([{ message: big }, { message: "y" }]);
  assert.is(reply.message, `${big},y`);
  // A raw-bytes caller that reuses its buffer as soon as write() resolves loses nothing.
  const { server, target } = await startServer((s) =>
    s.addGenericRpcHandlers([
      methodHandlersGenericHandler("raw.Sum", {
        Sum: streamUnaryRpcMethodHandler(async (requests: AsyncIterable<Uint8Array>) => {
          const firsts: number[] = [];
          for await (const r of requests) firsts.push(r[0]!, r[r.length - 1]!);
          return new Uint8Array(firsts);
        }),
      }),
    ]),
  );
  const rawChannel = insecureChannel(target);
  const call = rawChannel.streamUnary("/raw.Sum/Sum")(undefined, { timeoutMs: 5000 });
  const buffer = new Uint8Array(64 * 1024);
  for (let i = 1; i <= 5; i++) {
    buffer.fill(i);
    await call.write(buffer);
  }
  buffer.fill(0);
  await call.doneWriting();
  assert.equal([...(await call)], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  await rawChannel.close();
  await server.stop(null);
});

test("bidi: the server ends while the client is still writing; the call completes OK", async () => {
  const client = createClient(Echo, channel);
  const call = client.bidi();
  await call.write({ message: "one" });
  assert.is((await call.read()) !== EOF, true);
  await call.write({ message: "stop" });
  assert.is(await call.read(), EOF);
  assert.is(await call.code(), StatusCode.OK);
});

test.run();
