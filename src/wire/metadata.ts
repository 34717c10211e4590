/** A metadata value: a string for ASCII keys, bytes for keys ending in "-bin". */
export type MetadataValue = string | Uint8Array;

/** What `new Metadata(init)` accepts: [key, value] pairs, or a record of key -> value(s). */
export type MetadataInit =
  | Iterable<readonly [string, MetadataValue]>
  | Record<string, MetadataValue | readonly MetadataValue[]>;

// Headers that belong to HTTP/2 or to gRPC itself, never to the application.
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "te",
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

// The only grpc-* headers that carry application data (rich status, tracing, tags).
const APPLICATION_GRPC_HEADERS: ReadonlySet<string> = new Set([
  "grpc-status-details-bin",
  "grpc-trace-bin",
  "grpc-tags-bin",
]);

function isReservedGrpcOrPseudo(key: string): boolean {
  return key.charCodeAt(0) === 0x3a /* : */ || (key.startsWith("grpc-") && !APPLICATION_GRPC_HEADERS.has(key));
}

/** True for a header that user metadata may not set: pseudo-headers, HTTP/2 connection headers, `user-agent`, and `grpc-*` except the `-bin` ones gRPC reserves for applications. */
export function isReservedHeader(key: string): boolean {
  return isReservedGrpcOrPseudo(key) || TRANSPORT_HEADERS.has(key) || key === "user-agent";
}

// The receive side surfaces user-agent, as gRPC Python servers do.
function isReservedReceivedHeader(key: string): boolean {
  return isReservedGrpcOrPseudo(key) || TRANSPORT_HEADERS.has(key);
}

// Header-Name: 1*( %x30-39 / %x61-7A / "_" / "-" / "." ); a loop, because this runs for
// every received header.
function isValidKey(key: string): boolean {
  const n = key.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e)) return false;
  }
  return true;
}

// ASCII-Value: space and printable ASCII.
function isValidAsciiValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function isBinaryKey(key: string): boolean {
  return key.endsWith("-bin");
}

function normalizeKey(key: string): string {
  if (typeof key !== "string") throw new TypeError(`Metadata key must be a string, got ${typeof key}`);
  const lower = key.toLowerCase();
  if (!isValidKey(lower)) {
    throw new TypeError(`Invalid metadata key ${JSON.stringify(key)}: keys must be non-empty and use only 0-9 a-z _ - .`);
  }
  return lower;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

function checkValue(key: string, value: unknown): MetadataValue {
  if (isBinaryKey(key)) {
    if (value instanceof Uint8Array) return value;
    throw new TypeError(`Metadata key "${key}" ends in -bin and takes a Uint8Array value, got ${describe(value)}`);
  }
  if (typeof value !== "string") {
    throw new TypeError(`Metadata key "${key}" takes a string value (only keys ending in -bin take bytes), got ${describe(value)}`);
  }
  if (!isValidAsciiValue(value)) {
    throw new TypeError(`Metadata value for key "${key}" must contain only printable ASCII (0x20-0x7E)`);
  }
  return value;
}

function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

// The spec asks senders to emit unpadded base64.
function toBase64Unpadded(value: Uint8Array): string {
  const s = asBuffer(value).toString("base64");
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d /* = */) end--;
  return end === s.length ? s : s.slice(0, end);
}

// Buffer.from(s, "base64") silently skips garbage, so check the alphabet first: a
// corrupt binary header is dropped rather than surfaced as bytes the peer never sent.
// Padded and unpadded forms are both accepted (the spec requires that); so is the
// URL-safe alphabet, which Node decodes too.
function fromBase64(s: string): Buffer | undefined {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  if (s.length - end > 2 || end % 4 === 1) return undefined;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (
      !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
        c === 0x2b || c === 0x2f || c === 0x2d || c === 0x5f)
    ) return undefined;
  }
  return Buffer.from(s, "base64");
}

function setHeader(target: Record<string, string | string[]>, key: string, value: string): void {
  const existing = target[key];
  if (typeof existing === "string") {
    target[key] = [existing, value];
  } else if (Array.isArray(existing)) {
    existing.push(value);
  } else if (key === "__proto__") {
    // A valid metadata key, but plain assignment would replace the object's prototype.
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * Call metadata: ordered, multi-valued, case-insensitive keys (gRPC Python
 * `grpc.aio.Metadata`). Keys are stored lower-case; keys ending in "-bin" hold
 * `Uint8Array` values (Node `Buffer` included), all others printable-ASCII strings.
 * Byte values are stored by reference, not copied.
 */
export class Metadata implements Iterable<[string, MetadataValue]> {
  // Two parallel arrays rather than a Map of lists: metadata is small, insertion order of
  // pairs is kept exactly, and the wire conversions walk them without allocating.
  #keys: string[] = [];
  #values: MetadataValue[] = [];

  constructor(init?: MetadataInit) {
    if (init === undefined) return;
    if (Symbol.iterator in init) {
      for (const [key, value] of init as Iterable<readonly [string, MetadataValue]>) this.add(key, value);
      return;
    }
    const record = init as Record<string, MetadataValue | readonly MetadataValue[]>;
    for (const key of Object.keys(record)) {
      const value = record[key]!;
      if (Array.isArray(value)) {
        for (const v of value as readonly MetadataValue[]) this.add(key, v);
      } else {
        this.add(key, value as MetadataValue);
      }
    }
  }

  /** Number of key/value pairs. */
  get size(): number {
    return this.#keys.length;
  }

  /** Appends a value, keeping existing values for the key. */
  add(key: string, value: MetadataValue): this {
    const k = normalizeKey(key);
    this.#keys.push(k);
    this.#values.push(checkValue(k, value));
    return this;
  }

  /** Replaces every value of the key with one value, at the position of its first occurrence (or at the end). */
  set(key: string, value: MetadataValue): this {
    const k = normalizeKey(key);
    const v = checkValue(k, value);
    const first = this.#keys.indexOf(k);
    if (first === -1) {
      this.#keys.push(k);
      this.#values.push(v);
    } else {
      this.#values[first] = v;
      this.#removeFrom(k, first + 1);
    }
    return this;
  }

  /** The first value of the key (gRPC Python `Metadata.get`). */
  get(key: string): MetadataValue | undefined {
    const i = this.#keys.indexOf(key.toLowerCase());
    return i === -1 ? undefined : this.#values[i];
  }

  /** Every value of the key, in insertion order (gRPC Python `Metadata.get_all`). */
  getAll(key: string): MetadataValue[] {
    const k = key.toLowerCase();
    const keys = this.#keys;
    const out: MetadataValue[] = [];
    for (let i = 0; i < keys.length; i++) if (keys[i] === k) out.push(this.#values[i]!);
    return out;
  }

  /** Whether the key has at least one value. */
  has(key: string): boolean {
    return this.#keys.includes(key.toLowerCase());
  }

  /** Removes every value of the key; false if there was none (gRPC Python `Metadata.delete_all`). */
  delete(key: string): boolean {
    const k = key.toLowerCase();
    const first = this.#keys.indexOf(k);
    if (first === -1) return false;
    this.#removeFrom(k, first);
    return true;
  }

  // Compacts both arrays in place, dropping every occurrence of k at index >= start.
  #removeFrom(k: string, start: number): void {
    const keys = this.#keys;
    const values = this.#values;
    let w = start;
    for (let r = start; r < keys.length; r++) {
      if (keys[r] === k) continue;
      keys[w] = keys[r]!;
      values[w] = values[r]!;
      w++;
    }
    keys.length = w;
    values.length = w;
  }

  /** The distinct keys, in order of first insertion. */
  keys(): string[] {
    return [...new Set(this.#keys)];
  }

  /** Every [key, value] pair in insertion order. */
  *entries(): IterableIterator<[string, MetadataValue]> {
    const keys = this.#keys;
    const values = this.#values;
    for (let i = 0; i < keys.length; i++) yield [keys[i]!, values[i]!];
  }

  [Symbol.iterator](): IterableIterator<[string, MetadataValue]> {
    return this.entries();
  }

  /** A copy whose pairs can change independently; byte values are shared, not copied. */
  clone(): Metadata {
    const copy = new Metadata();
    copy.#keys = this.#keys.slice();
    copy.#values = this.#values.slice();
    return copy;
  }

  /** Appends every pair of `other` (already validated, so no re-check). */
  merge(other: Metadata): this {
    const keys = other.#keys;
    const values = other.#values;
    for (let i = 0; i < keys.length; i++) {
      this.#keys.push(keys[i]!);
      this.#values.push(values[i]!);
    }
    return this;
  }

  /** A debugging view: key -> values, bytes as padded base64. */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = Object.create(null);
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      const v = this.#values[i]!;
      (out[keys[i]!] ??= []).push(typeof v === "string" ? v : asBuffer(v).toString("base64"));
    }
    return out;
  }

  /**
   * Appends this metadata to a `node:http2` outgoing headers object: a repeated key
   * becomes an array, bytes become unpadded base64, reserved keys are skipped
   * (see `isReservedHeader`).
   */
  toHttp2Headers(target: Record<string, string | string[]>): void {
    const keys = this.#keys;
    const values = this.#values;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (isReservedHeader(key)) continue;
      const v = values[i]!;
      setHeader(target, key, typeof v === "string" ? v : toBase64Unpadded(v));
    }
  }

  /**
   * Builds metadata from `node:http2` incoming headers, keeping only application
   * headers. Invalid names and values are skipped, never thrown: peer input must not
   * crash the caller. A "-bin" value may hold several comma-joined base64 values.
   */
  static fromHttp2Headers(headers: Record<string, string | string[] | undefined>): Metadata {
    const md = new Metadata();
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined) continue;
      const key = receivedKey(name);
      if (key === undefined) continue;
      if (typeof value === "string") {
        md.#addReceived(key, value);
      } else if (Array.isArray(value)) {
        for (const v of value) if (typeof v === "string") md.#addReceived(key, v);
      }
    }
    return md;
  }

  /** Like `fromHttp2Headers`, from Node's flat `rawHeaders` [name, value, ...]; repeated headers stay separate values. */
  static fromRawHeaders(raw: readonly string[]): Metadata {
    const md = new Metadata();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      if (typeof name !== "string" || typeof value !== "string") continue;
      const key = receivedKey(name);
      if (key !== undefined) md.#addReceived(key, value);
    }
    return md;
  }

  #addReceived(key: string, value: string): void {
    if (!isBinaryKey(key)) {
      if (isValidAsciiValue(value)) {
        this.#keys.push(key);
        this.#values.push(value);
      }
      return;
    }
    // Duplicate binary headers may arrive joined with "," (Node joins them with ", ").
    if (value.indexOf(",") === -1) {
      const bytes = fromBase64(value.trim());
      if (bytes !== undefined) {
        this.#keys.push(key);
        this.#values.push(bytes);
      }
      return;
    }
    for (const part of value.split(",")) {
      const bytes = fromBase64(part.trim());
      if (bytes !== undefined) {
        this.#keys.push(key);
        this.#values.push(bytes);
      }
    }
  }
}

// The metadata key for a received header name, or undefined when the header is not
// application metadata. HTTP/2 names arrive lower-case, so lower-casing is the slow path.
function receivedKey(name: string): string | undefined {
  let key = name;
  if (!isValidKey(key)) {
    if (key.charCodeAt(0) === 0x3a) return undefined;
    key = name.toLowerCase();
    if (key === name || !isValidKey(key)) return undefined;
  }
  return isReservedReceivedHeader(key) ? undefined : key;
}
