import { MessageDecoder, RpcError, StatusCode, type Compressor } from "../wire/index.js";

/** Where a `MessageReader` delivers: whole messages as they came off the wire, in order, or its one error. */
export interface MessageSink {
  /** `compressed`: the message has the compressed flag set; `decode` inflates it. */
  onMessageBytes(bytes: Uint8Array, compressed: boolean): void;
  onReadError(error: RpcError): void;
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
   * corrupt input), then parsed. A failure goes to `fail`, whose error is thrown.
   */
  decode<T>(bytes: Uint8Array, compressed: boolean, parse: (bytes: Uint8Array) => T, fail: (err: unknown) => RpcError): T | Promise<T> {
    const parsed = (payload: Uint8Array): T => {
      try {
        return parse(payload);
      } catch (err) {
        throw fail(err);
      }
    };
    if (!compressed) return parsed(bytes);
    return this.decompressor!.decompress(bytes, this.maxMessageLength).then(parsed, (err: unknown) => {
      throw fail(err);
    });
  }

  private onFrame = (payload: Uint8Array, compressed: boolean): void => {
    if (!this.stopped) this.sink.onMessageBytes(payload, compressed);
  };
}
