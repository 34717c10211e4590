// The bytes every implementation moves: the protobuf encoding of `bench.Payload`
// (field 1, length-delimited), built once per scenario so that raw-bytes clients and
// servers send exactly what protobuf-es would produce.

const PAYLOAD_TAG = 0x0a; // field 1, wire type 2

/** The protobuf encoding of `Payload { body }`. */
export function encodePayload(body: Uint8Array): Buffer {
  const lenBytes = varintLength(body.byteLength);
  const out = Buffer.allocUnsafe(1 + lenBytes + body.byteLength);
  out[0] = PAYLOAD_TAG;
  let n = body.byteLength;
  let i = 1;
  while (n >= 0x80) {
    out[i++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[i++] = n;
  out.set(body, i);
  return out;
}

/** The `body` of an encoded Payload (a view, not a copy); empty for an empty message. */
export function payloadBody(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 0) return bytes;
  if (bytes[0] !== PAYLOAD_TAG) throw new Error(`not a bench.Payload (first byte ${bytes[0]})`);
  let len = 0;
  let shift = 0;
  let i = 1;
  for (;;) {
    const b = bytes[i++];
    if (b === undefined) throw new Error("truncated bench.Payload");
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (i + len > bytes.byteLength) throw new Error("truncated bench.Payload");
  return bytes.subarray(i, i + len);
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n >>>= 7;
    len++;
  }
  return len;
}

/** A body of `size` bytes (a recognisable pattern, not zeros). */
export function bodyOfSize(size: number): Buffer {
  const body = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) body[i] = i & 0xff;
  return body;
}

/** The body of a ServerStream request: message body size and count, uint32 LE each. */
export function streamRequestBody(size: number, count: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32LE(size, 0);
  b.writeUInt32LE(count, 4);
  return b;
}

export function parseStreamRequestBody(body: Uint8Array): { size: number; count: number } {
  if (body.byteLength !== 8) throw new Error(`ServerStream request body must be 8 bytes, got ${body.byteLength}`);
  const view = new DataView(body.buffer, body.byteOffset, 8);
  return { size: view.getUint32(0, true), count: view.getUint32(4, true) };
}

/** The body of a ClientStream response: how many requests the server counted. */
export function countBody(count: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(count, 0);
  return b;
}

export function parseCountBody(body: Uint8Array): number {
  if (body.byteLength !== 4) throw new Error(`ClientStream response body must be 4 bytes, got ${body.byteLength}`);
  return new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
}

/**
 * One message as each kind of implementation wants it: `wire` (the encoded Payload)
 * for raw-bytes APIs, `body` for protobuf-es based ones.
 */
export interface BenchMessage {
  readonly wire: Buffer;
  readonly body: Uint8Array;
}

export function benchMessage(body: Uint8Array): BenchMessage {
  return { wire: encodePayload(body), body };
}

/**
 * `make(body)` once per distinct body: the user-path clients build their protobuf
 * message once per scenario, as an application holding its messages would, so that
 * what is measured is the library's encoding and transport, not object construction.
 */
export function perBody<T>(make: (body: Uint8Array) => T): (body: Uint8Array) => T {
  const made = new WeakMap<Uint8Array, T>();
  return (body) => {
    let m = made.get(body);
    if (m === undefined) made.set(body, (m = make(body)));
    return m;
  };
}
