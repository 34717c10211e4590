import type { EOF, Metadata, StatusCode } from "async-grpc";
import { MessageBuffer } from "./message-buffer.js";

/** How a call ended with a response stream (gRPC Python's `termination()` tuple). */
export interface Termination {
  readonly trailingMetadata: Metadata;
  readonly code: StatusCode;
  readonly details: string;
}

/** How a call with one response ended: its response, undefined unless the code is OK. */
export interface UnaryTermination<Res> extends Termination {
  readonly response: Res | undefined;
}

// What the handles use of the four client call kinds.
interface CallState {
  initialMetadata(): Promise<Metadata>;
  cancel(): boolean;
  code(): Promise<StatusCode>;
  details(): Promise<string>;
  trailingMetadata(): Promise<Metadata>;
}
interface SingleResponse<Res> extends CallState, PromiseLike<Res> {}
interface ResponseStream<Res> extends CallState {
  read(): Promise<Res | EOF>;
}
interface RequestStream<Req> {
  write(request: Req): Promise<void>;
  doneWriting(): Promise<void>;
}

/** What every server-side testing RPC offers: its initial metadata and cancellation. */
abstract class ServerRpc {
  constructor(protected readonly call: CallState) {}

  /** The servicer's initial metadata, once sent (gRPC Python `initial_metadata()`). */
  initialMetadata(): Promise<Metadata> {
    return this.call.initialMetadata();
  }

  /** Cancels the RPC as a client would: the servicer's `context.signal` aborts (gRPC Python `cancel()`). */
  cancel(): void {
    this.call.cancel();
  }

  protected async status(): Promise<Termination> {
    const [code, details, trailingMetadata] = await Promise.all([this.call.code(), this.call.details(), this.call.trailingMetadata()]);
    return { code, details, trailingMetadata };
  }
}

/** The responses of a streaming call, taken one by one. */
abstract class StreamingServerRpc<Res> extends ServerRpc {
  private readonly responses: MessageBuffer<Res>;

  constructor(call: ResponseStream<Res>, path: string) {
    super(call);
    this.responses = new MessageBuffer(() => call.read(), `a response of ${path}`);
  }

  /**
   * The next response the servicer sent (gRPC Python `take_response()`); rejects with
   * the call's `RpcError` if it ended otherwise, or an Error if it ended OK without one.
   */
  takeResponse(): Promise<Res> {
    return this.responses.take();
  }

  /**
   * Resolves once the servicer has ended the RPC (gRPC Python `termination()`).
   * Responses not taken yet stay takeable.
   */
  async termination(): Promise<Termination> {
    await this.responses.drain();
    return this.status();
  }
}

async function unaryTermination<Res>(call: SingleResponse<Res>, status: Promise<Termination>): Promise<UnaryTermination<Res>> {
  const response = await call.then(
    (r) => r,
    () => undefined,
  );
  return { response, ...(await status) };
}

/** A unary-unary RPC the test started on a testing server (gRPC Python `UnaryUnaryServerRpc`). */
export class UnaryUnaryServerRpc<Res> extends ServerRpc {
  constructor(protected override readonly call: SingleResponse<Res>) {
    super(call);
  }

  /** Resolves once the servicer has ended the RPC (gRPC Python `termination()`). */
  termination(): Promise<UnaryTermination<Res>> {
    return unaryTermination(this.call, this.status());
  }
}

/** A unary-stream RPC the test started on a testing server (gRPC Python `UnaryStreamServerRpc`). */
export class UnaryStreamServerRpc<Res> extends StreamingServerRpc<Res> {}

/** A stream-unary RPC the test started on a testing server (gRPC Python `StreamUnaryServerRpc`). */
export class StreamUnaryServerRpc<Req, Res> extends ServerRpc {
  constructor(protected override readonly call: SingleResponse<Res> & RequestStream<Req>) {
    super(call);
  }

  /** Sends a request to the servicer (gRPC Python `send_request()`); resolves when it is on its way. */
  sendRequest(request: Req): Promise<void> {
    return this.call.write(request);
  }

  /** Ends the request stream (gRPC Python `requests_closed()`). */
  requestsClosed(): Promise<void> {
    return this.call.doneWriting();
  }

  /** Resolves once the servicer has ended the RPC (gRPC Python `termination()`). */
  termination(): Promise<UnaryTermination<Res>> {
    return unaryTermination(this.call, this.status());
  }
}

/** A stream-stream RPC the test started on a testing server (gRPC Python `StreamStreamServerRpc`). */
export class StreamStreamServerRpc<Req, Res> extends StreamingServerRpc<Res> {
  constructor(
    protected override readonly call: ResponseStream<Res> & RequestStream<Req>,
    path: string,
  ) {
    super(call, path);
  }

  /** Sends a request to the servicer (gRPC Python `send_request()`); resolves when it is on its way. */
  sendRequest(request: Req): Promise<void> {
    return this.call.write(request);
  }

  /** Ends the request stream (gRPC Python `requests_closed()`). */
  requestsClosed(): Promise<void> {
    return this.call.doneWriting();
  }
}
