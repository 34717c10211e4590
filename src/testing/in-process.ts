import { transportChannel, type Channel, type ChannelConfig, type ClientStream, type ClientStreamListener, type ClientTransport, type OutgoingHeaders, type Server } from "async-grpc";
import { InProcessStream, toIncoming } from "./in-process-stream.js";

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
