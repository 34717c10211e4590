import { MessageDecoder, RpcError, StatusCode, type Compressor } from "../wire/index.js";

/** Where a `MessageReader` delivers: whole messages as they came off the wire, in order, or its one error. */
export interface MessageSink {
  /** `compressed`: the message has the compressed flag set; `inflate` it before use. */
  onMessageBytes(bytes: Uint8Array, compressed: boolean): void;
  onReadError(error: RpcError): void;
}

/**
 * Turns the DATA chunks of one HTTP/2 stream into messages: length-prefixed decoding
 * bounded by the receive limit, synchronously and in order. Decompression is not done
 * here but by whoever consumes a message (`inflate`), when it is consumed, so that
 * compressed input is held back by the same backpressure as the rest.
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
   * A received message's payload, decompressed when its flag says so, bounded by the
   * receive limit (RESOURCE_EXHAUSTED past it, INTERNAL for corrupt input).
   */
  inflate(bytes: Uint8Array, compressed: boolean): Uint8Array | Promise<Uint8Array> {
    if (!compressed) return bytes;
    return this.decompressor!.decompress(bytes, this.maxMessageLength);
  }

  private onFrame = (payload: Uint8Array, compressed: boolean): void => {
    if (!this.stopped) this.sink.onMessageBytes(payload, compressed);
  };
}
