// The protobuf-es decoder that reads messages where they lie
// (src/wire/protobuf-decoder.ts) must build what fromBinary() builds from any bytes:
// encodings of random messages of every fixture type (its own fast path and every
// fallback: unknown fields, closed enums, groups, wrappers, Struct, merged
// occurrences), the same bytes with fields reordered, repeated or packed differently,
// and corrupted bytes, which must fail exactly when fromBinary() fails.
import { create, fromBinary, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { LoadedProtos } from "../../src/index.js";
import { protobufDecoder } from "../../src/wire/index.js";
import { fixtureMessages, Gen, loadFixtures, rng } from "./protobuf-fixtures.js";

let loaded: LoadedProtos;

const test = suite("protobuf decoder");

test.before(() => {
  loaded = loadFixtures();
});

// Compared structurally, which sees what protobuf-es's equals() ignores (unknown
// fields, bytes vs Buffer) and treats NaN as equal to itself, as equals() does not.
function assertSameMessage(desc: DescMessage, bytes: Uint8Array, what: string): void {
  let expected: Message | undefined;
  let theirError: unknown;
  try {
    expected = fromBinary(desc, bytes);
  } catch (err) {
    theirError = err;
  }
  let actual: Message | undefined;
  let ourError: unknown;
  try {
    actual = protobufDecoder(desc)(bytes);
  } catch (err) {
    ourError = err;
  }
  if (theirError !== undefined || ourError !== undefined) {
    assert.ok(theirError !== undefined && ourError !== undefined, `${what}: fromBinary ${theirError ? "throws" : "decodes"}, ours ${ourError ? "throws" : "decodes"}`);
    return;
  }
  assert.equal(snapshot(actual), snapshot(expected), `${what}: ${desc.typeName} differs structurally`);
}

function snapshot(value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `${Buffer.isBuffer(value) ? "Buffer" : "Uint8Array"}:${Buffer.from(value).toString("hex")}`;
  if (Array.isArray(value)) return value.map(snapshot);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = snapshot((value as Record<string, unknown>)[key]);
    return out;
  }
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  if (Object.is(value, -0)) return "-0";
  return value;
}

test("encodings of random messages of every type decode as fromBinary() decodes them", () => {
  const gen = new Gen(rng(1202));
  for (let round = 0; round < 300; round++) {
    for (const desc of fixtureMessages(loaded)) {
      const message = gen.message(desc, 0);
      let bytes: Uint8Array;
      try {
        bytes = toBinary(desc, message);
      } catch {
        continue; // a proto2 required field the generator left out
      }
      assertSameMessage(desc, bytes, `round ${round}`);
    }
  }
});

test("the same fields in another order, repeated, or packed the other way", () => {
  const scalars = loaded.messages["enc.v3.Scalars"]!;
  const lists = loaded.messages["enc.v3.Lists"]!;
  const tree = loaded.messages["enc.v3.Tree"]!;
  const a = toBinary(scalars, create(scalars, { i32: 5, s: "first" } as never));
  const b = toBinary(scalars, create(scalars, { i32: -7, s: "second", b: true } as never));
  assertSameMessage(scalars, Buffer.concat([a, b]), "last one wins");
  assertSameMessage(scalars, Buffer.concat([b, a]), "reversed");
  // Singular messages that occur twice are merged (fromBinary's part).
  const t1 = toBinary(tree, create(tree, { name: "x", parent: { name: "p1" }, pick: { case: "scalars", value: { i32: 1 } } } as never));
  const t2 = toBinary(tree, create(tree, { parent: { children: [{ name: "c" }] }, pick: { case: "scalars", value: { s: "two" } } } as never));
  assertSameMessage(tree, Buffer.concat([t1, t2]), "merged messages");
  // Packed and unpacked encodings of one list are both accepted, and mixed.
  const packed = toBinary(lists, create(lists, { i32: [1, -2, 300], unpacked: [4, 5] } as never));
  const unpackedI32 = Buffer.from([0x08, 0x07, 0x08, 0x08]); // field 1 as two varints
  const packedUnpacked = Buffer.from([0x4a, 0x02, 0x09, 0x0a]); // field 9 packed: 9, 10
  assertSameMessage(lists, Buffer.concat([packed, unpackedI32, packedUnpacked]), "packed and unpacked");
  // A map entry with its key or value missing, and one with them in reverse order.
  const maps = loaded.messages["enc.v3.Maps"]!;
  assertSameMessage(maps, Buffer.from([0x0a, 0x03, 0x12, 0x01, 0x61]), "entry without key"); // ss: value "a"
  assertSameMessage(maps, Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x6b]), "entry without value"); // ss: key "k"
  assertSameMessage(maps, Buffer.from([0x0a, 0x06, 0x12, 0x01, 0x76, 0x0a, 0x01, 0x6b]), "value before key");
  assertSameMessage(maps, Buffer.from([0x12, 0x00]), "empty message-valued entry");
  // Unknown fields are kept (fromBinary's part), and so is a closed enum's unknown value.
  assertSameMessage(scalars, Buffer.concat([a, Buffer.from([0xc0, 0x3e, 0x01])]), "unknown field");
  const v2 = loaded.messages["enc.v2.Defaults"]!;
  assertSameMessage(v2, Buffer.from([0x20, 0x01, 0x18, 0x09]), "closed enum, unknown value");
  // Strings: long, non-ASCII, a BOM, and invalid UTF-8 (refused by proto3's validation).
  const s = (text: Buffer): Buffer => Buffer.concat([Buffer.from([0x72, text.byteLength]), text]);
  assertSameMessage(scalars, s(Buffer.from("ü".repeat(40))), "non-ASCII");
  assertSameMessage(scalars, s(Buffer.from("\ufeffbom")), "BOM");
  assertSameMessage(scalars, s(Buffer.from([0x61, 0xff, 0x62])), "invalid UTF-8");
  // Plain Uint8Array input (not a Buffer), as a user's deserializer call may give.
  assertSameMessage(scalars, new Uint8Array(a), "Uint8Array input");
  const decoded = protobufDecoder(scalars)(new Uint8Array(toBinary(scalars, create(scalars, { by: Uint8Array.of(1) } as never))));
  assert.not.instance((decoded as unknown as { by: Uint8Array }).by, Buffer);
});

test("corrupted bytes fail exactly when fromBinary() fails, and decode as it decodes otherwise", () => {
  const gen = new Gen(rng(77));
  const next = rng(78);
  for (let round = 0; round < 150; round++) {
    for (const desc of fixtureMessages(loaded)) {
      let bytes: Uint8Array;
      try {
        bytes = toBinary(desc, gen.message(desc, 0));
      } catch {
        continue;
      }
      if (bytes.byteLength === 0) continue;
      const damaged = Buffer.from(bytes);
      const at = Math.floor(next() * damaged.byteLength);
      switch (round % 3) {
        case 0:
          damaged[at] = Math.floor(next() * 256);
          break;
        case 1:
          damaged[at] ^= 0x80;
          break;
        default:
          assertSameMessage(desc, damaged.subarray(0, at), `truncated at ${at}`);
          continue;
      }
      assertSameMessage(desc, damaged, `byte ${at} changed`);
    }
  }
});

test("nesting past fromBinary()'s recursion limit fails as fromBinary() fails", () => {
  const tree = loaded.messages["enc.v3.Tree"]!;
  let bytes: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 120; i++) bytes = Buffer.concat([Buffer.from([0x1a]), varint(bytes.byteLength), bytes]);
  assert.throws(() => fromBinary(tree, bytes));
  assert.throws(() => protobufDecoder(tree)(bytes));
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

test.run();
