// The receive side keeps its promises whatever the reader does: a handler that stops
// reading never stalls its client, and compressed input is held back like any other
// (a peer cannot make us inflate what nobody has asked to read).
import * as http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { gzipSync } from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  EOF,
  insecureChannel,
  methodHandlersGenericHandler,
  RpcError,
  StatusCode,
  streamStreamRpcMethodHandler,
  streamUnaryRpcMethodHandler,
  type Channel,
} from "../../src/index.js";
import { assertNoLeaks, grpcFrame, sleep, startServer, type Started } from "../helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;


// One gzip frame of about 4 KiB that inflates to just under the 4 MiB receive limit.
const BOMB_INFLATED = 4 * MiB - 64;
const bombFrame = grpcFrame(gzipSync(Buffer.alloc(BOMB_INFLATED)), true);
const BOMBS = 1000;

/**
 * Samples RSS while `during` runs and returns the largest growth over the starting
 * value, giving up early (the caller asserts) once it passes `limit`.
 */
async function rssGrowth(limit: number, durationMs: number, during: (signal: AbortSignal) => Promise<void>): Promise<number> {
  global.gc?.();
  const start = process.memoryUsage.rss();
  let peak = 0;
  const stop = new AbortController();
  const work = during(stop.signal).catch(() => undefined);
  const until = Date.now() + durationMs;
  while (Date.now() < until && peak <= limit) {
    await sleep(25);
    peak = Math.max(peak, process.memoryUsage.rss() - start);
  }
  stop.abort();
  await work;
  return peak;
}

// ---- a handler that stops reading ---------------------------------------------------

const test = suite("receive bounds");
let started: Started;
let channel: Channel;
const state = { clientDone: false, bombReads: 0 };

test.before(async () => {
  started = await startServer((server) =>
    server.addGenericRpcHandlers([
      methodHandlersGenericHandler("rb.Svc", {
        // Reads one request, then only talks: the requests nobody reads must not stall the client.
        Chatty: streamStreamRpcMethodHandler(async function* (requests: AsyncIterable<Uint8Array>) {
          for await (const _ of requests) break;
          for (let i = 0; i < 1000 && !state.clientDone; i++) {
            yield new Uint8Array(16);
            await sleep(5);
          }
        }),
        // Reads one message a second, as a slow consumer of compressed input would.
        SlowReader: streamUnaryRpcMethodHandler(async (requests: AsyncIterable<Uint8Array>, context) => {
          for await (const r of requests) {
            assert.is(r.byteLength, BOMB_INFLATED);
            state.bombReads++;
            await sleep(1000, context.signal);
          }
          return new Uint8Array();
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

test("a bidi handler that stops reading never holds back its client's writes", async () => {
  state.clientDone = false;
  const call = channel.streamStream("/rb.Svc/Chatty")(undefined, { timeoutMs: 20_000 });
  const responses = (async () => {
    let n = 0;
    for await (const _ of call) n++;
    return n;
  })();
  // 100 x 64 KiB: one and a half stream windows of requests the handler never reads.
  let written = 0;
  const writes = (async () => {
    for (; written < 100; written++) await call.write(new Uint8Array(64 * KiB));
  })();
  const outcome = await Promise.race([writes.then(() => "written"), sleep(10_000).then(() => "stalled")]);
  assert.is(outcome, "written", `the client's writes stalled after ${written} of 100`);
  assert.not.ok(call.done(), "the writes completed while the call was still running, not because it ended");
  state.clientDone = true;
  await call.doneWriting();
  assert.ok((await responses) > 0);
  assert.is(await call.code(), StatusCode.OK);
});

test("a server inflates compressed requests only as its handler reads them", async () => {
  // A raw HTTP/2 client sends 1,000 gzip frames (about 4 MiB on the wire) that would
  // inflate to 4 GiB; the handler reads one a second.
  state.bombReads = 0;
  const session = http2.connect(`http://${started.target}`);
  session.on("error", () => {});
  try {
    const growth = await rssGrowth(64 * MiB, 3000, async (signal) => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/rb.Svc/SlowReader",
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-encoding": "gzip",
      });
      stream.on("error", () => {});
      stream.resume();
      const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      for (let i = 0; i < BOMBS && !signal.aborted; i++) {
        if (!stream.write(bombFrame)) await Promise.race([new Promise((resolve) => stream.once("drain", resolve)), aborted]);
      }
      await aborted;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    assert.ok(growth < 64 * MiB, `the server's RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
    assert.ok(state.bombReads >= 1 && state.bombReads <= 5, `the handler read ${state.bombReads} messages`);
  } finally {
    session.destroy();
  }
  // The server is fine afterwards.
  const call = channel.streamStream("/rb.Svc/Chatty")([new Uint8Array(1)]);
  state.clientDone = true;
  for await (const _ of call) break;
});

test.run();

// ---- the client side of the same promise ----------------------------------------------

const clientSuite = suite("receive bounds: client");
let rawServer: http2.Http2Server;
const rawSessions = new Set<ServerHttp2Session>();
let rawChannel: Channel;

clientSuite.before(async () => {
  rawServer = http2.createServer();
  rawServer.on("session", (s: ServerHttp2Session) => {
    rawSessions.add(s);
    s.on("error", () => {});
    s.once("close", () => rawSessions.delete(s));
  });
  rawServer.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on("error", () => {});
    stream.resume();
    if (headers[":path"] !== "/rb.Svc/Bombs") {
      stream.respond({ ":status": 404 }, { endStream: true });
      return;
    }
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-encoding": "gzip" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    let sent = 0;
    const more = (): void => {
      while (sent < BOMBS && !stream.destroyed) {
        sent++;
        if (!stream.write(bombFrame)) {
          stream.once("drain", more);
          return;
        }
      }
      if (!stream.destroyed) stream.end();
    };
    more();
  });
  await new Promise<void>((resolve) => rawServer.listen(0, "127.0.0.1", resolve));
  const address = rawServer.address();
  rawChannel = insecureChannel(`127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
});

clientSuite.after(async () => {
  await rawChannel.close();
  for (const s of rawSessions) s.destroy();
  await new Promise<void>((resolve) => rawServer.close(() => resolve()));
  await assertNoLeaks();
});

clientSuite("a client inflates compressed responses only as its caller reads them", async () => {
  let reads = 0;
  const growth = await rssGrowth(64 * MiB, 3000, async (signal) => {
    const call = rawChannel.unaryStream("/rb.Svc/Bombs")(new Uint8Array(), { signal });
    try {
      for (let m = await call.read(); m !== EOF; m = await call.read()) {
        assert.is(m.byteLength, BOMB_INFLATED);
        reads++;
        await sleep(1000, signal);
      }
    } catch (err) {
      if (!(err instanceof RpcError) && !signal.aborted) throw err;
    }
  });
  assert.ok(growth < 64 * MiB, `the client's RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
  assert.ok(reads >= 1 && reads <= 5, `the caller read ${reads} messages`);
});

clientSuite.run();
