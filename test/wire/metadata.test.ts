import { test } from "uvu";
import * as assert from "uvu/assert";
import { isReservedHeader, Metadata, type MetadataValue } from "../../src/wire/index.js";

const bytes = (...b: number[]) => new Uint8Array(b);

function throwsTypeError(fn: () => unknown, mentions: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, TypeError);
  assert.ok((caught as Error).message.includes(mentions), (caught as Error).message);
}

test("keeps pairs in insertion order, keys lower-cased", () => {
  const md = new Metadata().add("B", "1").add("a", "2").add("b", "3");
  assert.equal([...md], [["b", "1"], ["a", "2"], ["b", "3"]]);
  assert.equal([...md.entries()], [["b", "1"], ["a", "2"], ["b", "3"]]);
  assert.equal(md.keys(), ["b", "a"]);
  assert.is(md.size, 3);
});

test("lookups are case-insensitive and multi-valued", () => {
  const md = new Metadata().add("X-Trace", "one").add("x-trace", "two");
  assert.is(md.get("X-TRACE"), "one");
  assert.equal(md.getAll("x-Trace"), ["one", "two"]);
  assert.ok(md.has("X-trace"));
  assert.not.ok(md.has("other"));
  assert.is(md.get("other"), undefined);
  assert.equal(md.getAll("other"), []);
});

test("set replaces every value in place of the first", () => {
  const md = new Metadata().add("a", "1").add("b", "2").add("a", "3").add("c", "4");
  md.set("A", "9");
  assert.equal([...md], [["a", "9"], ["b", "2"], ["c", "4"]]);
  md.set("d", "5");
  assert.equal([...md].at(-1), ["d", "5"]);
});

test("delete removes every value", () => {
  const md = new Metadata().add("a", "1").add("b", "2").add("a", "3");
  assert.ok(md.delete("A"));
  assert.not.ok(md.delete("a"));
  assert.equal([...md], [["b", "2"]]);
  assert.is(md.size, 1);
});

test("constructor takes pairs, a Metadata, or a record", () => {
  const fromPairs = new Metadata([["k", "v"], ["k", "w"], ["id-bin", bytes(1, 2)]]);
  assert.equal(fromPairs.getAll("k"), ["v", "w"]);
  assert.equal(new Metadata(fromPairs).getAll("k"), ["v", "w"]);
  const fromRecord = new Metadata({ K: "v", multi: ["1", "2"], "id-bin": bytes(3) });
  assert.equal([...fromRecord], [["k", "v"], ["multi", "1"], ["multi", "2"], ["id-bin", bytes(3)]]);
  assert.equal(new Metadata(new Map([["m", "x"]])).get("m"), "x");
});

test("clone is independent, merge appends", () => {
  const a = new Metadata().add("a", "1");
  const b = a.clone().add("b", "2");
  assert.is(a.size, 1);
  assert.is(b.size, 2);
  a.merge(b);
  assert.equal([...a], [["a", "1"], ["a", "1"], ["b", "2"]]);
});

test("keys are validated", () => {
  throwsTypeError(() => new Metadata().add("", "v"), '""');
  throwsTypeError(() => new Metadata().add("bad key", "v"), "bad key");
  throwsTypeError(() => new Metadata().add("k\u00e9y", "v"), "k\u00e9y");
  throwsTypeError(() => new Metadata().add(":path", "v"), ":path");
  throwsTypeError(() => new Metadata({ "a/b": "v" }), "a/b");
  // The whole allowed alphabet passes, upper case folded.
  assert.ok(new Metadata().add("AZaz09_.-x", "v").has("azaz09_.-x"));
});

test("values are validated against the key kind", () => {
  throwsTypeError(() => new Metadata().add("id-bin", "not bytes"), "id-bin");
  throwsTypeError(() => new Metadata().add("text", bytes(1)), "text");
  throwsTypeError(() => new Metadata().add("text", "new\nline"), "text");
  throwsTypeError(() => new Metadata().add("text", "caf\u00e9"), "text");
  throwsTypeError(() => new Metadata().set("text", 5 as unknown as string), "text");
  throwsTypeError(() => new Metadata({ "x-bin": "nope" }), "x-bin");
  // Buffer is a Uint8Array and must be accepted; printable ASCII including space passes.
  assert.ok(new Metadata().add("b-bin", Buffer.from("hi")).get("b-bin") instanceof Uint8Array);
  assert.is(new Metadata().add("t", " ~ !").get("t"), " ~ !");
});

test("toJSON shows bytes as base64", () => {
  const md = new Metadata().add("a", "1").add("a", "2").add("x-bin", bytes(0xff, 0xfe, 0xfd, 0xfc));
  assert.equal(JSON.parse(JSON.stringify(md)), { a: ["1", "2"], "x-bin": ["//79/A=="] });
});

test("toHttp2Headers: arrays for repeats, unpadded base64, reserved keys skipped", () => {
  const md = new Metadata()
    .add("authorization", "Bearer t")
    .add("multi", "1")
    .add("multi", "2")
    .add("multi", "3")
    .add("one-bin", bytes(0xfb, 0xff))
    .add("grpc-trace-bin", bytes(1, 2, 3))
    .add("grpc-status-details-bin", bytes(1))
    .add("grpc-tags-bin", bytes(1, 2))
    .add("grpc-timeout", "1S")
    .add("grpc-status", "0")
    .add("grpc-message", "x")
    .add("grpc-encoding", "gzip")
    .add("content-type", "text/plain")
    .add("te", "gzip")
    .add("user-agent", "evil")
    .add("host", "h")
    .add("connection", "close")
    .add("keep-alive", "1")
    .add("proxy-connection", "x")
    .add("transfer-encoding", "chunked")
    .add("upgrade", "h2c");
  const headers: Record<string, string | string[]> = { ":path": "/s/m", "content-type": "application/grpc" };
  md.toHttp2Headers(headers);
  assert.equal(headers, {
    ":path": "/s/m",
    "content-type": "application/grpc",
    authorization: "Bearer t",
    multi: ["1", "2", "3"],
    "one-bin": "+/8",
    "grpc-trace-bin": "AQID",
    "grpc-status-details-bin": "AQ",
    "grpc-tags-bin": "AQI",
  });
});

test("toHttp2Headers appends to headers already present", () => {
  const headers: Record<string, string | string[]> = { authorization: "a" };
  new Metadata().add("authorization", "b").add("constructor", "c").toHttp2Headers(headers);
  assert.equal(headers.authorization, ["a", "b"]);
  assert.is(headers.constructor as unknown, "c");
});

test("toHttp2Headers cannot be used to replace the prototype", () => {
  const headers: Record<string, string | string[]> = {};
  new Metadata().add("__proto__", "x").add("__proto__", "y").toHttp2Headers(headers);
  assert.is(Object.getPrototypeOf(headers), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value, ["x", "y"]);
});

test("isReservedHeader", () => {
  for (const k of [":path", ":authority", "content-type", "te", "user-agent", "host", "connection", "keep-alive",
    "proxy-connection", "transfer-encoding", "upgrade", "grpc-status", "grpc-message", "grpc-timeout",
    "grpc-encoding", "grpc-accept-encoding", "grpc-future-thing"]) {
    assert.ok(isReservedHeader(k), k);
  }
  for (const k of ["authorization", "grpc-trace-bin", "grpc-tags-bin", "grpc-status-details-bin", "x-grpc-status", "grpcx"]) {
    assert.not.ok(isReservedHeader(k), k);
  }
});

test("fromHttp2Headers keeps application headers and user-agent only", () => {
  const md = Metadata.fromHttp2Headers({
    ":status": 200 as unknown as string,
    ":path": "/a/b",
    "content-type": "application/grpc",
    te: "trailers",
    host: "h",
    connection: "c",
    "keep-alive": "k",
    "proxy-connection": "p",
    "transfer-encoding": "t",
    upgrade: "u",
    "grpc-status": "0",
    "grpc-message": "m",
    "grpc-encoding": "gzip",
    "grpc-accept-encoding": "gzip",
    "grpc-timeout": "1S",
    "user-agent": "grpc-python/1.0",
    "x-custom": "v",
    "set-cookie": ["a=1", "b=2"],
    "grpc-trace-bin": "AQID",
    absent: undefined,
  });
  assert.equal([...md], [
    ["user-agent", "grpc-python/1.0"],
    ["x-custom", "v"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
    ["grpc-trace-bin", Buffer.from([1, 2, 3])],
  ]);
});

test("fromHttp2Headers decodes -bin values padded or unpadded, split on commas", () => {
  const md = Metadata.fromHttp2Headers({
    "a-bin": "+/8=",
    "b-bin": "+/8",
    "c-bin": "AQID, BAU=,Bgc ",
    "d-bin": "",
  });
  const plain = (v: MetadataValue | undefined) => (v instanceof Uint8Array ? [...v] : v);
  assert.equal(plain(md.get("a-bin")), [0xfb, 0xff]);
  assert.equal(plain(md.get("b-bin")), [0xfb, 0xff]);
  assert.equal(md.getAll("c-bin").map(plain), [[1, 2, 3], [4, 5], [6, 7]]);
  assert.equal(plain(md.get("d-bin")), []);
  assert.ok(Buffer.isBuffer(md.get("a-bin")));
});

test("fromHttp2Headers skips invalid values instead of throwing", () => {
  const md = Metadata.fromHttp2Headers({
    "bad-bin": "not base64!",
    "short-bin": "A",
    "pad-bin": "AQ===",
    "mixed-bin": "AQID,@@@,BAU",
    latin1: "caf\u00e9",
    ctl: "a\u0001b",
    "Bad Name": "x",
    "ok": "fine",
  });
  assert.equal(md.keys(), ["mixed-bin", "ok"]);
  assert.equal(md.getAll("mixed-bin").map((v) => [...(v as Uint8Array)]), [[1, 2, 3], [4, 5]]);
});

test("fromHttp2Headers lower-cases names given in upper case", () => {
  const md = Metadata.fromHttp2Headers({ "X-Custom": "v", "Content-Type": "application/grpc", "Grpc-Status": "0" });
  assert.equal([...md], [["x-custom", "v"]]);
});

test("fromRawHeaders keeps duplicates as separate values, with the same filtering", () => {
  const md = Metadata.fromRawHeaders([
    ":status", "200",
    "content-type", "application/grpc",
    "x-dup", "1",
    "grpc-status", "0",
    "X-Dup", "2",
    "user-agent", "ua",
    "id-bin", "AQ",
    "id-bin", "Ag==,Aw",
    "bad", "\u0000",
    "dangling",
  ]);
  assert.equal(md.keys(), ["x-dup", "user-agent", "id-bin"]);
  assert.equal(md.getAll("x-dup"), ["1", "2"]);
  assert.equal(md.getAll("id-bin").map((v) => [...(v as Uint8Array)]), [[1], [2], [3]]);
});

test("a round trip through http2 headers preserves the metadata", () => {
  const md = new Metadata()
    .add("a", "1")
    .add("a", "2")
    .add("bin-bin", bytes(0, 1, 2, 253, 254, 255))
    .add("bin-bin", bytes())
    .add("grpc-status-details-bin", bytes(9, 9));
  const headers: Record<string, string | string[]> = {};
  md.toHttp2Headers(headers);
  const back = Metadata.fromHttp2Headers(headers);
  assert.equal(back.getAll("a"), ["1", "2"]);
  assert.equal(back.getAll("bin-bin").map((v) => [...(v as Uint8Array)]), [[0, 1, 2, 253, 254, 255], []]);
  assert.equal([...(back.get("grpc-status-details-bin") as Uint8Array)], [9, 9]);
});

test.run();
