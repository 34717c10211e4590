// A minimal hand-written gRPC client on node:http2 (see servers/raw-http2.ts): one
// session, one stream per call, every message framed (one copy), grpc-status checked.
import * as http2 from "node:http2";
import { once } from "node:events";
import * as net from "node:net";
import { parseCountBody, payloadBody } from "../payload.js";
import { PATHS, TUNED_HTTP2 } from "../protocol.js";
import { frame, FrameParser } from "../raw-framing.js";
import { expectCount, expectLength, TIME_CHECK_EVERY, type BenchClient } from "./types.js";

function headersFor(path: string): http2.OutgoingHttpHeaders {
  return { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" };
}
const UNARY = headersFor(PATHS.unary);
const SERVER_STREAM = headersFor(PATHS.serverStream);
const CLIENT_STREAM = headersFor(PATHS.clientStream);
const BIDI = headersFor(PATHS.bidi);

/**
 * Runs one call: `onMessage` sees each response message; resolves once the stream has
 * ended with grpc-status 0.
 */
function call(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  onMessage: (message: Buffer, stream: http2.ClientHttp2Stream) => void,
  send: (stream: http2.ClientHttp2Stream) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status: unknown;
    let message: unknown;
    const parser = new FrameParser((m) => onMessage(m, stream));
    stream.on("response", (h) => {
      // Trailers-only responses carry the status in the headers.
      if (h["grpc-status"] !== undefined) status = h["grpc-status"];
    });
    stream.on("data", (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(err);
      }
    });
    stream.on("trailers", (t) => {
      status = t["grpc-status"];
      message = t["grpc-message"];
    });
    stream.on("error", reject);
    stream.on("end", () => {
      if (status === "0" && !parser.midMessage) resolve();
      else reject(new Error(`call ${String(headers[":path"])} ended with grpc-status ${String(status)} ${String(message ?? "")}`));
    });
    send(stream);
  });
}

export function rawHttp2Client(port: number, tuned: boolean): BenchClient {
  // noDelay on the socket, as grpc-js's and async-grpc's clients do.
  const createConnection = (): net.Socket => net.connect({ host: "127.0.0.1", port, noDelay: true });
  const session = tuned
    ? http2.connect(`http://127.0.0.1:${port}`, {
        createConnection,
        settings: { initialWindowSize: TUNED_HTTP2.streamWindowBytes, maxFrameSize: TUNED_HTTP2.maxFrameSize },
        maxSessionMemory: TUNED_HTTP2.maxSessionMemoryMb,
      })
    : http2.connect(`http://127.0.0.1:${port}`, { createConnection });
  if (tuned) session.once("connect", () => session.setLocalWindowSize(TUNED_HTTP2.connectionWindowBytes));
  session.on("error", () => {}); // each call's stream reports it

  return {
    async unary(message) {
      let reply: Buffer | undefined;
      await call(session, UNARY, (m) => (reply = m), (s) => s.end(frame(message.wire)));
      expectLength("Unary", reply?.byteLength ?? -1, message.wire.byteLength);
    },
    async serverStream(request, expectedCount) {
      let n = 0;
      await call(session, SERVER_STREAM, () => n++, (s) => s.end(frame(request.wire)));
      expectCount("ServerStream", n, expectedCount);
      return n;
    },
    async clientStream(message, until) {
      let reply: Buffer | undefined;
      let sent = 0;
      await call(
        session,
        CLIENT_STREAM,
        (m) => (reply = m),
        (s) =>
          void (async () => {
            do {
              for (let i = 0; i < TIME_CHECK_EVERY; i++) {
                if (!s.write(frame(message.wire))) await once(s, "drain");
              }
              sent += TIME_CHECK_EVERY;
            } while (performance.now() < until);
            s.end();
          })().catch((err: unknown) => s.destroy(err as Error)),
      );
      expectCount("ClientStream", parseCountBody(payloadBody(reply!)), sent);
      return sent;
    },
    async pingPong(message, until) {
      let n = 0;
      await call(
        session,
        BIDI,
        (m, s) => {
          expectLength("Bidi", m.byteLength, message.wire.byteLength);
          n++;
          if (performance.now() < until) s.write(frame(message.wire));
          else s.end();
        },
        (s) => s.write(frame(message.wire)),
      );
      return n;
    },
    close: () => new Promise<void>((resolve) => session.close(() => resolve())),
  };
}
