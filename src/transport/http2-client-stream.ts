import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import { http2ErrorCodeToStatus, StatusCode } from "../wire/index.js";
import type { ClientStream, ClientStreamListener, ClientTransport, OutgoingHeaders, StreamCloseReason, StreamReset } from "./call-stream.js";
import type { ClientConnection } from "./client-connection.js";
import { http2Constants } from "./http2-constants.js";
import type { ConnectionObserver } from "./instrumentation.js";
import { endWithFrame, writeFrame, type Frame } from "./message-writer.js";
import { trace } from "./trace.js";

/** One HTTP/2 session of a `ClientConnection`, as the calls of a channel open streams on it. */
export class Http2ClientTransport implements ClientTransport {
  constructor(
    readonly connection: ClientConnection,
    readonly session: ClientHttp2Session,
  ) {}

  get observer(): ConnectionObserver | undefined {
    return this.connection.observerOf(this.session);
  }

  openStream(headers: OutgoingHeaders, listener: ClientStreamListener): ClientStream {
    return new Http2ClientStream(this.connection.request(this.session, headers), this, listener);
  }
}

// The Node stream's listeners are these module-level functions, shared by every
// stream: each finds its adapter through this property, so a call registers no
// closures of its own.
const ADAPTER = Symbol("async-grpc.clientStream");
type AdaptedStream = ClientHttp2Stream & { [ADAPTER]: Http2ClientStream };

/**
 * A call's HTTP/2 stream behind the transport-neutral `ClientStream`: Node's events
 * become the listener's, and RST_STREAM codes, REFUSED_STREAM, a GOAWAY's last stream
 * id and a dropped connection become a status (`closeReason`).
 */
export class Http2ClientStream implements ClientStream {
  listener: ClientStreamListener | undefined;

  constructor(
    private readonly stream: ClientHttp2Stream,
    private readonly transport: Http2ClientTransport,
    listener: ClientStreamListener,
  ) {
    this.listener = listener;
    (stream as AdaptedStream)[ADAPTER] = this;
    stream.on("response", onResponse);
    stream.on("data", onData);
    stream.on("trailers", onTrailers);
    stream.on("end", onEnd);
    stream.on("close", onClose);
    stream.on("error", ignore);
  }

  listen(listener: ClientStreamListener | undefined): void {
    this.listener = listener;
  }

  write(frame: Frame): boolean {
    return writeFrame(this.stream, frame);
  }

  end(frame?: Frame): void {
    endWithFrame(this.stream, frame);
  }

  onceDrain(listener: () => void): void {
    this.stream.once("drain", listener);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  reset(how: StreamReset): void {
    const stream = this.stream;
    if (stream.closed) return;
    if (how === "cancel") stream.close(http2Constants.NGHTTP2_CANCEL);
    // The server is done; if we are still sending, stop (RST_STREAM NO_ERROR, as
    // PROTOCOL-HTTP2.md asks) so the stream is released. Only then: a reset per call
    // looks like a rapid-reset attack to servers (Node answers with GOAWAY).
    else if (!stream.writableEnded) stream.close(http2Constants.NGHTTP2_NO_ERROR);
  }

  get closed(): boolean {
    return this.stream.closed;
  }

  closeReason(): StreamCloseReason {
    const stream = this.stream;
    const { connection, session } = this.transport;
    const rst = stream.rstCode;
    // Refused, or above the last stream id of a GOAWAY (which may also have ended the
    // connection): the server did not process the stream.
    const lastProcessed = connection.goawayLastStreamId(session);
    const aboveGoaway = lastProcessed !== undefined && stream.id !== undefined && stream.id > lastProcessed;
    const notProcessed = rst === http2Constants.NGHTTP2_REFUSED_STREAM || aboveGoaway;
    // Node detaches a closed stream from its session, so the transport keeps it.
    if (session.destroyed) {
      trace("call", () => `connection dropped under stream ${stream.id} (rst ${rst}, GOAWAY last stream id ${lastProcessed})`);
      return { code: StatusCode.UNAVAILABLE, details: "Connection dropped", notProcessed };
    }
    if (rst !== undefined && rst !== http2Constants.NGHTTP2_NO_ERROR) {
      return { code: http2ErrorCodeToStatus(rst), details: `Received RST_STREAM with code ${rst}`, notProcessed };
    }
    return { code: StatusCode.INTERNAL, details: "Stream closed without a gRPC status", notProcessed };
  }

  /** @internal */
  streamClosed(): void {
    this.transport.connection.streamClosed(this.transport.session, this.stream);
  }
}

function onResponse(this: AdaptedStream, headers: IncomingHttpHeaders, flags: number, raw: string[]): void {
  this[ADAPTER].listener?.onStreamHeaders(headers, raw, (flags & http2Constants.NGHTTP2_FLAG_END_STREAM) !== 0);
}

function onData(this: AdaptedStream, chunk: Buffer): void {
  this[ADAPTER].listener?.onStreamData(chunk);
}

function onTrailers(this: AdaptedStream, trailers: IncomingHttpHeaders, _flags: number, raw: string[]): void {
  this[ADAPTER].listener?.onStreamTrailers(trailers, raw);
}

function onEnd(this: AdaptedStream): void {
  this[ADAPTER].listener?.onStreamEnd();
}

function onClose(this: AdaptedStream): void {
  const adapter = this[ADAPTER];
  // The connection's books first: the call may start its next attempt on it.
  adapter.streamClosed();
  adapter.listener?.onStreamClose();
}

function ignore(): void {}
