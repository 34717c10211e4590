import { StatusCode, UsageError, type EOF, type Metadata, type MetadataInit, type ServicerContext } from "async-grpc";
import { MessageBuffer } from "./message-buffer.js";

/** How the test ends an RPC: what the testing channel's server sends as the status. */
export interface Ending<Res> {
  readonly response: Res | undefined;
  readonly trailingMetadata: MetadataInit | undefined;
  readonly code: StatusCode;
  readonly details: string;
}

/**
 * What every RPC the code under test started on a testing channel offers: its
 * metadata, initial metadata to send, and cancellation. The server side of the RPC
 * waits in `ending` until the test calls `terminate()`.
 */
export abstract class ChannelRpc<Req, Res> {
  private settle!: (ending: Ending<Res>) => void;
  private terminated = false;
  /** @internal What the RPC's handler waits for. */
  readonly ending = new Promise<Ending<Res>>((resolve) => (this.settle = resolve));

  constructor(
    protected readonly context: ServicerContext<Req, Res>,
    protected readonly path: string,
  ) {}

  /** The metadata the code under test sent (gRPC Python's `invocation_metadata`). */
  invocationMetadata(): Metadata {
    return this.context.invocationMetadata();
  }

  /** Sends initial metadata to the code under test (gRPC Python `send_initial_metadata()`). */
  sendInitialMetadata(metadata: MetadataInit): Promise<void> {
    return this.context.sendInitialMetadata(metadata);
  }

  /**
   * Resolves once the code under test has cancelled the RPC, or its deadline passed
   * (gRPC Python `cancelled()`); rejects if the RPC ended otherwise.
   */
  cancelled(): Promise<void> {
    const context = this.context;
    const cancelled = new Promise<void>((resolve, reject) => {
      const signal = context.signal;
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
      context.addDoneCallback(() => {
        if (signal.aborted) resolve();
        else reject(new Error(`${this.path} ended without being cancelled`));
      });
    });
    // Rejects for whoever awaits it, and is otherwise silent (the status tells).
    cancelled.catch(() => {});
    return cancelled;
  }

  protected end(ending: Ending<Res>): void {
    if (this.terminated) throw new UsageError(`${this.path} was already terminated`);
    this.terminated = true;
    this.settle(ending);
  }
}

/** An RPC whose requests the test takes one by one. */
abstract class RequestStreamChannelRpc<Req, Res> extends ChannelRpc<Req, Res> {
  private readonly requests: MessageBuffer<Req>;

  constructor(context: ServicerContext<Req, Res>, path: string) {
    super(context, path);
    this.requests = new MessageBuffer<Req>(() => context.read() as Promise<Req | EOF>, `a request of ${path}`);
  }

  /** The next request (gRPC Python `take_request()`); rejects if the request stream ended first. */
  takeRequest(): Promise<Req> {
    return this.requests.take();
  }

  /** Resolves once the code under test has closed its request stream (gRPC Python `requests_closed()`). */
  requestsClosed(): Promise<void> {
    return this.requests.drain();
  }
}

/** A unary-unary RPC the code under test started (gRPC Python `UnaryUnaryChannelRpc`). */
export class UnaryUnaryChannelRpc<Req, Res> extends ChannelRpc<Req, Res> {
  /** @internal Made by the testing channel. */
  constructor(
    /** The request the code under test sent. */
    readonly request: Req,
    context: ServicerContext<Req, Res>,
    path: string,
  ) {
    super(context, path);
  }

  /** Ends the RPC (gRPC Python `terminate()`); `response` is sent only if `code` is OK. */
  terminate(response: Res | undefined, trailingMetadata: MetadataInit | undefined, code: StatusCode, details = ""): void {
    this.end({ response, trailingMetadata, code, details });
  }
}

/** A unary-stream RPC the code under test started (gRPC Python `UnaryStreamChannelRpc`). */
export class UnaryStreamChannelRpc<Req, Res> extends ChannelRpc<Req, Res> {
  /** @internal Made by the testing channel. */
  constructor(
    /** The request the code under test sent. */
    readonly request: Req,
    context: ServicerContext<Req, Res>,
    path: string,
  ) {
    super(context, path);
  }

  /** Sends a response (gRPC Python `send_response()`); resolves when flow control took it. */
  sendResponse(response: Res): Promise<void> {
    return this.context.write(response);
  }

  /** Ends the RPC (gRPC Python `terminate()`). */
  terminate(trailingMetadata: MetadataInit | undefined, code: StatusCode, details = ""): void {
    this.end({ response: undefined, trailingMetadata, code, details });
  }
}

/** A stream-unary RPC the code under test started (gRPC Python `StreamUnaryChannelRpc`). */
export class StreamUnaryChannelRpc<Req, Res> extends RequestStreamChannelRpc<Req, Res> {
  /** Ends the RPC (gRPC Python `terminate()`); `response` is sent only if `code` is OK. */
  terminate(response: Res | undefined, trailingMetadata: MetadataInit | undefined, code: StatusCode, details = ""): void {
    this.end({ response, trailingMetadata, code, details });
  }
}

/** A stream-stream RPC the code under test started (gRPC Python `StreamStreamChannelRpc`). */
export class StreamStreamChannelRpc<Req, Res> extends RequestStreamChannelRpc<Req, Res> {
  /** Sends a response (gRPC Python `send_response()`); resolves when flow control took it. */
  sendResponse(response: Res): Promise<void> {
    return this.context.write(response);
  }

  /** Ends the RPC (gRPC Python `terminate()`). */
  terminate(trailingMetadata: MetadataInit | undefined, code: StatusCode, details = ""): void {
    this.end({ response: undefined, trailingMetadata, code, details });
  }
}

/** @internal The status a testing channel's handler ends its RPC with, as a handler would. */
export async function endAsTold<Req, Res>(rpc: ChannelRpc<Req, Res>, context: ServicerContext<Req, Res>): Promise<Res | undefined> {
  const signal = context.signal;
  const ending = await new Promise<Ending<Res> | undefined>((resolve) => {
    if (signal.aborted) return resolve(undefined);
    signal.addEventListener("abort", () => resolve(undefined), { once: true });
    void rpc.ending.then(resolve);
  });
  // Cancelled, past its deadline or the server stopping: the status is decided already.
  if (ending === undefined) throw signal.reason;
  if (ending.code !== StatusCode.OK) context.abort(ending.code, ending.details, ending.trailingMetadata);
  if (ending.trailingMetadata !== undefined) context.setTrailingMetadata(ending.trailingMetadata);
  if (ending.details !== "") context.setDetails(ending.details);
  return ending.response;
}

