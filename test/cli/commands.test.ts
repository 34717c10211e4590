// The CLI as a child process against our own server with reflection and health:
// list, describe, call (every call kind, -d and -d @, -v, -H, --emit-defaults,
// --format text, --compression) and health (Check and --watch).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ServingStatus } from "../../src/health/index.js";
import { assertNoLeaks } from "../helpers.js";
import { startFixture, type Fixture } from "./fixture.js";
import { BIN, runCli, startCli } from "./run-cli.js";

const test = suite("cli: commands against our server");
let f: Fixture;
const cli = (...args: string[]) => runCli([...args, "--plaintext"]);
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

test.before(async () => {
  f = await startFixture();
});
test.after(async () => {
  await f.stop();
  await assertNoLeaks();
});

test("list: the services by reflection, then one service's methods", async () => {
  const all = await cli("list", f.target);
  assert.is(all.code, 0, all.stderr);
  assert.equal(lines(all.stdout), [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "testing.Echo",
    "testing.reflect.Catalog",
  ]);
  const echo = await cli("list", f.target, "testing.Echo");
  assert.is(echo.code, 0, echo.stderr);
  assert.equal(lines(echo.stdout), ["testing.Echo.Unary", "testing.Echo.ServerStream", "testing.Echo.ClientStream", "testing.Echo.Bidi"]);
});

test("describe: a service, a method, messages with oneofs, nested and imported types, an enum, a field", async () => {
  const service = await cli("describe", f.target, "testing.Echo");
  assert.is(service.code, 0, service.stderr);
  assert.is(
    service.stdout,
    [
      "testing.Echo is a service:",
      "service Echo {",
      "  rpc Unary(.testing.EchoRequest) returns (.testing.EchoResponse);",
      "  rpc ServerStream(.testing.EchoRequest) returns (stream .testing.EchoResponse);",
      "  rpc ClientStream(stream .testing.EchoRequest) returns (.testing.EchoResponse);",
      "  rpc Bidi(stream .testing.EchoRequest) returns (stream .testing.EchoResponse);",
      "}",
      "",
    ].join("\n"),
  );
  const method = await cli("describe", f.target, "testing.Echo/Bidi");
  assert.is(method.stdout, "testing.Echo.Bidi is a method:\nrpc Bidi(stream .testing.EchoRequest) returns (stream .testing.EchoResponse);\n");
  const request = await cli("describe", f.target, "testing.reflect.GetRequest");
  assert.is(
    request.stdout,
    "testing.reflect.GetRequest is a message:\nmessage GetRequest {\n  string id = 1;\n  oneof selector {\n    string name = 2;\n    int32 number = 3;\n  }\n}\n",
  );
  const item = await cli("describe", f.target, ".testing.reflect.Item");
  assert.is(item.code, 0, item.stderr);
  assert.match(item.stdout, "  .testing.reflect.Base.Inner inner = 3;\n  .google.protobuf.Timestamp at = 4;\n");
  assert.match(item.stdout, "  enum Kind {\n    KIND_UNSPECIFIED = 0;\n    KIND_A = 1;\n  }\n}");
  const color = await cli("describe", f.target, "testing.reflect.Color");
  assert.is(color.stdout, "testing.reflect.Color is an enum:\nenum Color {\n  COLOR_RED = 0;\n  COLOR_GREEN = 1;\n}\n");
  const field = await cli("describe", f.target, "testing.reflect.Item.kind");
  assert.is(field.stdout, "testing.reflect.Item.kind is a field:\n.testing.reflect.Item.Kind kind = 5;\n");
  // No symbol: every service.
  const every = await cli("describe", f.target);
  assert.is(every.code, 0, every.stderr);
  for (const name of ["grpc.health.v1.Health", "testing.Echo", "testing.reflect.Catalog"]) assert.match(every.stdout, `${name} is a service:`);
});

test("call unary: JSON in and out, -H metadata (a -bin key in base64) back as trailers, headers and trailers with -v", async () => {
  const r = await cli("call", f.target, "testing.Echo/Unary", "-d", '{"message":"hi","count":3,"payload":"AAEC"}', "-v", "-H", "x-a: b", "-H", `x-c-bin: ${Buffer.from("hello").toString("base64")}`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '{"message":"hi","payload":"AAEC","index":3}\n');
  assert.match(r.stderr, "Response headers:\n  x-header: h\n");
  assert.match(r.stderr, "Response trailers:\n  x-a: b\n  x-c-bin: aGVsbG8=\n");
  // Without -v, stderr stays empty.
  const quiet = await cli("call", f.target, "testing.Echo.Unary", "-d", '{"message":"hi"}');
  assert.is(quiet.stdout, '{"message":"hi"}\n');
  assert.is(quiet.stderr, "");
});

test("call: no -d sends an empty request; --emit-defaults prints every field; --format text both ways; --compression gzip", async () => {
  const empty = await cli("call", f.target, "testing.Echo/Unary");
  assert.is(empty.stdout, "{}\n");
  const defaults = await cli("call", f.target, "testing.Echo/Unary", "--emit-defaults");
  assert.equal(JSON.parse(defaults.stdout), { message: "", payload: "", index: 0 });
  const text = await cli("call", f.target, "testing.Echo/Unary", "--format", "text", "-d", 'message: "hi" count: 2');
  assert.is(text.code, 0, text.stderr);
  assert.is(text.stdout, 'message: "hi"\nindex: 2\n\n');
  const gzip = await cli("call", f.target, "testing.Echo/Unary", "--compression", "gzip", "-d", `{"payload":"${Buffer.alloc(4096, 7).toString("base64")}"}`);
  assert.is(gzip.code, 0, gzip.stderr);
  assert.is(JSON.parse(gzip.stdout).payload, Buffer.alloc(4096, 7).toString("base64"));
});

test("call server streaming: one JSON line per response", async () => {
  const r = await cli("call", f.target, "testing.Echo/ServerStream", "-d", '{"message":"s","count":3}');
  assert.is(r.code, 0, r.stderr);
  assert.equal(lines(r.stdout).map((l) => JSON.parse(l)), [{ message: "s" }, { message: "s", index: 1 }, { message: "s", index: 2 }]);
  // A status after the messages: the messages, then the status and its exit code.
  const failing = await cli("call", f.target, "testing.Echo/ServerStream", "-d", '{"message":"fail-after","count":2}');
  assert.is(lines(failing.stdout).length, 2);
  assert.is(failing.stderr, "DATA_LOSS: after the messages\n");
  assert.is(failing.code, 15 + 64);
});

test("call client streaming: several JSON messages one after another on stdin (-d @), and in -d", async () => {
  const r = await runCli(["call", f.target, "testing.Echo/ClientStream", "--plaintext", "-d", "@"], '{"message":"a"}{"message":"b"}\n  {"message":"{c}"}\n');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '{"message":"a,b,{c}","index":3}\n');
  const inline = await cli("call", f.target, "testing.Echo/ClientStream", "-d", '{"message":"x"} {"message":"y"}');
  assert.is(inline.stdout, '{"message":"x,y","index":2}\n');
  const text = await runCli(["call", f.target, "testing.Echo/ClientStream", "--plaintext", "--format", "text", "-d", "@"], 'message: "t1"\x1emessage: "t2"\x1e');
  assert.is(text.stdout, 'message: "t1,t2"\nindex: 2\n\n');
  const none = await runCli(["call", f.target, "testing.Echo/ClientStream", "--plaintext", "-d", "@"], "");
  assert.is(none.stdout, "{}\n");
});

test("call bidi streaming: each request is sent as it is read and each response printed as it arrives", async () => {
  const running = startCli(["call", f.target, "testing.Echo/Bidi", "--plaintext", "-d", "@"]);
  // The second request is written only after the first response was printed: both
  // directions stream while stdin stays open.
  running.child.stdin.write('{"message":"one"}');
  assert.equal(await running.lines(1), ['{"message":"re:one"}']);
  running.child.stdin.write('{"message":"tw');
  running.child.stdin.write('o"}\n');
  assert.equal((await running.lines(2))[1], '{"message":"re:two","index":1}');
  running.child.stdin.end();
  const done = await running.done;
  assert.is(done.code, 0, done.stderr);
  assert.is(done.stderr, "");
});

test("bidi: when the server ends the call first, the command ends without waiting for stdin", async () => {
  const running = startCli(["call", f.target, "testing.Echo/Bidi", "--plaintext", "-d", "@"]);
  running.child.stdin.write('{"message":"one"}');
  await running.lines(1);
  running.child.stdin.write('{"message":"stop"}');
  // stdin stays open: the command must not wait for its end.
  const done = await running.done;
  assert.is(done.code, 0, done.stderr);
  assert.is(done.stdout, '{"message":"re:one"}\n');
  running.child.stdin.destroy();
});

test("health: SERVING exits 0, NOT_SERVING 4, an unknown service 3 (grpc_health_probe's codes)", async () => {
  const server = await cli("health", f.target);
  assert.is(server.code, 0, server.stderr);
  assert.is(server.stdout, "status: SERVING\n");
  assert.is((await cli("health", f.target, "testing.Echo")).code, 0);
  const down = await cli("health", f.target, "testing.reflect.Catalog");
  assert.is(down.code, 4);
  assert.is(down.stdout, "status: NOT_SERVING\n");
  assert.match(down.stderr, 'service unhealthy (responded with "NOT_SERVING")');
  const unknown = await cli("health", f.target, "nope");
  assert.is(unknown.code, 3);
  assert.match(unknown.stderr, "NOT_FOUND");
});

test("health --watch: prints each change until --max-time; exits with the last status's code", async () => {
  f.health.set("watched", ServingStatus.SERVING);
  const running = startCli(["health", f.target, "watched", "--plaintext", "--watch", "--max-time", "20"]);
  running.child.stdin.end();
  assert.equal(await running.lines(1), ["status: SERVING"]);
  f.health.set("watched", ServingStatus.NOT_SERVING);
  assert.equal(await running.lines(2), ["status: SERVING", "status: NOT_SERVING"]);
  f.health.set("watched", ServingStatus.SERVING);
  assert.equal((await running.lines(3))[2], "status: SERVING");
  // The watch goes on until the process is told to stop: the server ends it here.
  f.health.clear("watched");
  assert.equal((await running.lines(4))[3], "status: SERVICE_UNKNOWN");
  running.child.kill("SIGTERM");
  await running.done;
  // With --max-time, the watch ends at the deadline and the last status decides.
  f.health.set("watched", ServingStatus.NOT_SERVING);
  const timed = startCli(["health", f.target, "watched", "--plaintext", "--watch", "--max-time", "4"]);
  timed.child.stdin.end();
  assert.equal(await timed.lines(1), ["status: NOT_SERVING"]);
  f.health.set("watched", ServingStatus.SERVING);
  const ended = await timed.done;
  assert.is(ended.stdout, "status: NOT_SERVING\nstatus: SERVING\n");
  assert.is(ended.code, 0, ended.stderr);
});

test("a long stream draws a progress line on stderr when it is a terminal, and nothing when piped", async () => {
  const args = ["call", f.target, "testing.Echo/ServerStream", "--plaintext", "-d", '{"count":30,"delayMs":60}'];
  const piped = await runCli(args);
  assert.is(lines(piped.stdout).length, 30);
  assert.is(piped.stderr, "");
  // util-linux's script(1) runs the command on a pseudo-terminal (stdout and stderr both).
  if (!existsSync("/usr/bin/script")) return;
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  const tty = await new Promise<string>((resolve, reject) =>
    execFile("/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"], { timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  assert.match(tty, /\r\x1b\[K1 sent, \d+ received \(\d+ B\) in \d+\.\d s/);
  // Each response line starts on a cleared line, and all 30 arrive.
  assert.is(tty.match(/\{"index":\d+\}|\{\}/g)?.length, 30);
});

test.run();
