/**
 * `grpc-message` percent-encoding (gRPC PROTOCOL-HTTP2.md, Status-Message).
 *
 * The value is UTF-8 whose bytes outside 0x20..0x7E, and '%' itself, are written %XX.
 */

function needsEncoding(c: number): boolean {
  return c < 0x20 || c > 0x7e || c === 0x25;
}

const HEX = "0123456789ABCDEF";

/** Percent-encodes a status message for the `grpc-message` trailer; returns the input itself when nothing needs escaping. */
export function encodeStatusMessage(message: string): string {
  const n = message.length;
  let i = 0;
  while (i < n && !needsEncoding(message.charCodeAt(i))) i++;
  if (i === n) return message;
  // Only the slow path pays for the UTF-8 bytes. Lone surrogates become U+FFFD here,
  // which is the best a UTF-8 wire format can do with them.
  const bytes = Buffer.from(message, "utf8");
  let out = message.slice(0, i);
  // Every char before i was ASCII, so byte offsets equal char offsets up to i.
  for (let j = i; j < bytes.length; j++) {
    const b = bytes[j]!;
    out += needsEncoding(b) ? "%" + HEX[b >> 4] + HEX[b & 15] : String.fromCharCode(b);
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes a `grpc-message` value. Never throws: the spec says a broken value must not
 * lose the message, so malformed % sequences are kept literally and invalid UTF-8
 * becomes U+FFFD. Returns the input itself when it contains no '%'.
 */
export function decodeStatusMessage(value: string): string {
  if (value.indexOf("%") === -1) return value;
  // '%' and hex digits are ASCII, so they survive the UTF-8 round trip as single bytes
  // and the bytes can be decoded in place (the write index never passes the read index).
  const bytes = Buffer.from(value, "utf8");
  const n = bytes.length;
  let w = 0;
  for (let r = 0; r < n; r++) {
    const b = bytes[r]!;
    if (b === 0x25 && r + 2 < n) {
      const hi = hexValue(bytes[r + 1]!);
      const lo = hi < 0 ? -1 : hexValue(bytes[r + 2]!);
      if (lo >= 0) {
        bytes[w++] = (hi << 4) | lo;
        r += 2;
        continue;
      }
    }
    bytes[w++] = b;
  }
  return bytes.toString("utf8", 0, w);
}
