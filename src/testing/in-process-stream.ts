import {
  StatusCode,
  type ClientStream,
  type ClientStreamListener,
  type ConnectionAuth,
  type Frame,
  type IncomingHeaders,
  type OutgoingHeaders,
  type Server,
  type ServerStream,
  type ServerStreamListener,
  type StreamCloseReason,
  type StreamReset,
} from "async-grpc";
import { ACCEPT, CLOSE, END, Flow, Kind, schedule, Signal, type FlowEnds } from "./in-process-flow.js";

/**
 * One call's stream in memory. It closes once both sides have ended their direction
 * (the client its requests, the server its trailers) or either has reset it; each
 * side then hears of the close after what it still has to receive.
 */
export class InProcessStream implements FlowEnds {
  readonly client: InProcessClientStream;
  readonly server: InProcessServerStream;
  readonly toServer: Flow;
  readonly toClient: Flow;
  clientListener: ClientStreamListener | undefined;
  serverListener: ServerStreamListener | undefined;
  clientEnded = false;
  serverEnded = false;
  closed = false;
  /** How the stream was reset, and by whom; undefined when both sides ended it. */
  resetBy: "client" | "server" | undefined;
  resetHow: StreamReset = "done";
  stopClient: StreamReset = "done";

  get serverListening(): boolean {
    return this.serverListener !== undefined;
  }

  constructor(
    private readonly acceptor: Server,
    window: number,
    private readonly headers: IncomingHeaders,
    private readonly raw: string[],
    listener: ClientStreamListener,
  ) {
    this.clientListener = listener;
    this.client = new InProcessClientStream(this);
    this.server = new InProcessServerStream(this);
    this.toServer = new Flow(this, true, window);
    this.toClient = new Flow(this, false, window);
    this.toServer.push(ACCEPT);
  }

  deliverData(toServer: boolean, chunk: Uint8Array): void {
    if (toServer) this.serverListener?.onStreamData(chunk);
    else this.clientListener?.onStreamData(chunk);
  }

  deliverSignal(toServer: boolean, signal: Signal): void {
    if (toServer) {
      const listener = this.serverListener;
      if (signal.kind === Kind.Accept) this.acceptor.acceptStream(this.server, this.headers, this.raw);
      else if (signal.kind === Kind.End) listener?.onStreamEnd();
      else if (signal.kind === Kind.Close) listener?.onStreamClose();
      return;
    }
    const listener = this.clientListener;
    if (listener === undefined) return;
    switch (signal.kind) {
      case Kind.Headers:
        listener.onStreamHeaders(signal.headers!, signal.raw!, signal.endStream);
        break;
      case Kind.Trailers:
        listener.onStreamTrailers(signal.headers!, signal.raw!);
        break;
      case Kind.End:
        listener.onStreamEnd();
        break;
      case Kind.Close:
        listener.onStreamClose();
        break;
    }
  }

  send(toServer: boolean, frame: Frame): boolean {
    const flow = toServer ? this.toServer : this.toClient;
    if (this.closed || (toServer ? this.clientEnded : this.serverEnded)) return true;
    if (frame instanceof Uint8Array) flow.push(frame);
    else {
      flow.push(frame[0]);
      flow.push(frame[1]);
    }
    return flow.hasRoom;
  }

  endClient(): void {
    if (this.closed || this.clientEnded) return;
    this.clientEnded = true;
    this.toServer.push(END);
    if (this.serverEnded) this.close();
  }

  endServer(last: Signal): void {
    if (this.closed || this.serverEnded) return;
    this.serverEnded = true;
    this.toClient.push(last);
    this.toClient.push(END);
    if (this.clientEnded) this.close();
    // After the status, a client still sending is told to stop, so that the stream closes.
    else this.reset("server", this.stopClient);
  }

  /**
   * Stops the stream early, as RST_STREAM does: what is undelivered either way is
   * dropped and both sides hear of the close at once, whether or not they read. Only
   * a server that has sent its status keeps it: the trailers still reach the client,
   * as they left before the reset.
   */
  reset(by: "client" | "server", how: StreamReset): void {
    if (this.closed) return;
    this.resetBy = by;
    this.resetHow = how;
    if (by === "client") {
      this.toClient.clear();
      this.toServer.clear();
    } else {
      this.toServer.clear();
      if (!this.serverEnded) this.toClient.clear();
    }
    this.close();
  }

  private close(): void {
    this.closed = true;
    this.toClient.push(CLOSE);
    this.toServer.push(CLOSE);
  }

  closeReason(): StreamCloseReason {
    if (this.resetBy === "server" && this.resetHow === "cancel") {
      return { code: StatusCode.CANCELLED, details: "The server cancelled the stream", notProcessed: false };
    }
    return { code: StatusCode.INTERNAL, details: "Stream closed without a gRPC status", notProcessed: false };
  }
}

/** The client's half: what `ClientCall` writes to and hears from. */
class InProcessClientStream implements ClientStream {
  constructor(private readonly stream: InProcessStream) {}

  listen(listener: ClientStreamListener | undefined): void {
    this.stream.clientListener = listener;
  }

  write(frame: Frame): boolean {
    return this.stream.send(true, frame);
  }

  end(frame?: Frame): void {
    if (frame !== undefined) this.stream.send(true, frame);
    this.stream.endClient();
  }

  onceDrain(listener: () => void): void {
    this.stream.toServer.onceDrain(listener);
  }

  pause(): void {
    this.stream.toClient.paused = true;
  }

  resume(): void {
    this.stream.toClient.resume();
  }

  reset(how: StreamReset): void {
    const stream = this.stream;
    // "done": the call has its status; a stream whose requests have all been sent needs no reset.
    if (how === "done" && stream.clientEnded) return;
    stream.reset("client", how);
  }

  get closed(): boolean {
    return this.stream.closed;
  }

  closeReason(): StreamCloseReason {
    return this.stream.closeReason();
  }
}

/** The server's half: what `Server.acceptStream` is given and `ServerCall` answers on. */
class InProcessServerStream implements ServerStream {
  constructor(private readonly stream: InProcessStream) {}

  listen(listener: ServerStreamListener): void {
    this.stream.serverListener = listener;
    schedule(this.stream.toServer);
  }

  sendHeaders(headers: OutgoingHeaders): void {
    const stream = this.stream;
    if (stream.closed || stream.serverEnded) return;
    const [incoming, raw] = toIncoming(headers);
    stream.toClient.push(new Signal(Kind.Headers, incoming, raw));
  }

  write(frame: Frame): boolean {
    return this.stream.send(false, frame);
  }

  onceDrain(listener: () => void): void {
    this.stream.toClient.onceDrain(listener);
  }

  end(frame: Frame | undefined, trailers: OutgoingHeaders, stopClient: StreamReset): void {
    const stream = this.stream;
    if (frame !== undefined) stream.send(false, frame);
    const [incoming, raw] = toIncoming(trailers);
    stream.stopClient = stopClient;
    stream.endServer(new Signal(Kind.Trailers, incoming, raw));
  }

  respond(headers: OutgoingHeaders, stopClient?: StreamReset): void {
    const stream = this.stream;
    const [incoming, raw] = toIncoming(headers);
    stream.stopClient = stopClient ?? "done";
    stream.endServer(new Signal(Kind.Headers, incoming, raw, true));
  }

  pause(): void {
    this.stream.toServer.paused = true;
  }

  resume(): void {
    this.stream.toServer.resume();
  }

  reset(how: StreamReset): void {
    this.stream.reset("server", how);
  }

  get closed(): boolean {
    return this.stream.closed;
  }

  get writeBlocked(): boolean {
    return !this.stream.toClient.hasRoom;
  }

  peer(): string {
    // gRPC core's in-process transport names its peer so.
    return "inproc";
  }

  authContext(): ConnectionAuth | undefined {
    return undefined;
  }
}

/**
 * A header block as the receiving side gets it: values as strings, a repeated name
 * joined with ", " in the object and kept apart in the flat list, as `node:http2` does.
 */
export function toIncoming(headers: OutgoingHeaders): [IncomingHeaders, string[]] {
  const incoming: IncomingHeaders = {};
  const raw: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const v of value) raw.push(name, v);
      incoming[name] = value.join(", ");
    } else {
      const v = String(value);
      raw.push(name, v);
      incoming[name] = v;
    }
  }
  return [incoming, raw];
}
