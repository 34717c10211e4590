// Two Node HTTP/2 peers stop reading while their own writes are pending; with windows
// that let each have more in flight than the socket buffers hold, heavy traffic both
// ways stalls them for good. The default windows must not allow that between our own
// client and server (docs/architecture.md, "Flow control").
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  insecureChannel,
  methodHandlersGenericHandler,
  StatusCode,
  streamStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { assertNoLeaks, startServer, type Started } from "../helpers.js";

const test = suite("heavy traffic both ways");
let started: Started;
let channel: Channel;
const response = new Uint8Array(314_159);

test.before(async () => {
  started = await startServer((server) =>
    server.addGenericRpcHandlers([
      methodHandlersGenericHandler("hb.Svc", {
        Large: unaryUnaryRpcMethodHandler(async () => response),
        Echo: streamStreamRpcMethodHandler(async function* (requests: AsyncIterable<Uint8Array>) {
          for await (const r of requests) yield r;
        }),
      }),
    ]),
  );
  channel = insecureChannel(started.target);
});

test.after(async () => {
  await channel.close();
  await started.server.stop(null);
  await assertNoLeaks();
});

test("1,000 concurrent large unary calls (the interop case concurrent_large_unary)", async () => {
  const request = new Uint8Array(271_828);
  const large = channel.unaryUnary("/hb.Svc/Large");
  const codes = await Promise.all(Array.from({ length: 1000 }, () => large(request, { timeoutMs: 20_000 }).code()));
  assert.is(codes.filter((c) => c !== StatusCode.OK).length, 0);
});

test("8 bidi streams echoing 1 MiB messages", async () => {
  const results = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const call = channel.streamStream("/hb.Svc/Echo")(undefined, { timeoutMs: 20_000 });
      const reading = (async () => {
        let n = 0;
        for await (const _ of call) n++;
        return n;
      })();
      reading.catch(() => undefined);
      for (let i = 0; i < 50; i++) await call.write(new Uint8Array(1 << 20));
      await call.doneWriting();
      return [await reading, await call.code()];
    }),
  );
  assert.equal(results, Array.from({ length: 8 }, () => [50, StatusCode.OK]));
});

test.run();
