// The CLI's parts in process: .proto rendering (round trip: what describe prints
// compiles back to the same descriptor), the message splitter, -H parsing, the
// command-line checks and the progress line.
import { toBinary, type DescMessage } from "@bufbuild/protobuf";
import { DescriptorProtoSchema, EnumDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadProtos } from "../../src/index.js";
import { parseCliArgs, UsageError } from "../../src/cli/args.js";
import { parseHeaders } from "../../src/cli/headers.js";
import { messageSplitter, splitMessages } from "../../src/cli/message-format.js";
import { Progress } from "../../src/cli/progress.js";
import { renderEnum, renderMessage, renderService } from "../../src/cli/proto-render.js";

const test = suite("cli: parts");

const PROTO2 = `syntax = "proto2";
package rt.two;

message Everything {
  required int32 id = 1;
  optional string name = 2 [default = "a \\"quoted\\" name"];
  optional double ratio = 3 [default = 0.5];
  optional Color color = 4 [default = GREEN];
  repeated int32 packed_ints = 5 [packed = true];
  optional string renamed = 6 [json_name = "otherName", deprecated = true];
  map<string, Inner> by_key = 7;
  oneof choice {
    string text = 8;
    Inner inner = 9;
  }
  optional group Grouped = 10 {
    optional int32 g = 11;
  }
  repeated bytes blobs = 12;
  optional bytes magic = 13 [default = "\\001\\xff\\"z"];
  message Inner {
    optional sint64 value = 1;
    enum Level { LOW = 0; HIGH = 1; }
  }
  extensions 100 to 199;
  extensions 1000 to max;
  reserved 20, 25 to 30;
  reserved "old", "older";
}

enum Color {
  option allow_alias = true;
  RED = 0;
  GREEN = 1;
  VERT = 1;
  reserved 5, 7 to 9;
  reserved "BLUE";
}

extend Everything {
  optional int32 weight = 100;
}

service Things {
  rpc Get(Everything) returns (Everything.Inner) { option deprecated = true; }
  rpc Watch(Everything) returns (stream Everything) { option idempotency_level = NO_SIDE_EFFECTS; }
}
`;

const PROTO3 = `syntax = "proto3";
package rt.three;
import "google/protobuf/timestamp.proto";

message Plain {
  optional string maybe = 1;
  repeated fixed32 nums = 2;
  map<int64, bool> flags = 3;
  google.protobuf.Timestamp at = 4;
  oneof pick {
    uint64 a = 5;
    sfixed64 b = 6;
  }
  Nested nested = 7;
  message Nested { float f = 1; }
}
`;

function reload(dir: string, header: string, body: string, name: string) {
  const file = `${name}.proto`;
  writeFileSync(join(dir, file), `${header}\n${body}\n`);
  return loadProtos([file], { includeDirs: [dir] });
}

test("describe's .proto source compiles back to the same descriptors (proto2: groups, maps, defaults, ranges; proto3: optional)", () => {
  const dir = mkdtempSync(join(tmpdir(), "async-grpc-render-"));
  try {
    writeFileSync(join(dir, "two.proto"), PROTO2);
    writeFileSync(join(dir, "three.proto"), PROTO3);
    const two = loadProtos(["two.proto", "three.proto"], { includeDirs: [dir] });
    const check = (message: DescMessage, header: string, name: string) => {
      const text = renderMessage(message);
      const again = reload(dir, header, text, name).messages[message.typeName];
      assert.ok(again, `${message.typeName} in\n${text}`);
      assert.equal(toBinary(DescriptorProtoSchema, again.proto), toBinary(DescriptorProtoSchema, message.proto), text);
    };
    check(two.messages["rt.two.Everything"]!, 'syntax = "proto2";\npackage rt.two;\nenum Color { RED = 0; GREEN = 1; }', "again_everything");
    check(two.messages["rt.three.Plain"]!, 'syntax = "proto3";\npackage rt.three;\nimport "google/protobuf/timestamp.proto";', "again_plain");
    const color = two.enums["rt.two.Color"]!;
    const colorAgain = reload(dir, 'syntax = "proto2";\npackage rt.two;', renderEnum(color), "again_color").enums["rt.two.Color"]!;
    assert.equal(toBinary(EnumDescriptorProtoSchema, colorAgain.proto), toBinary(EnumDescriptorProtoSchema, color.proto));
    const service = renderService(two.services["rt.two.Things"]!);
    assert.is(
      service,
      [
        "service Things {",
        "  rpc Get(.rt.two.Everything) returns (.rt.two.Everything.Inner) {",
        "    option deprecated = true;",
        "  }",
        "  rpc Watch(.rt.two.Everything) returns (stream .rt.two.Everything) {",
        "    option idempotency_level = NO_SIDE_EFFECTS;",
        "  }",
        "}",
      ].join("\n"),
    );
    const text = renderMessage(two.messages["rt.two.Everything"]!);
    for (const line of [
      '  optional string name = 2 [default = "a \\"quoted\\" name"];',
      "  optional .rt.two.Color color = 4 [default = GREEN];",
      '  optional string renamed = 6 [json_name = "otherName", deprecated = true];',
      "  map<string, .rt.two.Everything.Inner> by_key = 7;",
      "  optional group Grouped = 10 {",
      "  extensions 100 to 199, 1000 to max;",
      "  reserved 20, 25 to 30;",
      '  reserved "old", "older";',
    ]) {
      assert.ok(text.includes(line), `${line}\nin\n${text}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the JSON splitter: objects back to back, across chunks, braces and quotes inside strings", async () => {
  const s = messageSplitter("json");
  assert.equal(s.push('{"a":"}{\\"'), []);
  assert.equal(s.push('x"}  {"b":[{}]}\n{'), ['{"a":"}{\\"x"}', '{"b":[{}]}']);
  assert.equal(s.push('"c":1}'), ['{"c":1}']);
  assert.equal(s.end(), []);
  const truncated = messageSplitter("json");
  truncated.push('{"a":');
  assert.throws(() => truncated.end(), (e: unknown) => e instanceof UsageError && /request 1 .*ends inside it/.test(e.message));
  assert.throws(() => messageSplitter("json").push("nope"), /expected "\{"/);
  const all: string[] = [];
  for await (const m of splitMessages(["a: 1\x1eb:", " 2\x1e", "c: 3"], "text")) all.push(m);
  assert.equal(all, ["a: 1", "b: 2", "c: 3"]);
});

test("-H: keys lowercased, -bin values from base64 (standard or URL-safe), bad ones refused", () => {
  assert.equal(parseHeaders(["X-Token: abc def ", "x-b-bin: aGk=", "x-u-bin: _-8"]), [
    ["x-token", "abc def"],
    ["x-b-bin", new Uint8Array(Buffer.from("hi"))],
    ["x-u-bin", new Uint8Array([0xff, 0xef])],
  ]);
  assert.throws(() => parseHeaders(["grpc-timeout: 1S"]), /reserved/);
  assert.throws(() => parseHeaders(["bad key: v"]), /not a valid metadata key/);
  assert.throws(() => parseHeaders(["x: caf\u00e9"]), /printable ASCII/);
});

test("the command line: defaults, repeatable flags, and what is refused", () => {
  const args = parseCliArgs(["call", "h:1", "p.S/M", "-H", "a: 1", "-H", "b: 2", "--max-time", "1.5", "--proto", "a.proto", "--proto", "b.proto", "-d", "@", "-v"]);
  assert.ok(typeof args === "object");
  assert.equal(args.headers, ["a: 1", "b: 2"]);
  assert.is(args.maxTimeMs, 1500);
  assert.is(args.connectTimeoutMs, 10_000);
  assert.equal(args.protos, ["a.proto", "b.proto"]);
  assert.is(args.data, "@");
  assert.is(args.format, "json");
  assert.is(parseCliArgs(["--help"]), "help");
  for (const bad of [
    ["list", "h:1", "--watch"],
    ["list", "h:1", "-d", "{}"],
    ["list", "h:1", "x", "y"],
    ["list", "h:1", "--proto", "a.proto", "--protoset", "b.bin"],
    ["call", "h:1", "p.S/M", "--compression", "zstd"],
    ["call", "h:1", "p.S/M", "--max-msg-sz", "-1"],
    ["list", "h:1", "--connect-timeout", "0"],
  ]) {
    assert.throws(() => parseCliArgs(bad), (e: unknown) => e instanceof UsageError, bad.join(" "));
  }
});

test("the progress line: drawn in place on a terminal once a stream runs long, never on a pipe", async () => {
  const written = { tty: [] as string[], pipe: [] as string[] };
  const tty = new Progress({ isTTY: true, write: (t: string) => written.tty.push(t) }, { firstAfterMs: 0, redrawMs: 0 });
  const pipe = new Progress({ isTTY: false, write: (t: string) => written.pipe.push(t) }, { firstAfterMs: 0, redrawMs: 0 });
  for (const p of [tty, pipe]) {
    p.onRequest();
    p.onResponse(2048);
    p.onResponse(2048);
    p.clear();
  }
  assert.equal(written.pipe, []);
  assert.match(written.tty.at(-2)!, /^\r\x1b\[K1 sent, 2 received \(4\.0 KiB\) in \d+\.\d s$/);
  assert.is(written.tty.at(-1), "\r\x1b[K");
  // With the default pacing, a short call draws nothing at all.
  const quick: string[] = [];
  const short = new Progress({ isTTY: true, write: (t: string) => quick.push(t) });
  short.onResponse(10);
  short.clear();
  assert.equal(quick, []);
});

test.run();
