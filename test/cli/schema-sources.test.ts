// The schema from local files instead of reflection: --proto with --import-path
// (compiled at run time by loadProtos) and --protoset (a FileDescriptorSet). list and
// describe then need no server; call sends to a server that has no reflection.
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Echo, file_testing_echo } from "../gen/testing/echo_pb.js";
import { file_testing_reflect_base } from "../gen/testing/reflect/base_pb.js";
import { file_testing_reflect_catalog } from "../gen/testing/reflect/catalog_pb.js";
import { file_testing_reflect_extras } from "../gen/testing/reflect/extras_pb.js";
import { assertNoLeaks, startServer, type Started } from "../helpers.js";
import { runCli } from "./run-cli.js";

const test = suite("cli: --proto and --protoset");
const PROTO_DIR = fileURLToPath(new URL("../../../test/proto/", import.meta.url));
// Nothing listens there: list and describe from files must not connect.
const NOWHERE = "127.0.0.1:1";
let dir: string;
let protoset: string;
let bare: Started;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "async-grpc-cli-"));
  protoset = join(dir, "all.binpb");
  // Made as `protoc --include_imports -o` would, except that the well-known types are
  // left out (the CLI brings them).
  const files = [file_testing_echo, file_testing_reflect_base, file_testing_reflect_extras, file_testing_reflect_catalog].map((f) => f.proto);
  writeFileSync(protoset, toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files })));
  writeFileSync(join(dir, "garbage.binpb"), Buffer.from([0xff, 0xff, 0xff]));
  bare = await startServer((server) => {
    server.addService(Echo, {
      unary: (r) => ({ message: `bare:${r.message}` }),
      async *bidi(requests) {
        for await (const r of requests) yield { message: r.message.toUpperCase() };
      },
    });
  });
});
test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await bare.server.stop(null);
  await assertNoLeaks();
});

test("--proto with --import-path: list and describe without a server, call a server without reflection", async () => {
  const schema = ["--proto", "testing/echo.proto", "--import-path", PROTO_DIR, "--plaintext"];
  const list = await runCli(["list", NOWHERE, ...schema]);
  assert.is(list.code, 0, list.stderr);
  assert.is(list.stdout, "testing.Echo\n");
  const describe = await runCli(["describe", NOWHERE, "testing.EchoResponse", ...schema]);
  assert.is(describe.stdout, "testing.EchoResponse is a message:\nmessage EchoResponse {\n  string message = 1;\n  bytes payload = 2;\n  int32 index = 3;\n}\n");
  const call = await runCli(["call", bare.target, "testing.Echo/Unary", ...schema, "-d", '{"message":"p"}']);
  assert.is(call.code, 0, call.stderr);
  assert.is(call.stdout, '{"message":"bare:p"}\n');
  const bidi = await runCli(["call", bare.target, "testing.Echo/Bidi", ...schema, "-d", "@"], '{"message":"a"}{"message":"b"}');
  assert.is(bidi.stdout, '{"message":"A"}\n{"message":"B"}\n');
  // A method the files do not define.
  const unknown = await runCli(["call", bare.target, "testing.Echo/Nope", ...schema]);
  assert.is(unknown.code, 69);
});

test("--proto: a missing or broken file is one line, exit 2", async () => {
  const missing = await runCli(["list", NOWHERE, "--proto", "nope.proto", "--import-path", PROTO_DIR]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /^async-grpc: --proto: .*nope\.proto/);
  writeFileSync(join(dir, "broken.proto"), 'syntax = "proto3";\nmessage A { strin x = 1; }\n');
  const broken = await runCli(["list", NOWHERE, "--proto", "broken.proto", "--import-path", dir]);
  assert.is(broken.code, 2);
  assert.match(broken.stderr, /broken\.proto:2:\d+/);
  assert.is(broken.stderr.split("\n").length, 2);
  assert.is((await runCli(["list", NOWHERE, "--import-path", dir])).code, 2);
});

test("--protoset: services of every file, proto2 extensions and nested types, calls", async () => {
  const list = await runCli(["list", NOWHERE, "--protoset", protoset]);
  assert.is(list.code, 0, list.stderr);
  assert.is(list.stdout, "testing.Echo\ntesting.reflect.Catalog\n");
  const holder = await runCli(["describe", NOWHERE, "testing.reflect.Holder", "--protoset", protoset]);
  assert.is(holder.stdout, "testing.reflect.Holder is a message:\nmessage Holder {\n  extend .testing.reflect.Base {\n    optional string note = 101;\n  }\n}\n");
  const weight = await runCli(["describe", NOWHERE, "testing.reflect.weight", "--protoset", protoset]);
  assert.is(weight.stdout, "testing.reflect.weight is an extension:\nextend .testing.reflect.Base {\n  optional int32 weight = 100;\n}\n");
  const call = await runCli(["call", bare.target, "testing.Echo.Unary", "--protoset", protoset, "--plaintext", "-d", '{"message":"s"}']);
  assert.is(call.stdout, '{"message":"bare:s"}\n');
  const garbage = await runCli(["list", NOWHERE, "--protoset", join(dir, "garbage.binpb")]);
  assert.is(garbage.code, 2);
  assert.match(garbage.stderr, "not a FileDescriptorSet");
  assert.is((await runCli(["list", NOWHERE, "--protoset", join(dir, "none.binpb")])).code, 2);
});

test.run();
