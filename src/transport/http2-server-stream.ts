import type { ServerHttp2Stream } from "node:http2";
import type { OutgoingHeaders, ServerStream, ServerStreamListener, StreamReset, ConnectionAuth } from "./call-stream.js";
import { connectionAuthOf } from "./connection-auth.js";
import { http2Constants, RESPOND_END_STREAM, RESPOND_WITH_TRAILERS } from "./http2-constants.js";
import { endWithFrame, isSmallFrame, writeFrame, type Frame } from "./message-writer.js";
import { streamWriteBudget } from "./server-session.js";

// The Node stream's listeners are these module-level functions, shared by every
// stream: each finds its adapter through this property, so a call registers no
// closures of its own.
const ADAPTER = Symbol("async-grpc.serverStream");
type AdaptedStream = ServerHttp2Stream & { [ADAPTER]: Http2ServerStream };

/**
 * An accepted HTTP/2 stream behind the transport-neutral `ServerStream`: trailers go
 * out when Node asks for them (`wantTrailers`), a client still sending after them is
 * reset (on the next turn: Node would reset the stream before the trailers leave), and
 * a response may queue up to its share of the connection's write budget before its
 * writer waits for `drain`.
 */
export class Http2ServerStream implements ServerStream {
  listener: ServerStreamListener | undefined;
  private trailers: OutgoingHeaders | undefined;
  private stopClient: StreamReset = "done";
  private requestsEnded = false;

  constructor(private readonly stream: ServerHttp2Stream) {
    (stream as AdaptedStream)[ADAPTER] = this;
    // Stream errors are not thrown: the close (and the status) says what happened.
    stream.on("error", ignore);
  }

  listen(listener: ServerStreamListener): void {
    this.listener = listener;
    const stream = this.stream;
    // 'close' and 'end' come once per stream, so `on` spares once()'s wrappers.
    stream.on("close", onClose);
    stream.on("data", onData);
    stream.on("end", onEnd);
  }

  sendHeaders(headers: OutgoingHeaders): void {
    this.stream.respond(headers, RESPOND_WITH_TRAILERS);
    this.stream.on("wantTrailers", onWantTrailers);
  }

  write(frame: Frame): boolean {
    const stream = this.stream;
    // Small frames go out in batches of up to 16 KiB and wait for 'drain' as Node's
    // high-water mark says, so that the session sends while the handler produces (a
    // handler of 16 B messages held to the budget fills 1 MiB before anything leaves).
    return writeFrame(stream, frame) || (!isSmallFrame(frame) && stream.writableLength < streamWriteBudget(stream));
  }

  onceDrain(listener: () => void): void {
    this.stream.once("drain", listener);
  }

  end(frame: Frame | undefined, trailers: OutgoingHeaders, stopClient: StreamReset): void {
    if (this.stream.destroyed) return;
    this.trailers = trailers;
    this.stopClient = stopClient;
    endWithFrame(this.stream, frame);
  }

  respond(headers: OutgoingHeaders, stopClient?: StreamReset): void {
    try {
      this.stream.respond(headers, RESPOND_END_STREAM);
    } catch {
      return; // already reset by the peer
    }
    if (stopClient !== undefined) {
      this.stopClient = stopClient;
      this.stopIfClientSending();
    }
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  reset(how: StreamReset): void {
    if (!this.stream.closed) this.stream.close(how === "cancel" ? http2Constants.NGHTTP2_CANCEL : http2Constants.NGHTTP2_NO_ERROR);
  }

  get closed(): boolean {
    return this.stream.closed || this.stream.destroyed;
  }

  get writeBlocked(): boolean {
    return this.stream.writableNeedDrain;
  }

  peer(): string {
    const socket = this.stream.session?.socket;
    if (!socket) return "unknown";
    const address = socket.remoteAddress;
    if (address === undefined) return `unix:${(socket as { localAddress?: string }).localAddress ?? ""}`;
    return socket.remoteFamily === "IPv6" ? `ipv6:[${address}]:${socket.remotePort}` : `ipv4:${address}:${socket.remotePort}`;
  }

  authContext(): ConnectionAuth | undefined {
    return connectionAuthOf(this.stream.session);
  }

  /** @internal */
  sendTrailers(): void {
    const stream = this.stream;
    try {
      stream.sendTrailers(this.trailers ?? { "grpc-status": "0" });
    } catch {
      return; // the stream was reset meanwhile; nothing is left to tell
    }
    // Not from inside this event: Node would reset the stream before the trailers go out.
    if (!this.requestsEnded) setImmediate(closeIfClientSending, this);
  }

  /** @internal */
  requestEnded(): void {
    this.requestsEnded = true;
    this.listener?.onStreamEnd();
  }

  /** @internal After our status, a client still sending is told to stop; otherwise a stream whose client never half-closes stays open. */
  stopIfClientSending(): void {
    if (this.requestsEnded || this.stream.closed) return;
    this.reset(this.stopClient);
  }
}

function closeIfClientSending(adapter: Http2ServerStream): void {
  adapter.stopIfClientSending();
}

function onData(this: AdaptedStream, chunk: Buffer): void {
  this[ADAPTER].listener!.onStreamData(chunk);
}

function onEnd(this: AdaptedStream): void {
  this[ADAPTER].requestEnded();
}

function onClose(this: AdaptedStream): void {
  this[ADAPTER].listener!.onStreamClose();
}

function onWantTrailers(this: AdaptedStream): void {
  this[ADAPTER].sendTrailers();
}

function ignore(): void {}
