// A raw HTTP/2 gRPC server whose every attempt's fate a test decides, and which
// records each attempt's headers (grpc-previous-rpc-attempts included: our own
// server keeps grpc-* headers out of the metadata handlers see).
import * as http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { grpcFrame } from "../helpers.js";

export interface Attempt {
  /** The x-call-id header: attempts of one call share it. */
  callId: string;
  /** 0 for a call's first attempt. */
  index: number;
  headers: IncomingHttpHeaders;
  /** The request messages' payloads, once the request stream ended. */
  requests: Buffer[];
  /** When the attempt arrived (Date.now()). */
  at: number;
  /** The client reset the stream (RST_STREAM CANCEL) before it ended. */
  cancelled: boolean;
}

/** What to answer: a status, optionally after some response messages, optionally with a pushback trailer. */
export interface Answer {
  status: number;
  responses?: number;
  pushback?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export class FlakyServer {
  readonly attempts: Attempt[] = [];
  private readonly sessions = new Set<ServerHttp2Session>();

  private constructor(
    private readonly server: http2.Http2Server,
    readonly port: number,
  ) {}

  static async start(decide: (attempt: Attempt) => Answer): Promise<FlakyServer> {
    const server = http2.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const flaky = new FlakyServer(server, (server.address() as { port: number }).port);
    server.on("session", (s: ServerHttp2Session) => {
      flaky.sessions.add(s);
      s.on("error", () => {});
      s.once("close", () => flaky.sessions.delete(s));
    });
    server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => flaky.onStream(stream, headers, decide));
    return flaky;
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Attempts of the call `callId`, in order. */
  of(callId: string): Attempt[] {
    return this.attempts.filter((a) => a.callId === callId);
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, decide: (attempt: Attempt) => Answer): void {
    stream.on("error", () => {});
    const callId = String(headers["x-call-id"] ?? "");
    const attempt: Attempt = { callId, index: this.of(callId).length, headers, requests: [], at: Date.now(), cancelled: false };
    this.attempts.push(attempt);
    stream.once("close", () => {
      if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) attempt.cancelled = true;
    });
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("end", () => {
      let body = Buffer.concat(chunks);
      while (body.length >= 5) {
        const n = body.readUInt32BE(1);
        attempt.requests.push(body.subarray(5, 5 + n));
        body = body.subarray(5 + n);
      }
      const answer = decide(attempt);
      const respond = () => {
        if (stream.closed) return;
        const trailers: Record<string, string> = { "grpc-status": String(answer.status), "grpc-message": answer.status === 0 ? "" : `attempt ${attempt.index} failed` };
        if (answer.pushback !== undefined) trailers["grpc-retry-pushback-ms"] = answer.pushback;
        const responses = answer.responses ?? (answer.status === 0 ? 1 : 0);
        if (responses === 0) {
          stream.respond({ ":status": 200, "content-type": "application/grpc", ...trailers }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.once("wantTrailers", () => stream.sendTrailers(trailers));
        const reply = Buffer.concat(attempt.requests);
        for (let i = 0; i < responses; i++) stream.write(grpcFrame(reply));
        stream.end();
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  }
}
