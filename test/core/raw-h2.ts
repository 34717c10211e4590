// A hand-written HTTP/2 peer over a plain TCP socket, for the frames Node's own http2
// hides or answers by itself (PING acks, GOAWAY last-stream-ids, debug data). It writes
// frames byte by byte (request headers as HPACK literals, never Huffman) and parses
// frame headers only: enough to drive and observe a real server or client.
import { connect, createServer, type Server, type Socket } from "node:net";
import { sleep } from "../helpers.js";

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  at: number;
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** A GOAWAY's fields. */
export function goawayOf(f: Frame): { lastStreamId: number; code: number; debug: string } {
  return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString() };
}

function literal(name: string, value: string): Buffer {
  // "Literal Header Field without Indexing - New Name", lengths below 127.
  return Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

/** HEADERS (END_HEADERS) for a gRPC request. */
export function grpcRequestHeaders(streamId: number, path: string): Buffer {
  const block = Buffer.concat(
    [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", path],
      [":authority", "raw"],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ].map(([n, v]) => literal(n!, v!)),
  );
  return frame(FRAME.HEADERS, 0x4, streamId, block);
}

/** DATA (END_STREAM) carrying one uncompressed gRPC message. */
export function grpcMessage(streamId: number, message: Uint8Array): Buffer {
  const body = Buffer.alloc(5 + message.length);
  body.writeUInt32BE(message.length, 1);
  body.set(message, 5);
  return frame(FRAME.DATA, 0x1, streamId, body);
}

/** Splits frames off a byte stream (after the client preface, for a server-side peer). */
class FrameParser {
  private buf = Buffer.alloc(0);
  constructor(private skipPreface: boolean) {}

  push(chunk: Buffer, onFrame: (f: Frame) => void): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.skipPreface) {
      if (this.buf.length < PREFACE.length) return;
      this.buf = this.buf.subarray(PREFACE.length);
      this.skipPreface = false;
    }
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) return;
      const f = { type: this.buf[3]!, flags: this.buf[4]!, streamId: this.buf.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(this.buf.subarray(9, 9 + len)), at: Date.now() };
      this.buf = this.buf.subarray(9 + len);
      onFrame(f);
    }
  }
}

/** One end of a raw HTTP/2 connection: records every frame received, answers SETTINGS. */
export class RawPeer {
  readonly frames: Frame[] = [];
  closed = false;
  /** Answer PINGs (as every real peer does) unless told otherwise. */
  ackPings = true;
  /** Called on each frame after it is recorded. */
  onFrame: ((f: Frame) => void) | undefined;

  constructor(readonly socket: Socket, isServerSide: boolean) {
    const parser = new FrameParser(isServerSide);
    socket.on("data", (chunk: Buffer) => parser.push(chunk, (f) => this.receive(f)));
    socket.on("error", () => {});
    socket.on("close", () => (this.closed = true));
    if (!isServerSide) socket.write(PREFACE);
    socket.write(frame(FRAME.SETTINGS, 0, 0));
  }

  private receive(f: Frame): void {
    this.frames.push(f);
    if (f.type === FRAME.SETTINGS && !(f.flags & 1)) this.write(frame(FRAME.SETTINGS, 1, 0));
    if (f.type === FRAME.PING && !(f.flags & 1) && this.ackPings) this.write(frame(FRAME.PING, 1, 0, f.payload));
    this.onFrame?.(f);
  }

  write(bytes: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  of(type: number): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Waits (bounded) until `predicate` holds over the frames received. */
  async until(predicate: (peer: RawPeer) => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > end) throw new Error(`raw peer: timed out waiting for ${what}; frames: ${this.frames.map((f) => `${f.type}/${f.streamId}`).join(" ")}`);
      await sleep(5);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A raw client connected to `port` on 127.0.0.1, preface and SETTINGS sent. */
export async function rawClient(port: number): Promise<RawPeer> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return new RawPeer(socket, false);
}

/** A raw server on 127.0.0.1:0; `onPeer` sees each connection. */
export async function rawServer(onPeer: (peer: RawPeer) => void): Promise<{ server: Server; port: number; peers: RawPeer[]; close(): Promise<void> }> {
  const peers: RawPeer[] = [];
  const server = createServer((socket) => {
    const peer = new RawPeer(socket, true);
    peers.push(peer);
    onPeer(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    peers,
    close: async () => {
      for (const p of peers) p.close();
      await new Promise((r) => server.close(r));
    },
  };
}
