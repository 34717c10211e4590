import { MessageDecoder, RpcError, StatusCode, type Compressor } from "../wire/index.js";

/** Where a `MessageReader` delivers: whole, decompressed messages in order, or its one error. */
export interface MessageSink {
  /** `compressed`: the message arrived with the compressed flag set. */
  onMessageBytes(bytes: Uint8Array, compressed: boolean): void;
  onReadError(error: RpcError): void;
}

const RESOLVED = Promise.resolve();

/**
 * Turns the DATA chunks of one HTTP/2 stream into messages: length-prefixed
 * decoding bounded by the receive limit, then decompression. Uncompressed
 * messages are delivered synchronously; once a compressed one appears, delivery
 * goes through a promise chain so that order is kept.
 */
export class MessageReader {
  private readonly decoder: MessageDecoder;
  private chain: Promise<void> | undefined;
  private failed = false;

  constructor(
    private readonly sink: MessageSink,
    private readonly maxMessageLength: number,
    private readonly decompressor: Compressor | undefined,
  ) {
    this.decoder = new MessageDecoder({ maxMessageLength, compressionNegotiated: decompressor !== undefined });
  }

  push(chunk: Uint8Array): void {
    if (this.failed) return;
    try {
      this.decoder.push(chunk, this.onFrame);
    } catch (err) {
      this.fail(err);
    }
  }

  /** True when the stream ended inside a message. */
  get hasPartialMessage(): boolean {
    return this.decoder.hasPartialMessage;
  }

  /** Runs `fn` once every message pushed so far has been delivered. */
  afterDelivery(fn: () => void): void {
    if (this.chain === undefined) fn();
    else void this.chain.then(fn);
  }

  private onFrame = (payload: Uint8Array, compressed: boolean): void => {
    if (!compressed && this.chain === undefined) {
      this.sink.onMessageBytes(payload, false);
      return;
    }
    const decompressor = this.decompressor!;
    const max = this.maxMessageLength;
    this.chain = (this.chain ?? RESOLVED)
      .then(() => (compressed ? decompressor.decompress(payload, max) : payload))
      .then(
        (bytes) => {
          if (!this.failed) this.sink.onMessageBytes(bytes, compressed);
        },
        (err: unknown) => this.fail(err),
      );
  };

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.sink.onReadError(RpcError.from(err, StatusCode.INTERNAL));
  }
}
