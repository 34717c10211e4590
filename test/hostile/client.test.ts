// Our client against a hostile server (raw node:http2): each case asserts the status the
// call ends with, bounds the client's memory, then a normal call on a new connection
// to the same server must succeed.
import * as http2 from "node:http2";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { insecureChannel, StatusCode, type Channel } from "../../src/index.js";
import { assertNoLeaks, expectStatus, sleep } from "../helpers.js";
import { rawServer } from "../core/raw-h2.js";
import { assertHeapSinceMark, markHeap, grpcFrame, KiB, MiB, prefix, withHeapBound } from "./harness.js";
import { frame, FRAME, headerBlock, headersFrames, rstStream } from "./raw-frames.js";

const test = suite("hostile: servers");
const GRPC = { ":status": 200, "content-type": "application/grpc" };

type Behaviour = (stream: http2.ServerHttp2Stream, session: http2.ServerHttp2Session) => void;

// What the hostile server does, by the method path the call uses.
const behaviours: Record<string, Behaviour> = {
  "/h/ok": (s) => {
    s.respond(GRPC, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.end(grpcFrame(Buffer.from("fine")));
  },
  "/h/oversized": (s) => {
    s.respond(GRPC);
    s.write(prefix(5 * MiB));
    s.end(Buffer.alloc(5 * MiB));
  },
  "/h/prefix-4g": (s) => {
    s.respond(GRPC);
    s.write(prefix(0xffffffff));
    s.write(Buffer.alloc(64 * KiB));
  },
  "/h/no-trailers": (s) => {
    s.respond(GRPC);
    s.end(grpcFrame(Buffer.from("no status follows")));
  },
  "/h/trailers-only": (s) => s.respond({ ...GRPC, "grpc-status": "7", "grpc-message": "go%20away" }, { endStream: true }),
  "/h/never": () => {},
  "/h/headers-then-nothing": (s) => s.respond(GRPC),
  "/h/goaway": (s, session) => {
    s.respond(GRPC);
    s.write(prefix(100));
    setTimeout(() => {
      session.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR, 0);
      setTimeout(() => session.destroy(), 20);
    }, 20);
  },
  "/h/html": (s) => {
    s.respond({ ":status": 200, "content-type": "text/html" });
    s.end("<html>not grpc</html>");
  },
  "/h/no-grpc-status": (s) => {
    s.respond(GRPC, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "x-something": "else" }));
    s.end(grpcFrame(Buffer.from("x")));
  },
  "/h/bad-grpc-status": (s) => {
    s.respond(GRPC, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "abc" }));
    s.end(grpcFrame(Buffer.from("x")));
  },
  "/h/http-503": (s) => s.respond({ ":status": 503 }, { endStream: true }),
  "/h/unknown-encoding": (s) => {
    s.respond({ ...GRPC, "grpc-encoding": "br" }, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.end(grpcFrame(Buffer.from("x"), true));
  },
  "/h/flood": (s) => {
    // Responses as fast as flow control lets them go, forever (until the client resets).
    s.respond(GRPC);
    const chunk = grpcFrame(Buffer.alloc(64 * KiB));
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
      if (!s.destroyed) s.once("drain", pump);
    };
    pump();
  },
};

let server: http2.Http2Server;
let port: number;
const sessions = new Set<http2.ServerHttp2Session>();

test.before(async () => {
  server = http2.createServer();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("error", () => {});
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    stream.resume();
    const behave = behaviours[String(headers[":path"])];
    if (behave) behave(stream, stream.session as http2.ServerHttp2Session);
    else stream.respond({ ...GRPC, "grpc-status": "12" }, { endStream: true });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

test.after(async () => {
  for (const s of sessions) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  await assertNoLeaks();
});

test.before.each(() => markHeap());

test.after.each(async () => {
  assertHeapSinceMark();
  const channel = insecureChannel(`127.0.0.1:${port}`);
  try {
    const reply = await channel.unaryUnary("/h/ok")(new Uint8Array(), { timeoutMs: 5000 });
    assert.is(Buffer.from(reply).toString(), "fine");
  } finally {
    await channel.close();
  }
});

async function call(path: string, code: StatusCode, timeoutMs = 5000): Promise<string> {
  const channel: Channel = insecureChannel(`127.0.0.1:${port}`);
  try {
    const err = await expectStatus(channel.unaryUnary(path)(new Uint8Array(), { timeoutMs }), code);
    return err.details;
  } finally {
    await channel.close();
  }
}

test("an oversized response: RESOURCE_EXHAUSTED, its bytes never buffered", async () => {
  await withHeapBound(16 * MiB, async () => {
    assert.match(await call("/h/oversized", StatusCode.RESOURCE_EXHAUSTED), /5242880/);
  });
});

test("a response length prefix of 4 GiB: RESOURCE_EXHAUSTED, nothing allocated for it", async () => {
  await withHeapBound(8 * MiB, async () => {
    await call("/h/prefix-4g", StatusCode.RESOURCE_EXHAUSTED);
  });
});

test("a response without trailers: the call fails (no status is not OK)", async () => {
  const details = await call("/h/no-trailers", StatusCode.INTERNAL);
  assert.match(details, /without a gRPC status/);
});

test("a trailers-only error: its status and message", async () => {
  assert.is(await call("/h/trailers-only", StatusCode.PERMISSION_DENIED), "go away");
});

test("a server that never answers, or sends headers and then nothing: DEADLINE_EXCEEDED", async () => {
  await call("/h/never", StatusCode.DEADLINE_EXCEEDED, 200);
  await call("/h/headers-then-nothing", StatusCode.DEADLINE_EXCEEDED, 200);
});

test("a reset mid-stream (raw frames: response headers, half a message, RST_STREAM): the reset's code decides the status", async () => {
  // Node's own server cannot send this: once the client has half-closed, its
  // stream.close(code) sends no RST_STREAM with that code.
  for (const [code, status] of [
    [http2.constants.NGHTTP2_INTERNAL_ERROR, StatusCode.INTERNAL],
    [http2.constants.NGHTTP2_CANCEL, StatusCode.CANCELLED],
    [http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, StatusCode.RESOURCE_EXHAUSTED],
  ] as const) {
    const raw = await rawServer((peer) => {
      peer.onFrame = (f) => {
        if (f.type !== FRAME.HEADERS) return;
        peer.write(headersFrames(f.streamId, headerBlock([[":status", "200"], ["content-type", "application/grpc"]]), false));
        peer.write(frame(FRAME.DATA, 0, f.streamId, Buffer.concat([prefix(100), Buffer.alloc(10)])));
        peer.write(rstStream(f.streamId, code));
      };
    });
    const channel = insecureChannel(`127.0.0.1:${raw.port}`);
    const err = await expectStatus(channel.unaryUnary("/h/reset")(new Uint8Array(), { timeoutMs: 5000 }), status);
    assert.match(err.details, new RegExp(`RST_STREAM with code ${code}`));
    await channel.close();
    await raw.close();
  }
});

test("a GOAWAY mid-call that ends the connection: UNAVAILABLE", async () => {
  await call("/h/goaway", StatusCode.UNAVAILABLE);
});

test("a response with a wrong content-type: UNKNOWN", async () => {
  assert.match(await call("/h/html", StatusCode.UNKNOWN), /content-type/);
});

test("a 200 with no grpc-status, or a bad one: UNKNOWN", async () => {
  assert.match(await call("/h/no-grpc-status", StatusCode.UNKNOWN), /grpc-status/);
  assert.match(await call("/h/bad-grpc-status", StatusCode.UNKNOWN), /grpc-status/);
});

test("an HTTP error status: mapped as gRPC maps it (503: UNAVAILABLE)", async () => {
  assert.match(await call("/h/http-503", StatusCode.UNAVAILABLE), /503/);
});

test("a response in an encoding the client does not know: INTERNAL", async () => {
  await call("/h/unknown-encoding", StatusCode.INTERNAL);
});

test("a server flooding a stream the client does not read: the client's memory stays bounded", async () => {
  const channel = insecureChannel(`127.0.0.1:${port}`);
  try {
    await withHeapBound(32 * MiB, async (peak) => {
      const stream = channel.unaryStream("/h/flood")(new Uint8Array());
      // Read one, then stop reading for a while.
      for await (const _ of stream) break;
      const second = channel.unaryStream("/h/flood")(new Uint8Array());
      await sleep(1000);
      peak();
      second.cancel();
      assert.is(await second.code(), StatusCode.CANCELLED);
      assert.is(await stream.code(), StatusCode.CANCELLED);
    });
  } finally {
    await channel.close();
  }
});

test.run();
