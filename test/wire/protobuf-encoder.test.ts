// The protobuf-es encoder that writes straight into the gRPC frame
// (src/wire/protobuf-encoder.ts) must give toBinary()'s bytes for every message (the
// fixture types: every field kind, presence, wrappers, Struct, unknown fields and
// extensions), and the same errors for values toBinary() refuses. Framing then adds
// the prefix in place.
import { create, fromBinary, protoInt64, setExtension, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { LoadedProtos } from "../../src/index.js";
import { encodeMessage } from "../../src/transport/index.js";
import { frameMessage, protobufEncoder } from "../../src/wire/index.js";
import { fixtureMessages, Gen, loadFixtures, rng } from "./protobuf-fixtures.js";

let loaded: LoadedProtos;

const test = suite("protobuf encoder");

test.before(() => {
  loaded = loadFixtures();
});

function assertSameBytes(desc: DescMessage, message: Message, what: string): void {
  const expected = toBinary(desc, message);
  const actual = protobufEncoder(desc)(message);
  if (Buffer.compare(Buffer.from(expected), Buffer.from(actual)) !== 0) {
    assert.unreachable(`${what}: ${desc.typeName} encodes differently:\n  toBinary ${Buffer.from(expected).toString("hex").slice(0, 400)}\n  ours     ${Buffer.from(actual).toString("hex").slice(0, 400)}`);
  }
}

test("random messages of every kind encode exactly as toBinary()", () => {
  const gen = new Gen(rng(20261202));
  const types = fixtureMessages(loaded);
  assert.ok(types.length >= 10, String(types.length));
  for (let round = 0; round < 300; round++) {
    for (const desc of types) assertSameBytes(desc, gen.message(desc, 0), `round ${round}`);
  }
});

test("empty messages, defaults on the prototype, and messages parsed from the wire", () => {
  for (const desc of Object.values(loaded.messages)) {
    if (desc.fields.some((f) => f.fieldKind === "scalar" && f.presence === 3)) continue; // required: toBinary refuses
    assertSameBytes(desc, create(desc), "empty");
  }
  const v2 = loaded.messages["enc.v2.Defaults"]!;
  const parsed = fromBinary(v2, toBinary(v2, create(v2, { needed: 5, i32: 7, s: "x", unpacked: [1, 2], packed: [3, 4] } as never)));
  assertSameBytes(v2, parsed, "parsed proto2");
});

test("extensions (kept as unknown fields) and groups", () => {
  const v2 = loaded.messages["enc.v2.Defaults"]!;
  const file = loaded.files.find((f) => f.name === "v2")!;
  const m = create(v2, { needed: -1, g: { a: 3 } } as never);
  setExtension(m, file.extensions.find((e) => e.name === "ext_i32")!, 42);
  setExtension(m, file.extensions.find((e) => e.name === "ext_s")!, ["a", "bé"]);
  assertSameBytes(v2, m, "extensions");
});

test("values toBinary() refuses are refused too, naming the field", () => {
  const scalars = loaded.messages["enc.v3.Scalars"]!;
  const v2 = loaded.messages["enc.v2.Defaults"]!;
  const cases: [DescMessage, Record<string, unknown>][] = [
    [scalars, { i32: 2 ** 31 }],
    [scalars, { i32: 1.5 }],
    [scalars, { u32: -1 }],
    [scalars, { fx32: 2 ** 32 }],
    [scalars, { f: 1e39 }],
    [scalars, { i64: "twelve" }],
    [scalars, { u64: -1n }],
    [scalars, { by: "not bytes" }],
    [v2, {}],
  ];
  for (const [desc, fields] of cases) {
    const message = Object.assign(create(desc), fields) as Message;
    let theirs: unknown;
    try {
      toBinary(desc, message);
    } catch (err) {
      theirs = err;
    }
    assert.instance(theirs, Error, `toBinary accepts ${JSON.stringify(fields, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`);
    assert.throws(() => protobufEncoder(desc)(message), (err: Error) => /enc\.v[23]\.\w+/.test(err.message) || err.message.includes("required"));
  }
  // A message of another type in a message field.
  const holder = loaded.messages["enc.v3.Holder"]!;
  const wrong = create(holder, { scalars: create(loaded.messages["enc.v3.Lists"]!) as never });
  assert.throws(() => protobufEncoder(holder)(wrong));
});

test("64-bit values given as numbers and strings encode as bigints do", () => {
  const scalars = loaded.messages["enc.v3.Scalars"]!;
  for (const v of [0, 1, -1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER]) {
    for (const form of [v, String(v), BigInt(v)]) {
      const m = Object.assign(create(scalars), { i64: form, s64: form, sfx64: form, i64Str: String(v) }) as Message;
      assertSameBytes(scalars, m, `i64 ${String(form)}`);
    }
  }
  assert.is(protoInt64.supported, true);
});

test("framing writes the prefix in place for the latest encoding, and copies anything else", () => {
  const scalars = loaded.messages["enc.v3.Scalars"]!;
  const encode = protobufEncoder(scalars);
  const small = encode(create(scalars, { s: "hello" } as never));
  const frame = encodeMessage(small, 1 << 20, undefined, true) as Buffer;
  assert.is(frame.buffer, small.buffer, "the frame is the buffer the encoder wrote into");
  assert.is(frame.byteOffset + 5, small.byteOffset);
  assert.equal([...frame], [...frameMessage(small)]);
  // Encoded earlier than the latest: copied (or sent as its own chunk), never corrupted.
  const first = encode(create(scalars, { i32: 1 } as never));
  const second = encode(create(scalars, { i32: 2 } as never));
  const firstFrame = encodeMessage(first, 1 << 20, undefined, false) as Buffer;
  assert.ok(firstFrame.buffer !== first.buffer || firstFrame.byteOffset + 5 !== first.byteOffset, "an earlier encoding is copied");
  assert.equal([...firstFrame], [...frameMessage(first)]);
  const secondFrame = encodeMessage(second, 1 << 20, undefined, true) as Buffer;
  assert.equal([...secondFrame], [...frameMessage(second)]);
  // A large one, too: one buffer, no second chunk.
  const large = encode(create(scalars, { by: new Uint8Array(70_000).fill(7) } as never));
  const largeFrame = encodeMessage(large, 1 << 20, undefined, true);
  assert.instance(largeFrame, Buffer);
  assert.is((largeFrame as Buffer).byteLength, large.byteLength + 5);
});

test.run();
