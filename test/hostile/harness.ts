// The hostile-input suite's fixtures: a real server under attack, raw node:http2 and
// raw TCP clients, a heap bound per case, and the normal call that must succeed on a
// new connection after each case.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import * as assert from "uvu/assert";
import { createClient, createServer, insecureChannel, type Server, type ServerConfig } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { sleep } from "../helpers.js";

export const KiB = 1024;
export const MiB = 1024 * KiB;

// A full collection before and after each case, so that the bound is about what the
// case left behind (or holds at its peak), not about garbage not yet collected.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Runs `body` and asserts that heap plus ArrayBuffer memory grew by less than `bound`
 * bytes, measured after it (what the attack left behind) and at `peak()` if the case
 * calls it (what the attack holds while it is going on).
 */
export async function withHeapBound(bound: number, body: (peak: () => void) => Promise<void>): Promise<void> {
  const before = used();
  let peakGrowth = 0;
  await body(() => {
    peakGrowth = Math.max(peakGrowth, used() - before);
  });
  const growth = used() - before;
  assert.ok(peakGrowth < bound, `memory grew by ${(peakGrowth / MiB).toFixed(1)} MiB during the case (bound ${(bound / MiB).toFixed(0)} MiB)`);
  assert.ok(growth < bound, `memory grew by ${(growth / MiB).toFixed(1)} MiB (bound ${(bound / MiB).toFixed(0)} MiB)`);
}

let mark = 0;

/** Remembers the memory in use now (before each case). */
export function markHeap(): void {
  mark = used();
}

/** Asserts that memory in use grew by less than `bound` since `markHeap()` (after each case). */
export function assertHeapSinceMark(bound = 16 * MiB): void {
  const growth = used() - mark;
  assert.ok(growth < bound, `memory grew by ${(growth / MiB).toFixed(1)} MiB over the case (bound ${(bound / MiB).toFixed(0)} MiB)`);
}

/** The server under attack: testing.Echo with the default limits (4 MiB receive). */
export async function startTarget(config?: ServerConfig): Promise<{ server: Server; port: number; handled: { calls: number; messages: number } }> {
  const server = createServer(config);
  const handled = { calls: 0, messages: 0 };
  server.addService(Echo, {
    async unary(req) {
      handled.calls++;
      return { message: req.message, payload: req.payload };
    },
    async *serverStream(req) {
      handled.calls++;
      const payload = new Uint8Array(64 * KiB);
      for (let i = 0; i < req.count; i++) yield { index: i, payload };
    },
    async clientStream(requests) {
      handled.calls++;
      let n = 0;
      for await (const _ of requests) n++;
      handled.messages += n;
      return { index: n };
    },
    async *bidi(requests) {
      handled.calls++;
      for await (const r of requests) yield { message: r.message };
    },
  });
  const port = await server.addInsecurePort("127.0.0.1:0");
  await server.start();
  return { server, port, handled };
}

/** A normal call on a new connection; it must succeed. */
export async function normalCallSucceeds(port: number): Promise<void> {
  const channel = insecureChannel(`127.0.0.1:${port}`);
  try {
    const r = await createClient(Echo, channel).unary({ message: "still here" }, { timeoutMs: 5000 });
    assert.is(r.message, "still here");
  } finally {
    await channel.close();
  }
}

/** One gRPC message frame: flag, 4-byte length, bytes. */
export function grpcFrame(message: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Only a length prefix declaring `length` bytes. */
export function prefix(length: number, compressed = false): Buffer {
  const out = Buffer.alloc(5);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(length, 1);
  return out;
}

/** gzip of `size` zero bytes: a few KiB on the wire. */
export function gzipZeros(size: number): Buffer {
  return gzipSync(Buffer.alloc(size));
}

export interface RawOutcome {
  /** grpc-status from the trailers or a trailers-only response. */
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  httpStatus: number | undefined;
  /** The RST_STREAM code, if the stream was reset. */
  rstCode: number | undefined;
  /** A session error or GOAWAY, if the connection failed. */
  connectionError: string | undefined;
  responseBytes: number;
}

export interface RawCallOptions {
  path?: string;
  /** Added to (or replacing) the gRPC request headers; null leaves one out. */
  headers?: Record<string, string | string[] | number | null>;
  /** Request body chunks; written in order. */
  body?: Buffer[];
  /** Half-close after the body (default true). */
  end?: boolean;
  /** Give up (and reset the stream) after this long. */
  timeoutMs?: number;
  /** Do not read the response (flow control holds the server back). */
  neverRead?: boolean;
  /** Called once the request is written, with the stream. */
  during?: (stream: http2.ClientHttp2Stream) => Promise<void>;
}

/** One gRPC request made with raw node:http2 on a new connection; resolves with what came back. */
export async function rawCall(port: number, o: RawCallOptions = {}): Promise<RawOutcome> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const outcome: RawOutcome = { grpcStatus: undefined, grpcMessage: undefined, httpStatus: undefined, rstCode: undefined, connectionError: undefined, responseBytes: 0 };
  session.on("error", (err) => (outcome.connectionError ??= err.message));
  session.on("goaway", (code) => (outcome.connectionError ??= `GOAWAY ${code}`));
  try {
    const headers: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": o.path ?? "/testing.Echo/Unary", "content-type": "application/grpc", te: "trailers" };
    for (const [k, v] of Object.entries(o.headers ?? {})) {
      if (v === null) delete headers[k];
      else headers[k] = v;
    }
    const stream = session.request(headers, { endStream: false });
    const readStatus = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) outcome.grpcStatus = Number(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) outcome.grpcMessage = decodeURIComponent(String(h["grpc-message"]));
    };
    stream.on("response", (h) => {
      outcome.httpStatus = Number(h[":status"]);
      readStatus(h);
    });
    stream.on("trailers", readStatus);
    stream.on("error", () => {});
    if (!o.neverRead) stream.on("data", (chunk: Buffer) => (outcome.responseBytes += chunk.length));
    const closed = new Promise<void>((resolve) => stream.once("close", resolve));
    for (const chunk of o.body ?? []) {
      if (stream.destroyed) break;
      if (!stream.write(chunk)) await Promise.race([new Promise((r) => stream.once("drain", r)), closed]);
    }
    if (o.end !== false && !stream.destroyed) stream.end();
    if (o.during) await o.during(stream);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, o.timeoutMs ?? 10_000)))]);
    clearTimeout(timer);
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) outcome.rstCode = stream.rstCode;
    return outcome;
  } finally {
    session.destroy();
    await sleep(0);
  }
}
