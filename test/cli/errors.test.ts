// What the CLI does when something is wrong: a bad command line or unreadable JSON is
// one line and exit 2 (health: 1, as grpc_health_probe), never a stack trace; a failed
// call exits with its status code + 64 and says the status on stderr.
import { createServer as createNetServer, type Socket } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, startServer } from "../helpers.js";
import { startFixture, type Fixture } from "./fixture.js";
import { runCli, startCli, type CliResult } from "./run-cli.js";

const test = suite("cli: errors and exit codes");
let f: Fixture;

test.before(async () => {
  f = await startFixture();
});
test.after(async () => {
  await f.stop();
  await assertNoLeaks();
});

/** Exit code, and exactly one line on stderr without a stack trace. */
function oneLine(r: CliResult, code: number, pattern: string | RegExp): void {
  assert.is(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.is(r.stderr.split("\n").length, 2, `one line on stderr: ${JSON.stringify(r.stderr)}`);
  assert.not.match(r.stderr, /\n\s+at /);
  assert.match(r.stderr, pattern);
  assert.is(r.stdout, "");
}

test("bad command lines: exit 2 with one clear line", async () => {
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "--bogus"]), 2, "Unknown option '--bogus'");
  oneLine(await runCli(["frobnicate", f.target]), 2, 'unknown command "frobnicate"');
  oneLine(await runCli([]), 2, "no command");
  oneLine(await runCli(["call", f.target]), 2, "no method");
  oneLine(await runCli(["list"]), 2, "no target");
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--format", "xml"]), 2, '--format is json or text, not "xml"');
  oneLine(await runCli(["list", f.target, "--cert", "x.pem"]), 2, "--cert and --key go together");
  oneLine(await runCli(["list", f.target, "--plaintext", "--insecure"]), 2, "--plaintext cannot go with --insecure");
  oneLine(await runCli(["list", f.target, "--plaintext", "--max-time", "soon"]), 2, '--max-time takes a positive number of seconds, not "soon"');
  oneLine(await runCli(["list", f.target, "--plaintext", "-H", "no colon"]), 2, 'expected "key: value"');
  oneLine(await runCli(["list", f.target, "--plaintext", "-H", "x-b-bin: not base64!"]), 2, "base64");
  oneLine(await runCli(["list", f.target, "--cacert", "/nonexistent/ca.pem"]), 2, "--cacert /nonexistent/ca.pem: no such file");
  oneLine(await runCli(["list", "localhost:", "--plaintext"]), 2, "Invalid target localhost:");
  // health keeps grpc_health_probe's code for bad arguments.
  oneLine(await runCli(["health", f.target, "--bogus"]), 1, "Unknown option '--bogus'");
});

test("--help and --version", async () => {
  const help = await runCli(["--help"]);
  assert.is(help.code, 0);
  assert.match(help.stdout, "Usage: async-grpc <command>");
  const version = await runCli(["--version"]);
  assert.match(version.stdout, /^async-grpc \d+\.\d+\.\d+/);
});

test("malformed JSON: exit 2 with one line naming the request, for -d and mid-stream on stdin", async () => {
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "-d", '{"message":']), 2, "request 1 is not valid JSON");
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "-d", "[1]"]), 2, 'expected "{"');
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "-d", '{"messag":"x"}']), 2, /request 1 is not a valid testing.EchoRequest in JSON: .*key "messag" is unknown/);
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "-d", '{"count":"many"}']), 2, "request 1 is not a valid testing.EchoRequest");
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "-d", '{"message":"a"}{"message":"b"}']), 2, "Unary takes one request");
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "--format", "text", "-d", "message: 3 3"]), 2, "request 1 is not a valid testing.EchoRequest in text format");
  const midStream = await runCli(["call", f.target, "testing.Echo/ClientStream", "--plaintext", "-d", "@"], '{"message":"a"}\n{"message":"b"}\n{"message":');
  oneLine(midStream, 2, "request 3 is not valid JSON");
  const bidi = await runCli(["call", f.target, "testing.Echo/Bidi", "--plaintext", "-d", "@"], '{"message":"a"} {"messag":"b"}');
  assert.is(bidi.code, 2);
  assert.match(bidi.stderr, "request 2 is not a valid testing.EchoRequest");
  assert.not.match(bidi.stderr, /\n\s+at /);
});

test("an unknown method or service: NOT_FOUND, exit 5 + 64", async () => {
  oneLine(await runCli(["call", f.target, "testing.Echo/Nope", "--plaintext"]), 69, "NOT_FOUND: Service testing.Echo has no method Nope");
  oneLine(await runCli(["call", f.target, "testing.Nope/Unary", "--plaintext"]), 69, "NOT_FOUND: Service not found: testing.Nope");
  oneLine(await runCli(["describe", f.target, "testing.Nope", "--plaintext"]), 69, "NOT_FOUND: Symbol not found: testing.Nope");
  oneLine(await runCli(["list", f.target, "testing.reflect.Item", "--plaintext"]), 69, "NOT_FOUND: Not a service: testing.reflect.Item");
  oneLine(await runCli(["call", f.target, "Unary", "--plaintext"]), 67, "INVALID_ARGUMENT");
});

test("a failed call: its status name and message on stderr, exit code + 64", async () => {
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "-d", '{"message":"fail"}']), 9 + 64, "FAILED_PRECONDITION: asked to fail");
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "--max-time", "0.3", "-d", '{"delayMs":5000}']), 4 + 64, "DEADLINE_EXCEEDED");
  // A response larger than --max-msg-sz.
  oneLine(await runCli(["call", f.target, "testing.Echo/Unary", "--plaintext", "--max-msg-sz", "100", "-d", `{"payload":"${Buffer.alloc(1000).toString("base64")}"}`]), 8 + 64, "RESOURCE_EXHAUSTED");
});

test("a server without reflection: UNIMPLEMENTED with a hint, exit 12 + 64", async () => {
  const bare = await startServer((server) => server.addService(Echo, { unary: (r) => ({ message: r.message }) }));
  try {
    oneLine(await runCli(["list", bare.target, "--plaintext"]), 76, "UNIMPLEMENTED: The server does not support the reflection API");
  } finally {
    await bare.server.stop(null);
  }
});

test("a server that is down: UNAVAILABLE, exit 14 + 64 (health: 2)", async () => {
  const closed = await startServer(() => {});
  const target = closed.target;
  await closed.server.stop(null);
  oneLine(await runCli(["call", target, "testing.Echo/Unary", "--plaintext"]), 78, /UNAVAILABLE: .*ECONNREFUSED/);
  oneLine(await runCli(["list", target, "--plaintext"]), 78, /UNAVAILABLE: .*ECONNREFUSED/);
  oneLine(await runCli(["health", target, "--plaintext"]), 2, /error: no connection to .*ECONNREFUSED/);
});

test("a server that accepts TCP but never answers: UNAVAILABLE once --connect-timeout passes", async () => {
  const sockets = new Set<Socket>();
  const silent = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const port = (silent.address() as { port: number }).port;
  try {
    oneLine(await runCli(["list", `127.0.0.1:${port}`, "--plaintext", "--connect-timeout", "0.5"]), 78, "UNAVAILABLE: No connection to 127.0.0.1:" + port + " within 0.5 s (--connect-timeout)");
    oneLine(await runCli(["call", `127.0.0.1:${port}`, "testing.Echo/Unary", "--plaintext", "--connect-timeout", "0.5"]), 78, "within 0.5 s");
    // --max-time shorter than the connect timeout: DEADLINE_EXCEEDED.
    oneLine(await runCli(["list", `127.0.0.1:${port}`, "--plaintext", "--max-time", "0.3"]), 68, "DEADLINE_EXCEEDED: No connection");
    oneLine(await runCli(["health", `127.0.0.1:${port}`, "--plaintext", "--connect-timeout", "0.5"]), 2, "within 0.5 s");
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test("mid-stream: the deadline passes, or the server stops with the call in flight; the lines so far, then the status", async () => {
  const late = await runCli(["call", f.target, "testing.Echo/ServerStream", "--plaintext", "--max-time", "1", "-d", '{"count":1000,"delayMs":100}']);
  assert.is(late.code, 4 + 64, late.stderr);
  // However many arrived in time (the machine may be slow), each is a whole JSON line.
  for (const line of late.stdout.split("\n").filter((l) => l !== "")) JSON.parse(line);
  assert.match(late.stderr, /^DEADLINE_EXCEEDED: /);
  const own = await startFixture();
  const running = startCli(["call", own.target, "testing.Echo/ServerStream", "--plaintext", "-d", '{"count":1000,"delayMs":20}']);
  running.child.stdin.end();
  await running.lines(2);
  await own.server.stop(null);
  const stopped = await running.done;
  assert.is(stopped.code, 14 + 64, stopped.stderr);
  assert.match(stopped.stderr, /^UNAVAILABLE: /);
});

test("a reader that goes away (| head): the command ends quietly", async () => {
  const running = startCli(["call", f.target, "testing.Echo/ServerStream", "--plaintext", "-d", '{"count":100000,"delayMs":2}']);
  running.child.stdin.end();
  await running.lines(1);
  running.child.stdout.destroy();
  const done = await running.done;
  assert.is(done.code, 0);
  assert.is(done.stderr, "");
});

test.run();
