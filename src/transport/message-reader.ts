import { MessageDecoder, RpcError, StatusCode, type Compressor } from "../wire/index.js";

/** Where a `MessageReader` delivers: whole messages as they came off the wire, in order, or its one error. */
export interface MessageSink {
  /** `compressed`: the message has the compressed flag set; `decode` inflates it. */
  onMessageBytes(bytes: Uint8Array, compressed: boolean): void;
  onReadError(error: RpcError): void;
}

/** Turns received messages into values for one call: parses one, and ends the call when reading fails. */
export interface MessageParser<T> {
  parseMessage(bytes: Uint8Array): T;
  /** Reading failed (a bad or undecompressable message): end the call, and return the error the reader gets. */
  readFailed(err: unknown): RpcError;
}

/**
 * Turns the DATA chunks of one HTTP/2 stream into messages: length-prefixed decoding
 * bounded by the receive limit, synchronously and in order. Decompression is not done
 * on arrival but when whoever consumes a message asks for it, so that
 * compressed input is held back by the same backpressure as the rest (`decode`).
 */
export class MessageReader {
  private readonly decoder: MessageDecoder;
  private stopped = false;

  constructor(
    private readonly sink: MessageSink,
    private readonly maxMessageLength: number,
    private readonly decompressor: Compressor | undefined,
  ) {
    this.decoder = new MessageDecoder({ maxMessageLength, compressionNegotiated: decompressor !== undefined });
  }

  push(chunk: Uint8Array): void {
    if (this.stopped) return;
    try {
      this.decoder.push(chunk, this.onFrame);
    } catch (err) {
      this.stopped = true;
      this.sink.onReadError(RpcError.from(err, StatusCode.INTERNAL));
    }
  }

  /** Ignores whatever arrives from now on (the call is over, or nobody will read). */
  stop(): void {
    this.stopped = true;
  }

  /** True when the stream ended inside a message. */
  get hasPartialMessage(): boolean {
    return this.decoder.hasPartialMessage;
  }

  /**
   * Turns one received message into what the reader gets: decompressed when its flag
   * says so (bounded by the receive limit: RESOURCE_EXHAUSTED past it, INTERNAL for
   * corrupt input), then parsed by `parser`. A failure goes to `parser.readFailed`,
   * whose error is thrown.
   */
  decode<T>(bytes: Uint8Array, compressed: boolean, parser: MessageParser<T>): T | Promise<T> {
    if (!compressed) return parse(parser, bytes);
    return this.decompressor!.decompress(bytes, this.maxMessageLength).then(
      (payload) => parse(parser, payload),
      (err: unknown) => {
        throw parser.readFailed(err);
      },
    );
  }

  private onFrame = (payload: Uint8Array, compressed: boolean): void => {
    if (!this.stopped) this.sink.onMessageBytes(payload, compressed);
  };
}

function parse<T>(parser: MessageParser<T>, bytes: Uint8Array): T {
  try {
    return parser.parseMessage(bytes);
  } catch (err) {
    throw parser.readFailed(err);
  }
}
