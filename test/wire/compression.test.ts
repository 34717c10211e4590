import { test } from "uvu";
import * as assert from "uvu/assert";
import * as zlib from "node:zlib";
import {
  ACCEPT_ENCODING_HEADER,
  deflate,
  getCompressor,
  gzip,
  identity,
  parseEncodingList,
  RpcError,
  StatusCode,
  SUPPORTED_ENCODINGS,
  type Compressor,
} from "../../src/wire/index.js";

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RpcError, `expected RpcError, got ${String(err)}`);
    return err as RpcError;
  }
  assert.unreachable("expected a rejection");
  throw new Error("unreachable");
}

const sample = Buffer.from("hello hello hello hello gRPC ".repeat(100) + "ünïcødé");

for (const c of [gzip, deflate]) {
  test(`${c.name}: round trip`, async () => {
    const compressed = await c.compress(sample);
    assert.ok(compressed.length < sample.length / 5, "should actually compress");
    const back = await c.decompress(compressed, 1_000_000);
    assert.ok(Buffer.from(back).equals(sample));
    const empty = await c.decompress(await c.compress(new Uint8Array(0)), 0);
    assert.is(empty.length, 0);
  });

  test(`${c.name}: a compression bomb stops at the limit`, async () => {
    const bomb = await c.compress(Buffer.alloc(50 * 1024 * 1024));
    assert.ok(bomb.length < 200 * 1024);
    const err = await rejection(c.decompress(bomb, 4 * 1024 * 1024));
    assert.is(err.code, StatusCode.RESOURCE_EXHAUSTED);
    assert.ok(err.details.startsWith("Received message larger than max"), err.details);
    // zlib itself gave up at maxOutputLength, rather than inflating all 50 MB first.
    assert.is((err.cause as NodeJS.ErrnoException | undefined)?.code, "ERR_BUFFER_TOO_LARGE");
  });

  test(`${c.name}: the limit is exact`, async () => {
    const data = await c.compress(new Uint8Array(1000));
    assert.is((await c.decompress(data, 1000)).length, 1000);
    assert.is((await rejection(c.decompress(data, 999))).code, StatusCode.RESOURCE_EXHAUSTED);
    assert.is((await rejection(c.decompress(await c.compress(new Uint8Array(1)), 0))).code, StatusCode.RESOURCE_EXHAUSTED);
    assert.is((await c.decompress(data, -1)).length, 1000);
    assert.is((await c.decompress(data, Infinity)).length, 1000);
  });

  test(`${c.name}: corrupt data is INTERNAL`, async () => {
    const err = await rejection(c.decompress(Buffer.from("definitely not compressed"), 1000));
    assert.is(err.code, StatusCode.INTERNAL);
    assert.ok(err.details.includes(c.name), err.details);
    const truncated = (await c.compress(sample)).subarray(0, 20);
    assert.is((await rejection(c.decompress(truncated, 1_000_000))).code, StatusCode.INTERNAL);
  });
}

test("gzip is RFC 1952 and deflate is the zlib format, interoperable with node:zlib", async () => {
  assert.ok(zlib.gunzipSync(await gzip.compress(sample)).equals(sample));
  assert.ok(zlib.inflateSync(await deflate.compress(sample)).equals(sample));
  assert.ok(Buffer.from(await deflate.decompress(zlib.deflateSync(sample), 1e6)).equals(sample));
  // Raw deflate (no zlib header) is not what gRPC calls "deflate".
  assert.is((await rejection(deflate.decompress(zlib.deflateRawSync(sample), 1e6))).code, StatusCode.INTERNAL);
});

test("identity passes data through, still bounded", async () => {
  assert.is(await identity.compress(sample), sample);
  assert.is(await identity.decompress(sample, sample.length), sample);
  assert.is((await rejection(identity.decompress(sample, sample.length - 1))).code, StatusCode.RESOURCE_EXHAUSTED);
  assert.is(await identity.decompress(sample, -1), sample);
});

test("getCompressor and the advertised encodings", () => {
  assert.is(getCompressor("gzip"), gzip);
  assert.is(getCompressor("deflate"), deflate);
  assert.is(getCompressor("identity"), identity);
  assert.is(getCompressor("GZip"), gzip);
  assert.is(getCompressor("snappy"), undefined);
  assert.is(getCompressor(""), undefined);
  assert.equal([...SUPPORTED_ENCODINGS], ["identity", "deflate", "gzip"]);
  assert.is(ACCEPT_ENCODING_HEADER, "identity,deflate,gzip");
  assert.equal(parseEncodingList(ACCEPT_ENCODING_HEADER), [...SUPPORTED_ENCODINGS]);
  for (const name of SUPPORTED_ENCODINGS) assert.is((getCompressor(name) as Compressor).name, name);
});

test("parseEncodingList", () => {
  assert.equal(parseEncodingList(undefined), []);
  assert.equal(parseEncodingList(""), []);
  assert.equal(parseEncodingList(" GZIP , deflate,,identity , "), ["gzip", "deflate", "identity"]);
  assert.equal(parseEncodingList("snappy"), ["snappy"]);
});

test.run();
