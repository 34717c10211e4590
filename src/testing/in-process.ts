import {
  StatusCode,
  transportChannel,
  type Channel,
  type ChannelConfig,
  type ClientStream,
  type ClientStreamListener,
  type ClientTransport,
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

/** Options of `inProcessChannel()`: a channel's, and the in-memory stream window. */
export interface InProcessChannelConfig extends ChannelConfig {
  /**
   * The channel's name: its target as instrumentation and errors show it, and the
   * calls' `:authority` (default "in-process").
   */
  name?: string;
  /**
   * Bytes one side of a stream may have sent that the other has not read before its
   * `write()` waits: the per-stream flow-control window, as HTTP/2's (default 1 MiB).
   */
  windowBytes?: number;
}

const DEFAULT_WINDOW_BYTES = 1024 * 1024;

/**
 * A channel to `server` in the same process, connected in memory: no sockets, no
 * HTTP/2 framing, and the server needs no port (it must be started). Calls keep gRPC
 * over HTTP/2's semantics, because they go through the same client and server call
 * machinery as over the network, only the stream below differs: metadata (binary
 * `-bin` keys included, reserved keys dropped), status, details and trailing metadata,
 * Trailers-Only responses, deadlines (`grpc-timeout` travels as a header and the
 * server applies it), cancellation both ways, flow control (a side that stops reading
 * makes the other's `write()` wait once `windowBytes` are unread), message size
 * limits, compression, and the server's graceful `stop()`. Messages are handed across
 * by reference, not copied.
 *
 * gRPC Python has no in-process transport; grpc-java's `InProcessChannelBuilder` (with
 * `InProcessServerBuilder`) is the model. Use it with generated clients like any
 * channel: `createClient(Greeter, inProcessChannel(server))`.
 */
export function inProcessChannel(server: Server, config: InProcessChannelConfig = {}): Channel {
  return transportChannel(config.name ?? "in-process", inProcessTransport(server, config), config);
}

/**
 * The transport below `inProcessChannel()`: every stream it opens is accepted by
 * `server` (`server.acceptStream()`). For a channel of one's own making
 * (`transportChannel()`), say with a transport that wraps this one to inject faults.
 * gRPC Python has none; grpc-java's `InProcessTransport` is the model.
 */
export function inProcessTransport(server: Server, config: { windowBytes?: number } = {}): ClientTransport {
  const window = config.windowBytes ?? DEFAULT_WINDOW_BYTES;
  if (!(window > 0)) throw new RangeError(`windowBytes must be positive, got ${String(config.windowBytes)}`);
  return new InProcessTransport(server, window);
}

/** The client side of the in-process transport: every stream it opens is accepted by `server`. */
class InProcessTransport implements ClientTransport {
  constructor(
    private readonly server: Server,
    private readonly windowBytes: number,
  ) {}

  openStream(headers: OutgoingHeaders, listener: ClientStreamListener): ClientStream {
    const [incoming, raw] = toIncoming(headers);
    return new InProcessStream(this.server, this.windowBytes, incoming, raw, listener).client;
  }
}

// ---- the events one direction of a stream carries ----------------------------------

const enum Kind {
  Accept,
  Headers,
  Trailers,
  End,
  Close,
}

/** A header block, the end of a direction, or the close; data travels as plain chunks. */
class Signal {
  constructor(
    readonly kind: Kind,
    readonly headers?: IncomingHeaders,
    readonly raw?: string[],
    readonly endStream = false,
  ) {}
}

const ACCEPT = new Signal(Kind.Accept);
const END = new Signal(Kind.End);
const CLOSE = new Signal(Kind.Close);

type Item = Uint8Array | Signal;

/**
 * One direction of a stream: what the sender wrote and the receiver has not been
 * given yet, delivered in order on a later turn of the event loop (as a socket would)
 * while the receiver is not paused. `buffered` counts undelivered data bytes; past
 * the window the sender's `write()` says "wait", and the drain comes once the
 * receiver has taken enough.
 */
class Flow {
  items: Item[] = [];
  head = 0;
  buffered = 0;
  paused = false;
  queued = false;
  drainWaiters: (() => void)[] | undefined;

  constructor(
    readonly stream: InProcessStream,
    readonly toServer: boolean,
    readonly window: number,
  ) {}

  push(item: Item): void {
    this.items.push(item);
    if (item instanceof Uint8Array) this.buffered += item.byteLength;
    schedule(this);
  }

  /** Drops what was not delivered (a reset); the close may still follow. */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.buffered = 0;
  }

  get hasRoom(): boolean {
    return this.buffered < this.window;
  }

  /** Delivers what was queued before this turn; what the receiver's reactions queue goes on the next. */
  flush(): void {
    const items = this.items;
    const last = items.length;
    const stream = this.stream;
    while (this.head < last && this.items === items) {
      const item = items[this.head]!;
      if (this.heldBack(item)) break;
      this.head++;
      if (item instanceof Uint8Array) {
        this.buffered -= item.byteLength;
        stream.deliverData(this.toServer, item);
      } else {
        stream.deliverSignal(this.toServer, item);
      }
    }
    if (this.items === items && this.head === items.length) {
      this.items = [];
      this.head = 0;
    }
    const waiters = this.drainWaiters;
    if (waiters !== undefined && this.hasRoom) {
      this.drainWaiters = undefined;
      for (const w of waiters) w();
    }
    // Queued while we delivered: on the next turn, unless the receiver holds it back.
    if (this.head < this.items.length && !this.heldBack(this.items[this.head]!)) schedule(this);
  }

  /**
   * Whether the receiver does not take `item` now: it paused, or (the server's side)
   * its call has not started listening. The close is never held back, as a reset
   * stream's is not.
   */
  private heldBack(item: Item): boolean {
    if (item === CLOSE) return false;
    return this.paused || (this.toServer && item !== ACCEPT && this.stream.serverListener === undefined);
  }
}

// One immediate delivers every flow with something to deliver: a call costs no timer
// of its own, and a stream that never stops writing still lets timers and I/O run.
let dirty: Flow[] = [];
let scheduled = false;

function schedule(flow: Flow): void {
  if (flow.queued) return;
  flow.queued = true;
  dirty.push(flow);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  scheduled = false;
  const flows = dirty;
  dirty = [];
  for (const flow of flows) {
    flow.queued = false;
    flow.flush();
  }
}

// ---- one stream: the client's half and the server's half ------------------------

/**
 * One call's stream in memory. It closes once both sides have ended their direction
 * (the client its requests, the server its trailers) or either has reset it; each
 * side then hears of the close after what it still has to receive.
 */
class InProcessStream {
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
   * Stops the stream early. What the resetting side was to receive is dropped; what it
   * sent is dropped too unless it had ended its direction (trailers after a status
   * still reach the client).
   */
  reset(by: "client" | "server", how: StreamReset): void {
    if (this.closed) return;
    this.resetBy = by;
    this.resetHow = how;
    const inbound = by === "client" ? this.toClient : this.toServer;
    const outbound = by === "client" ? this.toServer : this.toClient;
    const outboundEnded = by === "client" ? this.clientEnded : this.serverEnded;
    inbound.clear();
    if (!outboundEnded) outbound.clear();
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
    (this.stream.toServer.drainWaiters ??= []).push(listener);
  }

  pause(): void {
    this.stream.toClient.paused = true;
  }

  resume(): void {
    const flow = this.stream.toClient;
    if (!flow.paused) return;
    flow.paused = false;
    schedule(flow);
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
    (this.stream.toClient.drainWaiters ??= []).push(listener);
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
    const flow = this.stream.toServer;
    if (!flow.paused) return;
    flow.paused = false;
    schedule(flow);
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
function toIncoming(headers: OutgoingHeaders): [IncomingHeaders, string[]] {
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
