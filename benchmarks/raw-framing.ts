// The least a hand-written gRPC peer on node:http2 has to do with message bytes:
// prefix each message with its 5-byte header, and split DATA chunks back into
// messages. Used by the raw-http2 client and server only.

/** Flag byte 0 (uncompressed) + uint32 BE length + message, in one buffer. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/**
 * Incremental decoder: messages wholly inside a chunk are delivered as views of it;
 * a message spanning chunks is assembled into one buffer.
 */
export class FrameParser {
  private header = Buffer.alloc(5);
  private headerFilled = 0;
  private body: Buffer | undefined;
  private bodyFilled = 0;

  constructor(private readonly onMessage: (message: Buffer) => void) {}

  get midMessage(): boolean {
    return this.headerFilled !== 0 || this.body !== undefined;
  }

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.body !== undefined) {
        const take = Math.min(this.body.length - this.bodyFilled, n - i);
        chunk.copy(this.body, this.bodyFilled, i, i + take);
        this.bodyFilled += take;
        i += take;
        if (this.bodyFilled === this.body.length) {
          const body = this.body;
          this.body = undefined;
          this.onMessage(body);
        }
        continue;
      }
      if (this.headerFilled === 0 && n - i >= 5) {
        if (chunk[i] !== 0) throw new Error("compressed messages are not supported");
        const len = chunk.readUInt32BE(i + 1);
        if (n - i - 5 >= len) {
          this.onMessage(chunk.subarray(i + 5, i + 5 + len));
          i += 5 + len;
          continue;
        }
        this.startBody(len);
        i += 5;
        continue;
      }
      const take = Math.min(5 - this.headerFilled, n - i);
      chunk.copy(this.header, this.headerFilled, i, i + take);
      this.headerFilled += take;
      i += take;
      if (this.headerFilled === 5) {
        this.headerFilled = 0;
        if (this.header[0] !== 0) throw new Error("compressed messages are not supported");
        this.startBody(this.header.readUInt32BE(1));
      }
    }
  }

  private startBody(len: number): void {
    if (len === 0) {
      this.onMessage(Buffer.alloc(0));
      return;
    }
    this.body = Buffer.allocUnsafe(len);
    this.bodyFilled = 0;
  }
}
