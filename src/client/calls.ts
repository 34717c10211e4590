import type { CallOptions } from "./call-options.js";
import type { CallHost, Method, WriteOptions } from "./client-call.js";
import { StreamingResponseCall } from "./streaming-response-call.js";
import { UnaryResponseCall } from "./unary-response-call.js";

/** One request, one response (gRPC Python `grpc.aio.UnaryUnaryCall`): await it. */
export class UnaryUnaryCall<Req = unknown, Res = unknown> extends UnaryResponseCall<Req, Res> {
  /** @internal Made by a channel's `unaryUnary()` multi-callable. */
  constructor(host: CallHost, method: Method<Req, Res>, request: Req, options?: CallOptions) {
    super(host, method, options, false);
    this.sendOnly(request);
    this.launch();
  }
}

/** One request, a stream of responses (gRPC Python `grpc.aio.UnaryStreamCall`). */
export class UnaryStreamCall<Req = unknown, Res = unknown> extends StreamingResponseCall<Req, Res> {
  /** @internal Made by a channel's `unaryStream()` multi-callable. */
  constructor(host: CallHost, method: Method<Req, Res>, request: Req, options?: CallOptions) {
    super(host, method, options, true);
    this.sendOnly(request);
    this.launch();
  }
}

/**
 * A stream of requests, one response (gRPC Python `grpc.aio.StreamUnaryCall`): pass
 * an iterable of requests, or `write()` them and `doneWriting()`; then await it.
 */
export class StreamUnaryCall<Req = unknown, Res = unknown> extends UnaryResponseCall<Req, Res> {
  /** @internal Made by a channel's `streamUnary()` multi-callable. */
  constructor(host: CallHost, method: Method<Req, Res>, requests: AsyncIterable<Req> | Iterable<Req> | undefined, options?: CallOptions) {
    super(host, method, options, false);
    this.launch();
    if (requests !== undefined) void this.pump(requests);
  }

  /** Sends one request; resolves when HTTP/2 flow control has room (gRPC Python `write()`). */
  write(request: Req, options?: WriteOptions): Promise<void> {
    return this.writeMessage(request, options);
  }

  /** Half-closes the request stream (gRPC Python `done_writing()`). */
  async doneWriting(): Promise<void> {
    this.endWrites();
  }
}

/** Streams both ways (gRPC Python `grpc.aio.StreamStreamCall`). */
export class StreamStreamCall<Req = unknown, Res = unknown> extends StreamingResponseCall<Req, Res> {
  /** @internal Made by a channel's `streamStream()` multi-callable. */
  constructor(host: CallHost, method: Method<Req, Res>, requests: AsyncIterable<Req> | Iterable<Req> | undefined, options?: CallOptions) {
    super(host, method, options, true);
    this.launch();
    if (requests !== undefined) void this.pump(requests);
  }

  /** Sends one request; resolves when HTTP/2 flow control has room (gRPC Python `write()`). */
  write(request: Req, options?: WriteOptions): Promise<void> {
    return this.writeMessage(request, options);
  }

  /** Half-closes the request stream (gRPC Python `done_writing()`). */
  async doneWriting(): Promise<void> {
    this.endWrites();
  }
}
