import { RpcError } from "./rpc-error.js";
import { StatusCode } from "./status.js";

/**
 * gRPC Length-Prefixed-Message framing (gRPC PROTOCOL-HTTP2.md): 1 byte compressed
 * flag, 4 bytes big-endian length, then the message.
 */
export const FRAME_HEADER_LENGTH = 5;

const MAX_FRAME_LENGTH = 0xffff_ffff;

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME_LENGTH) {
    throw new RangeError(`gRPC message length must be an integer in 0..${MAX_FRAME_LENGTH}, got ${length}`);
  }
}

/** The 5-byte prefix alone, for a large message written as a second chunk without copying it. */
export function frameHeader(length: number, compressed = false): Buffer {
  checkLength(length);
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  header[0] = compressed ? 1 : 0;
  header.writeUInt32BE(length, 1);
  return header;
}

/** Prefix and message in one buffer, so that a message goes out as one write. */
export function frameMessage(message: Uint8Array, compressed = false): Buffer {
  const length = message.byteLength;
  checkLength(length);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(length, 1);
  frame.set(message, FRAME_HEADER_LENGTH);
  return frame;
}

// The most recent `allocateFrame`, so that the framing that follows the encoding
// (always synchronously, on the same tick) finds the room left for the prefix.
let lastFrame: Buffer | undefined;
let lastMessage: Buffer | undefined;

/**
 * Allocates the frame of a message about to be encoded and returns its message part,
 * for the encoder to fill; `takeFrame` then only writes the prefix in front of it.
 */
export function allocateFrame(length: number): Buffer {
  checkLength(length);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  lastFrame = frame;
  return (lastMessage = frame.subarray(FRAME_HEADER_LENGTH));
}

/**
 * The whole frame of `message`, prefix written, when `message` is what the latest
 * `allocateFrame` returned; otherwise undefined (the caller copies as usual).
 */
export function takeFrame(message: Uint8Array, compressed = false): Buffer | undefined {
  if (message !== lastMessage) return undefined;
  const frame = lastFrame!;
  lastFrame = lastMessage = undefined;
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(message.byteLength, 1);
  return frame;
}

/** Options of a `MessageDecoder`. */
export interface MessageDecoderOptions {
  /** Largest accepted message in bytes; a negative number or Infinity means no limit (gRPC's -1). */
  maxMessageLength: number;
  /** Whether a message encoding was negotiated, i.e. whether the compressed flag may be 1. */
  compressionNegotiated: boolean;
}

/**
 * Incremental decoder of length-prefixed messages from DATA chunks whose boundaries
 * bear no relation to message boundaries.
 *
 * A message that lies wholly inside one chunk is delivered as a zero-copy `subarray`
 * of it (so it shares the chunk's memory: copy it if you keep it and reuse the chunk);
 * a message that spans chunks is assembled in one buffer of exactly its declared
 * length. The declared length is checked against `maxMessageLength` before anything
 * is buffered, so a peer cannot make us allocate by announcing a huge message.
 *
 * Errors (oversize, bad flag) are thrown as `RpcError` from `push`, as is anything
 * `onMessage` throws; after that the decoder is dead and every later `push` throws the
 * same error again.
 */
export class MessageDecoder {
  #maxMessageLength: number;
  #compressionNegotiated: boolean;
  #error: unknown = undefined;
  #hasError = false;

  // Prefix bytes of the current message seen so far (0..4 between pushes).
  #headerFilled = 0;
  // Reused for a prefix split across chunks; allocated on first need only.
  #header: Uint8Array | undefined = undefined;
  // Body of a message that spans chunks; undefined while reading a prefix.
  #body: Buffer | undefined = undefined;
  #bodyFilled = 0;
  #bodyCompressed = false;

  constructor(options: MessageDecoderOptions) {
    const max = options.maxMessageLength;
    this.#maxMessageLength = max < 0 || max > MAX_FRAME_LENGTH ? MAX_FRAME_LENGTH : max;
    this.#compressionNegotiated = options.compressionNegotiated;
  }

  get compressionNegotiated(): boolean {
    return this.#compressionNegotiated;
  }

  /** May change after construction, e.g. once response headers name a `grpc-encoding`. */
  set compressionNegotiated(value: boolean) {
    this.#compressionNegotiated = value;
  }

  /** True while bytes of an incomplete prefix or message are pending; at end of stream that is a truncated message. */
  get hasPartialMessage(): boolean {
    return this.#headerFilled > 0 || this.#body !== undefined;
  }

  /** Feeds one chunk, calling `onMessage` synchronously for each message it completes, in order. */
  push(chunk: Uint8Array, onMessage: (payload: Uint8Array, compressed: boolean) => void): void {
    if (this.#hasError) throw this.#error;
    try {
      this.#push(chunk, onMessage);
    } catch (err) {
      this.#hasError = true;
      this.#error = err;
      this.#body = undefined;
      throw err;
    }
  }

  #push(chunk: Uint8Array, onMessage: (payload: Uint8Array, compressed: boolean) => void): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      const body = this.#body;
      if (body !== undefined) {
        const take = Math.min(body.length - this.#bodyFilled, end - pos);
        body.set(take === end - pos && pos === 0 ? chunk : chunk.subarray(pos, pos + take), this.#bodyFilled);
        this.#bodyFilled += take;
        pos += take;
        if (this.#bodyFilled === body.length) {
          // Reset before the callback, so the decoder is consistent if it re-enters.
          this.#body = undefined;
          this.#bodyFilled = 0;
          onMessage(body, this.#bodyCompressed);
        }
        continue;
      }

      let flag: number;
      let length: number;
      if (this.#headerFilled === 0 && end - pos >= FRAME_HEADER_LENGTH) {
        // Common case: the whole prefix is in this chunk; read it in place.
        flag = chunk[pos]!;
        length = chunk[pos + 1]! * 0x100_0000 + ((chunk[pos + 2]! << 16) | (chunk[pos + 3]! << 8) | chunk[pos + 4]!);
        pos += FRAME_HEADER_LENGTH;
      } else {
        const header = (this.#header ??= new Uint8Array(FRAME_HEADER_LENGTH));
        const take = Math.min(FRAME_HEADER_LENGTH - this.#headerFilled, end - pos);
        for (let i = 0; i < take; i++) header[this.#headerFilled + i] = chunk[pos + i]!;
        this.#headerFilled += take;
        pos += take;
        if (this.#headerFilled < FRAME_HEADER_LENGTH) return;
        this.#headerFilled = 0;
        flag = header[0]!;
        length = header[1]! * 0x100_0000 + ((header[2]! << 16) | (header[3]! << 8) | header[4]!);
      }

      const compressed = this.#checkPrefix(flag, length);
      if (end - pos >= length) {
        const payload = chunk.subarray(pos, pos + length);
        pos += length;
        onMessage(payload, compressed);
      } else {
        // allocUnsafe is safe here: the buffer is fully overwritten before anyone sees it.
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyCompressed = compressed;
        this.#bodyFilled = 0;
      }
    }
  }

  #checkPrefix(flag: number, length: number): boolean {
    if (flag === 1) {
      if (!this.#compressionNegotiated) {
        throw new RpcError(StatusCode.INTERNAL, "Compressed flag set but no message encoding was negotiated");
      }
    } else if (flag !== 0) {
      throw new RpcError(StatusCode.INTERNAL, `Invalid compressed flag ${flag} in message prefix (must be 0 or 1)`);
    }
    if (length > this.#maxMessageLength) {
      throw new RpcError(
        StatusCode.RESOURCE_EXHAUSTED,
        `Received message larger than max (${length} vs. ${this.#maxMessageLength})`,
      );
    }
    return flag === 1;
  }
}
