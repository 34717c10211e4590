// gRFC A6 transparent retry: a call whose stream never reached the server's
// application is started once more on a new stream, invisibly to the caller.
import * as http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createServer,
  insecureChannel,
  methodHandlersGenericHandler,
  StatusCode,
  unaryUnaryRpcMethodHandler,
  type Server,
} from "../../src/index.js";
import { assertNoLeaks, expectStatus, grpcFrame, sleep } from "../helpers.js";

const test = suite("transparent retry");


/** A raw HTTP/2 server: `refuse(stream, n)` decides, for the n-th stream overall, whether to turn it away. */
async function rawServer(refuse: (stream: ServerHttp2Stream, session: ServerHttp2Session, n: number) => boolean) {
  const sessions = new Set<ServerHttp2Session>();
  const bodies: Buffer[] = [];
  let streams = 0;
  const server = http2.createServer();
  server.on("session", (s: ServerHttp2Session) => {
    sessions.add(s);
    s.on("error", () => {});
    s.once("close", () => sessions.delete(s));
  });
  server.on("stream", (stream: ServerHttp2Stream, _headers: IncomingHttpHeaders) => {
    stream.on("error", () => {});
    if (refuse(stream, stream.session as ServerHttp2Session, ++streams)) return;
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("end", () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(grpcFrame(new Uint8Array([body.length & 0xff])));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    target: `127.0.0.1:${port}`,
    bodies,
    get streams() {
      return streams;
    },
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test("a stream refused with REFUSED_STREAM is retried once, replaying what was written", async () => {
  const raw = await rawServer((stream, _session, n) => {
    if (n % 2 === 0) return false;
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    return true;
  });
  const channel = insecureChannel(raw.target);
  const reply = await channel.unaryUnary("/t.S/U")(new Uint8Array(10), { timeoutMs: 5000 });
  assert.equal([...reply], [15]);
  // A client-streaming call refused after its messages went out: all three are replayed.
  const call = channel.streamUnary("/t.S/C")(undefined, { timeoutMs: 5000 });
  await call.write(new Uint8Array(1));
  await call.write(new Uint8Array(2));
  await call.write(new Uint8Array(3));
  await call.doneWriting();
  assert.equal([...(await call)], [5 + 1 + 5 + 2 + 5 + 3]);
  assert.is(raw.streams, 4);
  await channel.close();
  await raw.close();
});

test("only once, and not when retries are disabled", async () => {
  const raw = await rawServer((stream) => {
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    return true;
  });
  const channel = insecureChannel(raw.target);
  await expectStatus(channel.unaryUnary("/t.S/U")(new Uint8Array(1), { timeoutMs: 5000 }), StatusCode.UNAVAILABLE);
  assert.is(raw.streams, 2, "one attempt and one transparent retry");
  const noRetry = insecureChannel(raw.target, { options: { "grpc.enable_retries": 0 } });
  await expectStatus(noRetry.unaryUnary("/t.S/U")(new Uint8Array(1), { timeoutMs: 5000 }), StatusCode.UNAVAILABLE);
  assert.is(raw.streams, 3);
  await channel.close();
  await noRetry.close();
  await raw.close();
});

for (const [name, code] of [["NO_ERROR", http2.constants.NGHTTP2_NO_ERROR], ["ENHANCE_YOUR_CALM", http2.constants.NGHTTP2_ENHANCE_YOUR_CALM]] as const) {
  test(`a stream above the last stream id of a GOAWAY ${name} goes to a new connection`, async () => {
    const sessions: ServerHttp2Session[] = [];
    const raw = await rawServer((_stream, session, n) => {
      if (!sessions.includes(session)) sessions.push(session);
      // On the first connection the second stream (id 3) arrives: go away with last
      // stream id 1. With NO_ERROR stream 1 is served on the old connection; with an
      // error the connection ends, and stream 1 (processed, never answered) with it.
      if (n === 2) session.goaway(code, 1);
      return n === 1 && code !== http2.constants.NGHTTP2_NO_ERROR;
    });
    const channel = insecureChannel(raw.target);
    await channel.channelReady();
    const u = channel.unaryUnary("/t.S/U");
    const first = u(new Uint8Array(1), { timeoutMs: 5000 });
    const second = u(new Uint8Array(2), { timeoutMs: 5000 });
    if (code === http2.constants.NGHTTP2_NO_ERROR) assert.equal([...(await first)], [6]);
    else await expectStatus(first, StatusCode.UNAVAILABLE);
    assert.equal([...(await second)], [7]);
    assert.is(sessions.length, 2, "the refused call went to a new connection");
    await channel.close();
    await raw.close();
  });
}

function echoServer(served: { count: number }): Server {
  const server = createServer();
  server.addGenericRpcHandlers([
    methodHandlersGenericHandler("t.Echo", {
      Echo: unaryUnaryRpcMethodHandler(async (request: Uint8Array) => {
        served.count++;
        await sleep(5);
        return request;
      }),
    }),
  ]);
  return server;
}

test("a rolling restart under 64 calls in flight and a steady stream of new ones fails no call", async () => {
  const servedA = { count: 0 };
  const servedB = { count: 0 };
  const a = echoServer(servedA);
  const port = await a.addInsecurePort("127.0.0.1:0");
  await a.start();
  const channel = insecureChannel(`127.0.0.1:${port}`);
  const failures: string[] = [];
  let ok = 0;
  let running = true;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running && i < 10_000; i++) {
      const call = channel.unaryUnary("/t.Echo/Echo")(new Uint8Array([w & 0xff, i & 0xff]), { timeoutMs: 5000 });
      const code = await call.code();
      if (code === StatusCode.OK) ok++;
      else failures.push(`${StatusCode[code]}: ${await call.details()}`);
    }
  };
  const workers = Array.from({ length: 64 }, (_, w) => worker(w));
  await sleep(300);
  const before = ok;
  // Stop A with a grace period and bind B on the same port in the same tick: no
  // moment without a listener, as with a socket handed over in a real restart.
  const b = echoServer(servedB);
  await b.start();
  const stopping = a.stop(5);
  const bound = b.addInsecurePort(`127.0.0.1:${port}`);
  assert.is(await bound, port);
  await stopping;
  await sleep(500);
  running = false;
  await Promise.all(workers);
  assert.equal(failures.slice(0, 5), [], `${failures.length} calls failed`);
  assert.ok(before > 0 && ok > before, "calls succeeded before and after the restart");
  assert.ok(servedB.count > 0, "the new server took over");
  await channel.close();
  await b.stop(null);
  await assertNoLeaks();
});

test.run();
