import { test } from "uvu";
import * as assert from "uvu/assert";
import { FRAME_HEADER_LENGTH, frameHeader, frameMessage, MessageDecoder, RpcError, StatusCode } from "../../src/wire/index.js";

// A small deterministic PRNG (mulberry32), so a failure reproduces.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Received = { payload: Uint8Array; compressed: boolean };

function collect(decoder: MessageDecoder, chunks: Uint8Array[]): Received[] {
  const out: Received[] = [];
  for (const chunk of chunks) decoder.push(chunk, (payload, compressed) => out.push({ payload: payload.slice(), compressed }));
  return out;
}

function expectRpcError(fn: () => unknown, code: StatusCode, mentions: string): RpcError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RpcError, `expected RpcError, got ${String(caught)}`);
  const err = caught as RpcError;
  assert.is(err.code, code);
  assert.ok(err.details.includes(mentions), err.details);
  return err;
}

const decoder = (max = 4 * 1024 * 1024, compressionNegotiated = false) =>
  new MessageDecoder({ maxMessageLength: max, compressionNegotiated });

test("frameMessage lays out flag, big-endian length and payload in one buffer", () => {
  const frame = frameMessage(new Uint8Array([0xaa, 0xbb, 0xcc]));
  assert.ok(Buffer.isBuffer(frame));
  assert.equal([...frame], [0, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc]);
  assert.equal([...frameMessage(new Uint8Array([1]), true)], [1, 0, 0, 0, 1, 1]);
  assert.equal([...frameMessage(new Uint8Array(0))], [0, 0, 0, 0, 0]);
  const big = frameMessage(new Uint8Array(0x01_02_03));
  assert.is(big.length, FRAME_HEADER_LENGTH + 0x01_02_03);
  assert.equal([...big.subarray(0, 5)], [0, 0, 1, 2, 3]);
});

test("frameHeader writes the prefix alone", () => {
  assert.is(FRAME_HEADER_LENGTH, 5);
  assert.equal([...frameHeader(0x12345678)], [0, 0x12, 0x34, 0x56, 0x78]);
  assert.equal([...frameHeader(0xffffffff, true)], [1, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => frameHeader(-1), RangeError);
  assert.throws(() => frameHeader(2 ** 32), RangeError);
  assert.throws(() => frameHeader(1.5), RangeError);
});

test("decodes many messages from one chunk, zero-copy", () => {
  const chunk = Buffer.concat([frameMessage(Buffer.from("one")), frameMessage(Buffer.from("")), frameMessage(Buffer.from("three"))]);
  const seen: Uint8Array[] = [];
  const d = decoder();
  d.push(chunk, (payload, compressed) => {
    assert.not.ok(compressed);
    seen.push(payload);
  });
  assert.equal(seen.map((p) => Buffer.from(p).toString()), ["one", "", "three"]);
  for (const p of seen) assert.ok(p.buffer === chunk.buffer, "payload must be a view of the chunk");
  assert.is(seen[0]!.byteOffset, chunk.byteOffset + 5);
  assert.not.ok(d.hasPartialMessage);
});

test("a message whose body lies in one chunk is zero-copy even if its prefix was split", () => {
  const frame = frameMessage(Buffer.from("payload"));
  const d = decoder();
  d.push(frame.subarray(0, 3), () => assert.unreachable());
  assert.ok(d.hasPartialMessage);
  const rest = Buffer.from(frame.subarray(3));
  let got: Uint8Array | undefined;
  d.push(rest, (p) => (got = p));
  assert.ok(got !== undefined && got.buffer === rest.buffer);
  assert.is(Buffer.from(got!).toString(), "payload");
});

test("a message spanning chunks is assembled into one buffer of exactly its length", () => {
  const frame = frameMessage(Buffer.from("0123456789"));
  const d = decoder();
  let got: Uint8Array | undefined;
  d.push(frame.subarray(0, 8), () => assert.unreachable());
  d.push(frame.subarray(8, 12), () => assert.unreachable());
  d.push(frame.subarray(12), (p) => (got = p));
  assert.is(got!.length, 10);
  assert.is(Buffer.from(got!).toString(), "0123456789");
});

test("hasPartialMessage tracks pending prefix and body bytes", () => {
  const frame = frameMessage(Buffer.from("abc"));
  const d = decoder();
  assert.not.ok(d.hasPartialMessage);
  d.push(frame.subarray(0, 1), () => {});
  assert.ok(d.hasPartialMessage);
  d.push(frame.subarray(1, 5), () => {});
  assert.ok(d.hasPartialMessage);
  d.push(frame.subarray(5, 7), () => {});
  assert.ok(d.hasPartialMessage);
  let n = 0;
  d.push(frame.subarray(7), () => n++);
  assert.is(n, 1);
  assert.not.ok(d.hasPartialMessage);
  d.push(new Uint8Array(0), () => n++);
  assert.not.ok(d.hasPartialMessage);
  assert.is(n, 1);
});

test("fuzz: arbitrary chunk boundaries deliver every message intact and in order", () => {
  const random = prng(0x5eed);
  for (let iteration = 0; iteration < 500; iteration++) {
    const count = 1 + Math.floor(random() * 6);
    const messages: Uint8Array[] = [];
    const flags: boolean[] = [];
    for (let m = 0; m < count; m++) {
      // Mostly small messages, sometimes up to 70000 bytes (bigger than a DATA frame).
      const size = random() < 0.2 ? Math.floor(random() * 70_001) : Math.floor(random() * 64);
      const msg = new Uint8Array(size);
      for (let i = 0; i < size; i++) msg[i] = (i * 31 + m * 7 + iteration) & 0xff;
      messages.push(msg);
      flags.push(random() < 0.3);
    }
    const stream = Buffer.concat(messages.map((m, i) => frameMessage(m, flags[i])));
    const chunks: Uint8Array[] = [];
    const mode = random();
    for (let pos = 0; pos < stream.length; ) {
      const len =
        mode < 0.15 ? 1 : mode < 0.3 ? 1 + Math.floor(random() * 7) : 1 + Math.floor(random() * Math.min(stream.length, 40_000));
      chunks.push(Uint8Array.prototype.slice.call(stream, pos, pos + len));
      pos += len;
    }
    const d = decoder(70_000, true);
    const got = collect(d, chunks);
    assert.is(got.length, count, `iteration ${iteration}`);
    for (let m = 0; m < count; m++) {
      assert.is(got[m]!.compressed, flags[m], `iteration ${iteration} message ${m} flag`);
      assert.ok(Buffer.from(got[m]!.payload).equals(messages[m]!), `iteration ${iteration} message ${m} bytes`);
    }
    assert.not.ok(d.hasPartialMessage);
  }
});

test("the declared length is checked before buffering", () => {
  const d = decoder(4 * 1024 * 1024);
  const prefix = frameHeader(1024 * 1024 * 1024);
  expectRpcError(() => d.push(prefix, () => assert.unreachable()), StatusCode.RESOURCE_EXHAUSTED,
    "Received message larger than max (1073741824 vs. 4194304)");
});

test("the limit also applies when the prefix arrives byte by byte", () => {
  const d = decoder(10);
  const prefix = frameHeader(11);
  for (let i = 0; i < 4; i++) d.push(prefix.subarray(i, i + 1), () => {});
  expectRpcError(() => d.push(prefix.subarray(4), () => {}), StatusCode.RESOURCE_EXHAUSTED, "(11 vs. 10)");
});

test("a message of exactly the limit passes, and an unlimited decoder takes anything", () => {
  const got: number[] = [];
  decoder(10).push(frameMessage(new Uint8Array(10)), (p) => got.push(p.length));
  new MessageDecoder({ maxMessageLength: -1, compressionNegotiated: false }).push(frameMessage(new Uint8Array(20)), (p) => got.push(p.length));
  new MessageDecoder({ maxMessageLength: Infinity, compressionNegotiated: false }).push(frameMessage(new Uint8Array(30)), (p) => got.push(p.length));
  assert.equal(got, [10, 20, 30]);
});

test("compressed flag without a negotiated encoding is INTERNAL", () => {
  const d = decoder();
  expectRpcError(() => d.push(frameMessage(new Uint8Array(1), true), () => assert.unreachable()), StatusCode.INTERNAL, "no message encoding");
});

test("compressionNegotiated can be switched on after construction", () => {
  const d = decoder();
  d.compressionNegotiated = true;
  assert.ok(d.compressionNegotiated);
  let compressed: boolean | undefined;
  d.push(frameMessage(new Uint8Array(1), true), (_p, c) => (compressed = c));
  assert.is(compressed, true);
});

test("a flag other than 0 or 1 is INTERNAL", () => {
  const frame = frameMessage(new Uint8Array(1));
  frame[0] = 2;
  expectRpcError(() => decoder(100, true).push(frame, () => assert.unreachable()), StatusCode.INTERNAL, "flag 2");
});

test("after an error the decoder is dead and keeps throwing the same error", () => {
  const d = decoder(4);
  const first = expectRpcError(() => d.push(frameHeader(5), () => {}), StatusCode.RESOURCE_EXHAUSTED, "(5 vs. 4)");
  let again: unknown;
  try {
    d.push(frameMessage(new Uint8Array(1)), () => assert.unreachable());
  } catch (err) {
    again = err;
  }
  assert.is(again, first);
});

test("an error thrown by onMessage also kills the decoder", () => {
  const d = decoder();
  const boom = new Error("boom");
  const two = Buffer.concat([frameMessage(new Uint8Array(1)), frameMessage(new Uint8Array(2))]);
  let calls = 0;
  assert.throws(() => d.push(two, () => { calls++; throw boom; }), /boom/);
  assert.is(calls, 1);
  assert.throws(() => d.push(frameMessage(new Uint8Array(1)), () => calls++), /boom/);
  assert.is(calls, 1);
});

test.run();
