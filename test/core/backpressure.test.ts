import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  EOF,
  insecureChannel,
  methodHandlersGenericHandler,
  streamUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { assertNoLeaks, eventually, sleep, startServer, type Started } from "../helpers.js";

// A slow reader must hold a fast writer back through HTTP/2 flow control: the bytes
// in flight are bounded by the stream window (4 MiB by default) plus small buffers,
// whatever the total.
const MESSAGE = 64 * 1024;
const TOTAL = 400; // 25 MiB if nothing held the writer back
const BOUND = 100; // messages: 6.25 MiB, above window + buffers, far below TOTAL

const test = suite("backpressure");
let started: Started;
let channel: Channel;
const state = { produced: 0, consumed: 0, release: undefined as (() => void) | undefined };

test.before(async () => {
  started = await startServer((server) =>
    server.addGenericRpcHandlers([
      methodHandlersGenericHandler("bp.Flow", {
        Produce: unaryStreamRpcMethodHandler(async function* () {
          for (let i = 0; i < TOTAL; i++) {
            state.produced++;
            yield new Uint8Array(MESSAGE).fill(i & 0xff);
          }
        }),
        Consume: streamUnaryRpcMethodHandler(async (requests: AsyncIterable<Uint8Array>) => {
          for await (const r of requests) {
            state.consumed++;
            assert.is(r.byteLength, MESSAGE);
            if (state.consumed === 1) await new Promise<void>((resolve) => (state.release = resolve));
          }
          return new Uint8Array([state.consumed & 0xff]);
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

test("a client that stops reading stops the server's generator", async () => {
  state.produced = 0;
  const call = channel.unaryStream("/bp.Flow/Produce")(new Uint8Array());
  let consumed = 0;
  for (; consumed < 5; consumed++) await call.read();
  await sleep(300);
  const producedWhilePaused = state.produced;
  assert.ok(producedWhilePaused - consumed < BOUND, `server ran ahead by ${producedWhilePaused - consumed} messages`);
  await sleep(100);
  assert.is(state.produced, producedWhilePaused, "the producer is really blocked, not just slow");
  let i = consumed;
  for (let m = await call.read(); m !== EOF; m = await call.read()) {
    assert.is(m[0], i & 0xff);
    i++;
  }
  assert.is(i, TOTAL);
});

test("a server that stops reading holds back the client's write()", async () => {
  state.consumed = 0;
  state.release = undefined;
  const call = channel.streamUnary("/bp.Flow/Consume")();
  let written = 0;
  const writer = (async () => {
    for (; written < TOTAL; written++) await call.write(new Uint8Array(MESSAGE));
    await call.doneWriting();
  })();
  await eventually(() => state.release !== undefined, "the server to read the first message");
  await sleep(300);
  assert.ok(written - state.consumed < BOUND, `client ran ahead by ${written - state.consumed} messages`);
  state.release!();
  await writer;
  const reply = await call;
  assert.is(reply[0], TOTAL & 0xff);
});

test.run();
