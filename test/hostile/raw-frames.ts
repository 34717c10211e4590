// HTTP/2 frames written by hand, for what node:http2 will not send: header values that
// are not ASCII, header blocks of any size (HEADERS + CONTINUATION), streams opened
// beyond the peer's limits and reset at once.
import { connect, type Socket } from "node:net";
import { frame, FRAME, RawPeer } from "../core/raw-h2.js";

export { frame, FRAME, RawPeer };
const CONTINUATION = 9;

/** HPACK integer with an `n`-bit prefix (RFC 7541 5.1). */
function hpackInt(value: number, n: number, firstByteFlags: number): Buffer {
  const max = (1 << n) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const out = [firstByteFlags | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Buffer.from(out);
}

/** A header block of literals without indexing (new names), no Huffman: the bytes go as given. */
export function headerBlock(pairs: readonly (readonly [string | Buffer, string | Buffer])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of pairs) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    parts.push(Buffer.from([0]), hpackInt(n.length, 7, 0), n, hpackInt(v.length, 7, 0), v);
  }
  return Buffer.concat(parts);
}

/** The request headers of a gRPC call, then `extra`. */
export function grpcRequestBlock(path: string, extra: readonly (readonly [string | Buffer, string | Buffer])[] = []): Buffer {
  return headerBlock([
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "hostile"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ...extra,
  ]);
}

/** HEADERS (+ CONTINUATION frames) carrying `block`, split at `maxFrame` bytes. */
export function headersFrames(streamId: number, block: Buffer, endStream: boolean, maxFrame = 16_384): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0, first = true; first || at < block.length; first = false) {
    const chunk = block.subarray(at, at + maxFrame);
    at += chunk.length;
    const last = at >= block.length;
    const flags = (last ? 0x4 : 0) | (first && endStream ? 0x1 : 0);
    frames.push(frame(first ? FRAME.HEADERS : CONTINUATION, flags, streamId, chunk));
  }
  return Buffer.concat(frames);
}

/** RST_STREAM with `code`. */
export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

/** A raw TCP connection to 127.0.0.1:`port`, nothing sent yet. */
export async function tcp(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/** Resolves true once `socket` is closed by the other end, false after `timeoutMs`. */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("close", done);
    socket.once("end", done);
    socket.resume();
  });
}

/** The gRPC status in a HEADERS frame's block, found by its literal bytes (servers send it plainly or Huffman-coded). */
export function headersOf(peer: RawPeer, streamId: number): Buffer[] {
  return peer.frames.filter((f) => f.streamId === streamId && (f.type === FRAME.HEADERS || f.type === CONTINUATION)).map((f) => f.payload);
}
