import { create, fromBinary, protoInt64, ScalarType, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { WIRE_LEN, wireTypeOf } from "./protobuf-encoder.js";

/**
 * A protobuf-es binary decoder for the messages RPCs carry most: it reads the bytes
 * where they lie (no `BinaryReader` and `DataView` per message, no read context), and
 * builds the message `fromBinary()` builds. It takes on only what it can do exactly
 * as `fromBinary()`: anything else (an unknown field, a wire type it did not expect, a
 * singular message that occurs twice and must be merged, a closed enum, groups,
 * wrappers and `Struct`, malformed input) makes it hand the whole message to
 * `fromBinary()`, which then decides, errors included.
 */
export function protobufDecoder<Desc extends DescMessage>(desc: Desc): (bytes: Uint8Array) => MessageShape<Desc> {
  const compiled = compile(desc);
  if (compiled === undefined) return (bytes) => fromBinary(desc, bytes);
  return (bytes) => {
    const cursor = new Cursor(bytes);
    try {
      const message = create(desc) as unknown as Fields;
      compiled.read(message, cursor, bytes.byteLength, 0);
      return message as unknown as MessageShape<Desc>;
    } catch {
      // BAIL, or a nested fromBinary()'s error: the whole message is its to decide.
      return fromBinary(desc, bytes);
    }
  };
}

type Fields = Record<string, unknown>;

// Thrown (never escapes) when fromBinary() must decide.
const BAIL = new Error("protobuf-decoder: fall back to fromBinary()");
const RECURSION_LIMIT = 100; // fromBinary()'s default

class Cursor {
  readonly buf: Buffer;
  pos = 0;
  constructor(readonly bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

type FieldReader = (message: Fields, cursor: Cursor, wireType: number, end: number, depth: number) => void;

interface Compiled {
  read(message: Fields, cursor: Cursor, end: number, depth: number): void;
}

const compiledByDesc = new WeakMap<DescMessage, Compiled | null>();

function compile(desc: DescMessage): Compiled | undefined {
  const known = compiledByDesc.get(desc);
  if (known !== undefined) return known ?? undefined;
  if (!supported(desc)) {
    compiledByDesc.set(desc, null);
    return undefined;
  }
  const readers: (FieldReader | undefined)[] = [];
  const byNumber = new Map<number, FieldReader>();
  const compiled: Compiled = {
    read(message, cursor, end, depth) {
      if (depth > RECURSION_LIMIT) throw BAIL;
      while (cursor.pos < end) {
        const tag = readVarint32(cursor, end);
        const no = tag >>> 3;
        const reader = no < readers.length ? readers[no] : byNumber.get(no);
        if (reader === undefined) throw BAIL; // an unknown field: fromBinary() keeps it
        reader(message, cursor, tag & 7, end, depth);
      }
      if (cursor.pos !== end) throw BAIL;
    },
  };
  compiledByDesc.set(desc, compiled);
  for (const field of desc.fields) {
    const reader = fieldReader(field);
    if (field.number < 64) readers[field.number] = reader;
    else byNumber.set(field.number, reader);
  }
  return compiled;
}

function supported(desc: DescMessage): boolean {
  for (const field of desc.fields) {
    if (field.fieldKind === "message" && field.delimitedEncoding) return false;
    if (field.fieldKind === "list" && field.listKind === "message" && field.delimitedEncoding) return false;
    const enumDesc = field.fieldKind === "enum" ? field.enum : field.fieldKind === "list" && field.listKind === "enum" ? field.enum : field.fieldKind === "map" && field.mapKind === "enum" ? field.enum : undefined;
    if (enumDesc !== undefined && !enumDesc.open) return false;
    if (field.message === undefined) continue;
    if (field.message.typeName === "google.protobuf.Struct" && desc.typeName !== "google.protobuf.Value") return false;
    if (field.fieldKind === "message" && field.oneof === undefined && isWrapperDesc(field.message)) return false;
  }
  return true;
}


function fieldReader(field: DescField): FieldReader {
  const name = field.localName;
  const oneof = field.oneof?.localName;
  const set = (message: Fields, value: unknown): void => {
    if (oneof === undefined) message[name] = value;
    else message[oneof] = { case: name, value };
  };
  switch (field.fieldKind) {
    case "scalar":
    case "enum": {
      const type = field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar;
      const read = scalarReader(type, field.fieldKind === "scalar" && field.longAsString, field.utf8Validation);
      const wireType = wireTypeOf(type);
      return (message, cursor, wt, end) => {
        if (wt !== wireType) throw BAIL;
        set(message, read(cursor, end));
      };
    }
    case "message": {
      const desc = field.message;
      return (message, cursor, wt, end, depth) => {
        if (wt !== WIRE_LEN) throw BAIL;
        // A second occurrence is merged into the first by fromBinary(): left to it.
        if (oneof === undefined ? message[name] !== undefined : (message[oneof] as { case: unknown }).case === name) throw BAIL;
        set(message, readMessage(desc, cursor, end, depth));
      };
    }
    case "list": {
      if (field.listKind === "message") {
        const desc = field.message;
        return (message, cursor, wt, end, depth) => {
          if (wt !== WIRE_LEN) throw BAIL;
          (message[name] as unknown[]).push(readMessage(desc, cursor, end, depth));
        };
      }
      const type = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      const read = scalarReader(type, field.listKind === "scalar" && field.longAsString, field.utf8Validation);
      const wireType = wireTypeOf(type);
      const packable = wireType !== WIRE_LEN;
      return (message, cursor, wt, end) => {
        const items = message[name] as unknown[];
        if (wt === wireType) {
          items.push(read(cursor, end));
          return;
        }
        if (!packable || wt !== WIRE_LEN) throw BAIL;
        const stop = readLength(cursor, end);
        while (cursor.pos < stop) items.push(read(cursor, stop));
        if (cursor.pos !== stop) throw BAIL;
      };
    }
    case "map": {
      const readKey = scalarReader(field.mapKey, false, field.utf8Validation);
      const keyWireType = wireTypeOf(field.mapKey);
      const keyZero: unknown = field.mapKey === ScalarType.STRING ? "" : field.mapKey === ScalarType.BOOL ? false : 0;
      let readValue: (cursor: Cursor, wt: number, end: number, depth: number) => unknown;
      let valueDefault: () => unknown;
      if (field.mapKind === "message") {
        const desc = field.message;
        readValue = (cursor, wt, end, depth) => {
          if (wt !== WIRE_LEN) throw BAIL;
          return readMessage(desc, cursor, end, depth);
        };
        valueDefault = () => create(desc);
      } else {
        const type = field.mapKind === "enum" ? ScalarType.INT32 : field.scalar;
        const read = scalarReader(type, false, field.utf8Validation);
        const wireType = wireTypeOf(type);
        readValue = (cursor, wt, end) => {
          if (wt !== wireType) throw BAIL;
          return read(cursor, end);
        };
        const zero = field.mapKind === "enum" ? field.enum.values[0]!.number : scalarZero(type);
        valueDefault = type === ScalarType.BYTES ? () => new Uint8Array(0) : () => zero;
      }
      return (message, cursor, wt, end, depth) => {
        if (wt !== WIRE_LEN) throw BAIL;
        const stop = readLength(cursor, end);
        let key: unknown;
        let value: unknown;
        while (cursor.pos < stop) {
          const tag = readVarint32(cursor, stop);
          const no = tag >>> 3;
          if (no === 1) {
            if ((tag & 7) !== keyWireType) throw BAIL;
            key = readKey(cursor, stop);
          } else if (no === 2 && value === undefined) {
            value = readValue(cursor, tag & 7, stop, depth);
          } else {
            throw BAIL; // a repeated value (merged) or a stray field
          }
        }
        if (cursor.pos !== stop) throw BAIL;
        const k = String(key ?? keyZero);
        if (k === "__proto__") throw BAIL;
        (message[name] as Fields)[k] = value ?? valueDefault();
      };
    }
  }
}

function readMessage(desc: DescMessage, cursor: Cursor, end: number, depth: number): unknown {
  const stop = readLength(cursor, end);
  const nested = compile(desc);
  if (nested === undefined) {
    const message = fromBinary(desc, cursor.bytes.subarray(cursor.pos, stop));
    cursor.pos = stop;
    return message;
  }
  const message = create(desc) as unknown as Fields;
  nested.read(message, cursor, stop, depth + 1);
  return message;
}

function scalarZero(type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return protoInt64.zero;
    default:
      return 0;
  }
}

type ScalarReader = (cursor: Cursor, end: number) => unknown;

function scalarReader(type: ScalarType, longAsString: boolean, strictUtf8: boolean): ScalarReader {
  const long = (v: bigint | string): unknown => (longAsString ? String(v) : v);
  switch (type) {
    case ScalarType.INT32:
      return (c, end) => readVarint32(c, end) | 0;
    case ScalarType.UINT32:
      return (c, end) => readVarint32(c, end) >>> 0;
    case ScalarType.SINT32:
      return (c, end) => {
        const n = readVarint32(c, end);
        return (n >>> 1) ^ -(n & 1);
      };
    case ScalarType.BOOL:
      return (c, end) => {
        const [lo, hi] = readVarint64(c, end);
        return lo !== 0 || hi !== 0;
      };
    case ScalarType.INT64:
      return (c, end) => {
        const [lo, hi] = readVarint64(c, end);
        return long(protoInt64.dec(lo, hi));
      };
    case ScalarType.UINT64:
      return (c, end) => {
        const [lo, hi] = readVarint64(c, end);
        return long(protoInt64.uDec(lo, hi));
      };
    case ScalarType.SINT64:
      return (c, end) => {
        let [lo, hi] = readVarint64(c, end);
        const s = -(lo & 1);
        lo = ((lo >>> 1) | ((hi & 1) << 31)) ^ s;
        hi = (hi >>> 1) ^ s;
        return long(protoInt64.dec(lo, hi));
      };
    case ScalarType.FIXED32:
      return (c, end) => c.buf.readUInt32LE(advance(c, 4, end));
    case ScalarType.SFIXED32:
      return (c, end) => c.buf.readInt32LE(advance(c, 4, end));
    case ScalarType.FLOAT:
      return (c, end) => c.buf.readFloatLE(advance(c, 4, end));
    case ScalarType.DOUBLE:
      return (c, end) => c.buf.readDoubleLE(advance(c, 8, end));
    case ScalarType.FIXED64:
      return (c, end) => {
        const at = advance(c, 8, end);
        return long(protoInt64.uDec(c.buf.readInt32LE(at), c.buf.readInt32LE(at + 4)));
      };
    case ScalarType.SFIXED64:
      return (c, end) => {
        const at = advance(c, 8, end);
        return long(protoInt64.dec(c.buf.readInt32LE(at), c.buf.readInt32LE(at + 4)));
      };
    case ScalarType.BYTES:
      return (c, end) => {
        const stop = readLength(c, end);
        const start = c.pos;
        c.pos = stop;
        return c.bytes.subarray(start, stop);
      };
    case ScalarType.STRING:
      return (c, end) => {
        const stop = readLength(c, end);
        const start = c.pos;
        c.pos = stop;
        return readString(c, start, stop, strictUtf8);
      };
  }
}

const utf8 = getTextEncoding();

function readString(c: Cursor, start: number, stop: number, strict: boolean): string {
  const buf = c.buf;
  if (stop - start <= 32) {
    // Short ASCII (most names and ids): no call into the decoder.
    let s = "";
    for (let i = start; i < stop; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return utf8.decodeUtf8(c.bytes.subarray(start, stop), strict);
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8.decodeUtf8(c.bytes.subarray(start, stop), strict);
}

function advance(c: Cursor, n: number, end: number): number {
  const at = c.pos;
  if (at + n > end) throw BAIL;
  c.pos = at + n;
  return at;
}

function readLength(c: Cursor, end: number): number {
  const length = readVarint32(c, end);
  const stop = c.pos + length;
  if (length > 0x7fffffff || stop > end) throw BAIL;
  return stop;
}

// A varint read as 32 bits (longer ones are truncated, as protobuf's int32 requires).
function readVarint32(c: Cursor, end: number): number {
  const buf = c.buf;
  let pos = c.pos;
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw BAIL;
    const b = buf[pos++]!;
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      c.pos = pos;
      return result >>> 0;
    }
  }
  // Bytes 6 to 10 carry bits above 32: skipped.
  for (let i = 5; i < 10; i++) {
    if (pos >= end) throw BAIL;
    if (buf[pos++]! < 0x80) {
      c.pos = pos;
      return result >>> 0;
    }
  }
  throw BAIL;
}

const words: [number, number] = [0, 0];

function readVarint64(c: Cursor, end: number): [lo: number, hi: number] {
  const buf = c.buf;
  let pos = c.pos;
  let lo = 0;
  let hi = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw BAIL;
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return done(c, pos, lo, 0);
  }
  if (pos >= end) throw BAIL;
  b = buf[pos++]!;
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >> 4;
  if (b < 0x80) return done(c, pos, lo, hi);
  for (let shift = 3; shift <= 31; shift += 7) {
    if (pos >= end) throw BAIL;
    b = buf[pos++]!;
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) return done(c, pos, lo, hi);
  }
  throw BAIL;
}

function done(c: Cursor, pos: number, lo: number, hi: number): [number, number] {
  c.pos = pos;
  words[0] = lo;
  words[1] = hi;
  return words;
}
