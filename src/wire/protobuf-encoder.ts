import { create, protoInt64, ScalarType, toBinary, type DescField, type DescMessage, type Message, type MessageShape } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { allocateFrame } from "./framing.js";

/**
 * A protobuf-es binary encoder that sizes a message first and then writes it once,
 * straight into the buffer of its gRPC frame (after the 5-byte prefix): no buffer
 * grown and copied, no final copy, no second copy into the frame. Its output is
 * byte-for-byte `toBinary()`'s (fields by number, then unknown fields); a message type
 * it does not take on (fields with a custom local representation: singular wrappers,
 * `google.protobuf.Struct`) is handed to `toBinary()`, and a nested message of such a
 * type is `toBinary()`'d into the parent.
 *
 * Nested lengths are needed before the nested bytes, so the sizing pass records each
 * length-delimited length in visiting order and the writing pass reads them back in the
 * same order (the "cached size" of the C++ and Go runtimes, kept outside the message).
 */
export function protobufEncoder<Desc extends DescMessage>(desc: Desc): (message: Message) => Uint8Array {
  const compiled = compile(desc);
  if (compiled === undefined) return (message) => toBinary(desc, message as MessageShape<Desc>);
  return (message) => encode(compiled, message as unknown as Fields);
}

type Fields = Record<string, unknown>;

/** One encoding in progress: the lengths of the sizing pass, read back while writing. */
class Pass {
  lengths: number[] = [];
  next = 0;
  blobs: Uint8Array[] = [];
  nextBlob = 0;
  buf!: Buffer;
  pos = 0;
  busy = false;

  reset(): void {
    // Most messages have no nested lengths: setting `length` is not free.
    if (this.lengths.length !== 0) this.lengths.length = 0;
    if (this.blobs.length !== 0) this.blobs.length = 0;
    this.next = 0;
    this.nextBlob = 0;
    this.buf = EMPTY;
    this.pos = 0;
  }
}

const EMPTY = Buffer.alloc(0);
const shared = new Pass();

function encode(compiled: Compiled, message: Fields): Uint8Array {
  // Encoding calls no user code, but a fresh pass keeps a reentrant use correct.
  const pass = shared.busy ? new Pass() : shared;
  pass.busy = true;
  try {
    const bytes = allocateFrame(compiled.size(message, pass));
    pass.buf = bytes;
    compiled.write(message, pass);
    return bytes;
  } finally {
    pass.reset();
    pass.busy = false;
  }
}

interface Compiled {
  size(message: Fields, pass: Pass): number;
  write(message: Fields, pass: Pass): void;
}

type FieldCodec = Compiled;

const compiledByDesc = new WeakMap<DescMessage, Compiled | null>();

/** The encoder of one message type, or undefined when `toBinary()` must do it. */
function compile(desc: DescMessage): Compiled | undefined {
  const known = compiledByDesc.get(desc);
  if (known !== undefined) return known ?? undefined;
  if (!supported(desc)) {
    compiledByDesc.set(desc, null);
    return undefined;
  }
  const fields: FieldCodec[] = [];
  const typeName = desc.typeName;
  const compiled: Compiled = {
    size(message, pass) {
      if (message.$typeName !== typeName) throw new Error(`cannot encode ${String(message.$typeName)} as ${typeName}`);
      let n = 0;
      for (let i = 0; i < fields.length; i++) n += fields[i]!.size(message, pass);
      const unknown = message.$unknown as UnknownField[] | undefined;
      if (unknown !== undefined) for (const u of unknown) n += tagSize(u.no, u.wireType) + u.data.byteLength;
      return n;
    },
    write(message, pass) {
      for (let i = 0; i < fields.length; i++) fields[i]!.write(message, pass);
      const unknown = message.$unknown as UnknownField[] | undefined;
      if (unknown !== undefined) {
        for (const u of unknown) {
          writeTag(pass, u.no, u.wireType);
          writeRaw(pass, u.data);
        }
      }
    },
  };
  // Registered before the fields, so that recursive types find it.
  compiledByDesc.set(desc, compiled);
  for (const field of [...desc.fields].sort((a, b) => a.number - b.number)) fields.push(compileField(field));
  return compiled;
}

interface UnknownField {
  no: number;
  wireType: number;
  data: Uint8Array;
}

// Fields whose local value is not the message itself (protobuf-es's localMessageMapper).
function supported(desc: DescMessage): boolean {
  for (const field of desc.fields) {
    if (field.message === undefined) continue;
    if (field.message.typeName === "google.protobuf.Struct" && desc.typeName !== "google.protobuf.Value") return false;
    if (field.fieldKind === "message" && field.oneof === undefined && isWrapperDesc(field.message)) return false;
  }
  return true;
}

const IMPLICIT = 2; // google.protobuf.FeatureSet.FieldPresence
const LEGACY_REQUIRED = 3;

const WIRE_VARINT = 0;
const WIRE_BIT64 = 1;
export const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_BIT32 = 5;

function compileField(field: DescField): FieldCodec {
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
    case "message":
      return singular(field, field.fieldKind === "message" ? messageValue(field.number, field.message, field.delimitedEncoding) : scalarValue(field.number, scalarOf(field), field));
    case "list":
      return field.listKind === "message" ? repeatedField(field, messageValue(field.number, field.message, field.delimitedEncoding)) : scalarList(field, scalarOf(field));
    case "map":
      return map(field);
  }
}

function scalarOf(field: DescField): ScalarType {
  if (field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum") || (field.fieldKind === "map" && field.mapKind === "enum")) {
    return ScalarType.INT32;
  }
  return (field as { scalar: ScalarType }).scalar;
}

/** Encodes a present value with its tag. */
interface ValueCodec {
  size(value: unknown, pass: Pass): number;
  write(value: unknown, pass: Pass): void;
}

function singular(field: DescField, value: ValueCodec): FieldCodec {
  const name = field.localName;
  if (field.oneof !== undefined) {
    const oneofName = field.oneof.localName;
    return {
      size: (m, pass) => {
        const oneof = m[oneofName] as { case: string | undefined; value: unknown };
        return oneof.case === name ? value.size(oneof.value, pass) : 0;
      },
      write: (m, pass) => {
        const oneof = m[oneofName] as { case: string | undefined; value: unknown };
        if (oneof.case === name) value.write(oneof.value, pass);
      },
    };
  }
  let present: (v: unknown, m: Fields) => boolean;
  if (field.presence !== IMPLICIT) {
    const required = field.presence === LEGACY_REQUIRED;
    // Explicit presence: defaults live on the prototype chain (protobuf-es), so only own values count.
    present = (v, m) => {
      if (v !== undefined && Object.prototype.hasOwnProperty.call(m, name)) return true;
      if (required) throw new Error(`cannot encode ${field.toString()} to binary: required field not set`);
      return false;
    };
  } else if (field.fieldKind === "enum") {
    const zero = field.enum.values[0]!.number;
    present = (v) => v !== zero;
  } else {
    switch (field.scalar) {
      case ScalarType.BOOL:
        present = (v) => v !== false;
        break;
      case ScalarType.STRING:
        present = (v) => v !== "";
        break;
      case ScalarType.BYTES:
        present = (v) => !(v instanceof Uint8Array) || v.byteLength > 0;
        break;
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        present = (v) => !Object.is(v, 0);
        break;
      default:
        // Loose on purpose: 0, 0n and "0" are all the zero value.
        present = (v) => v != 0;
    }
  }
  return {
    size: (m, pass) => {
      const v = m[name];
      return present(v, m) ? value.size(v, pass) : 0;
    },
    write: (m, pass) => {
      const v = m[name];
      if (present(v, m)) value.write(v, pass);
    },
  };
}

/** @param field where the value is, for errors */
function scalarValue(no: number, type: ScalarType, field: DescField): ValueCodec {
  const scalar = scalarCodec(type, field);
  const wireType = wireTypeOf(type);
  const tag = tagOf(no, wireType);
  const tagBytes = varintSize(tag);
  if (wireType !== WIRE_LEN) {
    return {
      size: (v) => tagBytes + scalar.size(v),
      write: (v, pass) => {
        writeVarint(pass, tag);
        scalar.write(v, pass);
      },
    };
  }
  if (type === ScalarType.STRING) {
    return {
      size: (v, pass) => {
        const length = Buffer.byteLength(stringOf(v), "utf8");
        pass.lengths.push(length);
        return tagBytes + varintSize(length) + length;
      },
      write: (v, pass) => {
        writeVarint(pass, tag);
        writeString(pass, stringOf(v), pass.lengths[pass.next++]!);
      },
    };
  }
  return {
    size: (v) => {
      const length = bytesOf(v, field).byteLength;
      return tagBytes + varintSize(length) + length;
    },
    write: (v, pass) => {
      const bytes = v as Uint8Array;
      writeVarint(pass, tag);
      writeVarint(pass, bytes.byteLength);
      writeRaw(pass, bytes);
    },
  };
}

/** A nested message with its tag: length-delimited, or a group (delimited encoding). */
function messageValue(no: number, desc: DescMessage, delimited: boolean): ValueCodec {
  const nested = compile(desc);
  if (delimited) {
    const start = tagOf(no, WIRE_START_GROUP);
    const end = tagOf(no, WIRE_END_GROUP);
    const tags = varintSize(start) + varintSize(end);
    return {
      size: (v, pass) => tags + messageBodySize(nested, desc, v, pass),
      write: (v, pass) => {
        writeVarint(pass, start);
        writeMessageBody(nested, v, pass);
        writeVarint(pass, end);
      },
    };
  }
  const tag = tagOf(no, WIRE_LEN);
  const tagBytes = varintSize(tag);
  return {
    size: (v, pass) => {
      const index = pass.lengths.length;
      pass.lengths.push(0);
      const length = messageBodySize(nested, desc, v, pass);
      pass.lengths[index] = length;
      return tagBytes + varintSize(length) + length;
    },
    write: (v, pass) => {
      writeVarint(pass, tag);
      writeVarint(pass, pass.lengths[pass.next++]!);
      writeMessageBody(nested, v, pass);
    },
  };
}

function messageBodySize(nested: Compiled | undefined, desc: DescMessage, value: unknown, pass: Pass): number {
  const message = (value ?? { $typeName: desc.typeName }) as Fields;
  if (nested !== undefined) return nested.size(message, pass);
  const bytes = toBinary(desc, value === undefined ? create(desc) : (value as Message));
  pass.blobs.push(bytes);
  return bytes.byteLength;
}

function writeMessageBody(nested: Compiled | undefined, value: unknown, pass: Pass): void {
  if (nested !== undefined) nested.write((value ?? {}) as Fields, pass);
  else writeRaw(pass, pass.blobs[pass.nextBlob++]!);
}

/** A repeated field written as one tag-and-value per item. */
function repeatedField(field: DescField, value: ValueCodec): FieldCodec {
  const name = field.localName;
  return {
    size: (m, pass) => {
      const items = m[name] as unknown[];
      let n = 0;
      for (let i = 0; i < items.length; i++) n += value.size(items[i], pass);
      return n;
    },
    write: (m, pass) => {
      const items = m[name] as unknown[];
      for (let i = 0; i < items.length; i++) value.write(items[i], pass);
    },
  };
}

function scalarList(field: DescField, type: ScalarType): FieldCodec {
  const name = field.localName;
  // Unpacked: each item a field of its own, as for repeated messages.
  if (!(field as { packed: boolean }).packed) return repeatedField(field, scalarValue(field.number, type, field));
  const scalar = scalarCodec(type, field);
  const tag = tagOf(field.number, WIRE_LEN);
  const tagBytes = varintSize(tag);
  return {
    size: (m, pass) => {
      const items = m[name] as unknown[];
      if (items.length === 0) return 0;
      let length = 0;
      for (let i = 0; i < items.length; i++) length += scalar.size(items[i]);
      pass.lengths.push(length);
      return tagBytes + varintSize(length) + length;
    },
    write: (m, pass) => {
      const items = m[name] as unknown[];
      if (items.length === 0) return;
      writeVarint(pass, tag);
      writeVarint(pass, pass.lengths[pass.next++]!);
      for (let i = 0; i < items.length; i++) scalar.write(items[i], pass);
    },
  };
}

function map(field: DescField & { fieldKind: "map" }): FieldCodec {
  const name = field.localName;
  const tag = tagOf(field.number, WIRE_LEN);
  const tagBytes = varintSize(tag);
  const key = scalarValue(1, field.mapKey, field);
  const toKey = mapKeyConverter(field.mapKey);
  // A map entry's value is field 2; for a message value it is always length-delimited.
  const value: ValueCodec =
    field.mapKind === "message" ? messageValue(2, field.message, false) : scalarValue(2, scalarOf(field), field);
  return {
    size: (m, pass) => {
      const record = m[name] as Record<string, unknown>;
      let n = 0;
      for (const k of Object.keys(record)) {
        const index = pass.lengths.length;
        pass.lengths.push(0);
        const length = key.size(toKey(k), pass) + value.size(record[k], pass);
        pass.lengths[index] = length;
        n += tagBytes + varintSize(length) + length;
      }
      return n;
    },
    write: (m, pass) => {
      const record = m[name] as Record<string, unknown>;
      for (const k of Object.keys(record)) {
        writeVarint(pass, tag);
        writeVarint(pass, pass.lengths[pass.next++]!);
        key.write(toKey(k), pass);
        value.write(record[k], pass);
      }
    },
  };
}

// Map keys are strings locally; protobuf-es converts them back before writing, and so do we.
function mapKeyConverter(type: ScalarType): (key: string) => unknown {
  switch (type) {
    case ScalarType.STRING:
      return (key) => key;
    case ScalarType.BOOL:
      return (key) => (key === "true" ? true : key === "false" ? false : key);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return (key) => key;
    default:
      return (key) => {
        const n = Number.parseInt(key);
        return Number.isFinite(n) ? n : key;
      };
  }
}

// ---- scalars ---------------------------------------------------------------------

interface ScalarCodec {
  size(value: unknown): number;
  write(value: unknown, pass: Pass): void;
}

function scalarCodec(type: ScalarType, field: DescField): ScalarCodec {
  const where = `${field.parent.typeName}.${field.name}`;
  const fail = (e: unknown): never => {
    throw new Error(`cannot encode field ${where} to binary: ${e instanceof Error ? e.message : String(e)}`);
  };
  switch (type) {
    case ScalarType.INT32:
      return {
        size: (v) => {
          const n = int32(v, "int32", fail);
          return n >= 0 ? varintSize(n) : 10;
        },
        write: (v, pass) => writeInt32(pass, int32(v, "int32", fail)),
      };
    case ScalarType.SINT32:
      return {
        size: (v) => varintSize(zigzag32(int32(v, "int32", fail))),
        write: (v, pass) => writeVarint(pass, zigzag32(int32(v, "int32", fail))),
      };
    case ScalarType.UINT32:
      return {
        size: (v) => varintSize(uint32(v, fail)),
        write: (v, pass) => writeVarint(pass, uint32(v, fail)),
      };
    case ScalarType.FIXED32:
      return {
        size: (v) => (uint32(v, fail), 4),
        write: (v, pass) => {
          pass.buf.writeUInt32LE(uint32(v, fail), pass.pos);
          pass.pos += 4;
        },
      };
    case ScalarType.SFIXED32:
      return {
        size: (v) => (int32(v, "int32", fail), 4),
        write: (v, pass) => {
          pass.buf.writeInt32LE(int32(v, "int32", fail), pass.pos);
          pass.pos += 4;
        },
      };
    case ScalarType.FLOAT:
      return {
        size: (v) => (float32(v, fail), 4),
        write: (v, pass) => {
          pass.buf.writeFloatLE(float32(v, fail), pass.pos);
          pass.pos += 4;
        },
      };
    case ScalarType.DOUBLE:
      return {
        size: () => 8,
        write: (v, pass) => {
          pass.buf.writeDoubleLE(Number(v), pass.pos);
          pass.pos += 8;
        },
      };
    case ScalarType.BOOL:
      return {
        size: () => 1,
        write: (v, pass) => {
          pass.buf[pass.pos++] = v ? 1 : 0;
        },
      };
    case ScalarType.INT64:
      return varint64((v) => protoInt64.enc(v as bigint | string | number), fail);
    case ScalarType.UINT64:
      return varint64((v) => protoInt64.uEnc(v as bigint | string | number), fail);
    case ScalarType.SINT64:
      return varint64((v) => {
        const { lo, hi } = protoInt64.enc(v as bigint | string | number);
        const sign = hi >> 31;
        return { lo: (lo << 1) ^ sign, hi: ((hi << 1) | (lo >>> 31)) ^ sign };
      }, fail);
    case ScalarType.FIXED64:
      return fixed64((v) => protoInt64.uEnc(v as bigint | string | number), fail);
    case ScalarType.SFIXED64:
      return fixed64((v) => protoInt64.enc(v as bigint | string | number), fail);
    case ScalarType.STRING:
      return {
        size: (v) => {
          const length = Buffer.byteLength(stringOf(v), "utf8");
          return varintSize(length) + length;
        },
        write: (v, pass) => {
          const s = stringOf(v);
          writeString(pass, s, Buffer.byteLength(s, "utf8"));
        },
      };
    case ScalarType.BYTES:
      return {
        size: (v) => {
          const length = bytesOf(v, field).byteLength;
          return varintSize(length) + length;
        },
        write: (v, pass) => {
          const bytes = v as Uint8Array;
          writeVarint(pass, bytes.byteLength);
          writeRaw(pass, bytes);
        },
      };
  }
}

interface TwoWords {
  lo: number;
  hi: number;
}

function varint64(split: (v: unknown) => TwoWords, fail: (e: unknown) => never): ScalarCodec {
  const words = (v: unknown): TwoWords => {
    try {
      return split(v);
    } catch (e) {
      return fail(e);
    }
  };
  return {
    size: (v) => {
      const { lo, hi } = words(v);
      return varint64Size(lo, hi);
    },
    write: (v, pass) => {
      const { lo, hi } = words(v);
      writeVarint64(pass, lo, hi);
    },
  };
}

function fixed64(split: (v: unknown) => TwoWords, fail: (e: unknown) => never): ScalarCodec {
  return {
    size: (v) => {
      try {
        split(v);
      } catch (e) {
        fail(e);
      }
      return 8;
    },
    write: (v, pass) => {
      const { lo, hi } = split(v);
      pass.buf.writeInt32LE(lo, pass.pos);
      pass.buf.writeInt32LE(hi, pass.pos + 4);
      pass.pos += 8;
    },
  };
}

// protobuf-es accepts numeric strings for 32-bit fields too; so do we, with its checks.
function int32(v: unknown, what: string, fail: (e: unknown) => never): number {
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number") return fail(new Error(`invalid ${what}: ${typeof v}`));
  if (!Number.isInteger(n) || n > 0x7fffffff || n < -0x80000000) return fail(new Error(`invalid ${what}: ${n}`));
  return n;
}

function uint32(v: unknown, fail: (e: unknown) => never): number {
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number") return fail(new Error(`invalid uint32: ${typeof v}`));
  if (!Number.isInteger(n) || n > 0xffffffff || n < 0) return fail(new Error(`invalid uint32: ${n}`));
  return n;
}

function float32(v: unknown, fail: (e: unknown) => never): number {
  let n = v;
  if (typeof v === "string") {
    n = Number(v);
    if (Number.isNaN(n) && v !== "NaN") return fail(new Error(`invalid float32: ${v}`));
  } else if (typeof v !== "number") {
    return fail(new Error(`invalid float32: ${typeof v}`));
  }
  const x = n as number;
  if (Number.isFinite(x) && (x > 3.4028234663852886e38 || x < -3.4028234663852886e38)) return fail(new Error(`invalid float32: ${x}`));
  return x;
}

function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

function stringOf(v: unknown): string {
  return typeof v === "string" ? v : String(v);
}

function bytesOf(v: unknown, field: DescField): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new Error(`cannot encode field ${field.parent.typeName}.${field.name} to binary: invalid bytes: ${typeof v}`);
}

/** The wire type of a scalar type's values (shared with the decoder). */
export function wireTypeOf(type: ScalarType): number {
  switch (type) {
    case ScalarType.BYTES:
    case ScalarType.STRING:
      return WIRE_LEN;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WIRE_BIT64;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return WIRE_BIT32;
    default:
      return WIRE_VARINT;
  }
}

// ---- the bytes ---------------------------------------------------------------------

function tagOf(no: number, wireType: number): number {
  return ((no << 3) | wireType) >>> 0;
}

function tagSize(no: number, wireType: number): number {
  return varintSize(tagOf(no, wireType));
}

function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo >>> 0);
  // 32 bits of lo, then 7 bits per byte of what is left (lo's top 4 bits and hi).
  const h = hi >>> 0;
  if (h < 0x8) return 5;
  if (h < 0x400) return 6;
  if (h < 0x20000) return 7;
  if (h < 0x1000000) return 8;
  if (h < 0x80000000) return 9;
  return 10;
}

function writeVarint(pass: Pass, n: number): void {
  const buf = pass.buf;
  let pos = pass.pos;
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  pass.pos = pos;
}

// A negative int32 is sign-extended to 64 bits: ten bytes.
function writeInt32(pass: Pass, n: number): void {
  if (n >= 0) {
    writeVarint(pass, n);
    return;
  }
  const buf = pass.buf;
  let pos = pass.pos;
  for (let i = 0; i < 9; i++) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>= 7;
  }
  buf[pos++] = 1;
  pass.pos = pos;
}

function writeVarint64(pass: Pass, lo: number, hi: number): void {
  const buf = pass.buf;
  let pos = pass.pos;
  let l = lo >>> 0;
  let h = hi >>> 0;
  while (h !== 0 || l > 0x7f) {
    buf[pos++] = (l & 0x7f) | 0x80;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  buf[pos++] = l;
  pass.pos = pos;
}

function writeTag(pass: Pass, no: number, wireType: number): void {
  writeVarint(pass, tagOf(no, wireType));
}

function writeRaw(pass: Pass, bytes: Uint8Array): void {
  pass.buf.set(bytes, pass.pos);
  pass.pos += bytes.byteLength;
}

function writeString(pass: Pass, s: string, length: number): void {
  writeVarint(pass, length);
  if (length === s.length && length < 64) {
    // ASCII, short: a loop beats the call into C++.
    const buf = pass.buf;
    let pos = pass.pos;
    for (let i = 0; i < length; i++) buf[pos++] = s.charCodeAt(i);
    pass.pos = pos;
    return;
  }
  pass.pos += pass.buf.write(s, pass.pos, length, "utf8");
}
