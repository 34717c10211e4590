// A minimal hand-written gRPC server on node:http2: the floor of what Node's HTTP/2
// can do for the same calls. It frames every message it sends (one copy, as any gRPC
// implementation must), honours write backpressure, and answers with grpc-status 0 in
// trailers. `tuned` raises the flow-control windows and frame size to async-grpc's
// defaults (TUNED_HTTP2); otherwise Node's defaults (64 KiB windows, 16 KiB frames).
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { bodyOfSize, countBody, encodePayload, parseStreamRequestBody, payloadBody } from "../payload.js";
import { PATHS, TUNED_HTTP2 } from "../protocol.js";
import { frame, FrameParser } from "../raw-framing.js";
import type { RunningServer } from "./types.js";

const RESPONSE_HEADERS = { ":status": 200, "content-type": "application/grpc" };
const OK_TRAILERS = { "grpc-status": "0" };

export async function startRawHttp2Server(tuned: boolean): Promise<RunningServer> {
  const server = tuned
    ? http2.createServer({
        settings: { initialWindowSize: TUNED_HTTP2.streamWindowBytes, maxFrameSize: TUNED_HTTP2.maxFrameSize },
        maxSessionMemory: TUNED_HTTP2.maxSessionMemoryMb,
      })
    : http2.createServer();
  if (tuned) server.on("session", (session) => session.setLocalWindowSize(TUNED_HTTP2.connectionWindowBytes));
  server.on("stream", onStream);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.on("error", () => {});
  stream.on("wantTrailers", () => stream.sendTrailers(OK_TRAILERS));
  switch (headers[":path"]) {
    case PATHS.unary:
      return unary(stream);
    case PATHS.serverStream:
      return serverStream(stream);
    case PATHS.clientStream:
      return clientStream(stream);
    case PATHS.bidi:
      return bidi(stream);
    default:
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" }, { endStream: true });
  }
}

function unary(stream: http2.ServerHttp2Stream): void {
  let request: Buffer | undefined;
  const parser = new FrameParser((m) => (request = m));
  stream.on("data", (chunk: Buffer) => parser.push(chunk));
  stream.on("end", () => {
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    stream.end(frame(request!));
  });
}

function serverStream(stream: http2.ServerHttp2Stream): void {
  let request: Buffer | undefined;
  const parser = new FrameParser((m) => (request = m));
  stream.on("data", (chunk: Buffer) => parser.push(chunk));
  stream.on("end", () => {
    const { size, count } = parseStreamRequestBody(payloadBody(request!));
    const message = encodePayload(bodyOfSize(size));
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    let sent = 0;
    const pump = (): void => {
      while (sent < count) {
        sent++;
        if (!stream.write(frame(message))) {
          stream.once("drain", pump);
          return;
        }
      }
      stream.end();
    };
    pump();
  });
}

function clientStream(stream: http2.ServerHttp2Stream): void {
  let count = 0;
  const parser = new FrameParser(() => count++);
  stream.on("data", (chunk: Buffer) => parser.push(chunk));
  stream.on("end", () => {
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    stream.end(frame(encodePayload(countBody(count))));
  });
}

function bidi(stream: http2.ServerHttp2Stream): void {
  stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
  const parser = new FrameParser((m) => stream.write(frame(m)));
  stream.on("data", (chunk: Buffer) => parser.push(chunk));
  stream.on("end", () => stream.end());
}
