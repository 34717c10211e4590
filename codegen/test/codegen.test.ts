// protoc-gen-async-grpc: the generated client classes and servicers (the golden output in
// codegen/test/gen/, which test/generated.test.ts keeps in step with the plugin) run real
// calls of every kind; awkward proto names reach the right handler; the js and dts
// targets load and type-check; protoc runs the plugin as buf does.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Script } from "node:vm";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { insecureChannel, StatusCode, type Channel, type ClientInterceptor, type Server } from "../../src/index.js";
import { assertNoLeaks, expectStatus, startServer } from "../../test/helpers.js";
import {
  addChannelServicerToServer,
  addclassServicerToServer,
  addchannelServicerToServer,
  addserverServicerToServer,
  ChannelClient,
  channelClient,
  classClient,
  serverClient,
  type ChannelServicer,
} from "./gen/ts/clash/clash_grpc.js";
import { addCounterServicerToServer, CounterClient } from "./gen/ts/editions_grpc.js";
import { addGreeterServicerToServer, GreeterClient, type GreeterServicer } from "./gen/ts/greet/v1/greeter_grpc.js";
import { addLonelyServicerToServer, LonelyClient } from "./gen/ts/no_package_grpc.js";
import { addNothingServicerToServer, addTickerServicerToServer, NothingClient, TickerClient } from "./gen/ts/streaming_grpc.js";

const run = promisify(execFile);
// This file runs as dist/codegen/test/codegen.test.js; the sources are read from the repository.
const repo = fileURLToPath(new URL("../../../", import.meta.url));
const goldenDir = join(repo, "codegen/test/gen");
const launcher = join(repo, "codegen/bin/protoc-gen-async-grpc.js");

const greeter: GreeterServicer = {
  sayHello(request) {
    return { text: `Hello, ${request.name?.value}!` };
  },
  async *sayHelloTwice(request, context) {
    for (let index = 0; index < request.times && !context.signal.aborted; index++) {
      yield { text: `Hello #${index}, ${request.name?.value}`, index };
    }
  },
  async greetAll(names) {
    const all: string[] = [];
    for await (const name of names) all.push(name.value);
    return { text: `Hello, ${all.join(" and ")}!` };
  },
  async *chat(names) {
    let index = 0;
    for await (const name of names) yield { text: `Hi ${name.value}`, index: index++ };
  },
  oldHello() {
    return {};
  },
};

const test = suite("codegen: protoc-gen-async-grpc");
let server: Server;
let channel: Channel;
const paths: string[] = [];
const recordPath: ClientInterceptor = (details, next) => {
  paths.push(details.method);
  return next(details);
};

test.before(async () => {
  const started = await startServer((s) => {
    addGreeterServicerToServer(greeter, s);
    addLonelyServicerToServer({ ping: (request) => ({ text: `pong: ${request.text}` }) }, s);
    addTickerServicerToServer(
      {
        async *ticks(interval) {
          for (let i = 1; i <= interval.count; i++) yield { value: BigInt(i) };
        },
        async sum(ticks) {
          let value = 0n;
          for await (const tick of ticks) value += tick.value;
          return { value };
        },
      },
      s,
    );
    addCounterServicerToServer({ add: (increment) => ({ value: BigInt(increment.by) }) }, s);
    addNothingServicerToServer({}, s);
    const clash: Partial<ChannelServicer> = {
      constructor$: (request) => ({ value: `constructor$ ${request.value}` }),
      toString$: (request) => ({ value: `toString$ ${request.value}` }),
      async *static(request) {
        yield { value: `static ${request.value}` };
      },
      delete: (request) => ({ value: `delete ${request.value}` }),
      stub: (request) => ({ value: `stub ${request.value}` }),
      lower_case_method: (request) => ({ value: `lower_case_method ${request.value}` }),
    };
    addChannelServicerToServer(clash, s);
    addchannelServicerToServer({ open: (request) => ({ value: `channel ${request.value}` }) }, s);
    addserverServicerToServer({ open: (request) => ({ value: `server ${request.value}` }) }, s);
    addclassServicerToServer({ open: (request) => ({ value: `class ${request.value}` }) }, s);
  });
  server = started.server;
  channel = insecureChannel(started.target, { interceptors: [recordPath] });
});

test.after(async () => {
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

test("unary: the client class takes a plain init object and resolves to the response message", async () => {
  const client = new GreeterClient(channel);
  const call = client.sayHello({ name: { value: "Ada" } }, { timeoutMs: 5000 });
  const reply = await call;
  assert.is(reply.text, "Hello, Ada!");
  assert.is(reply.$typeName, "common.v1.Greeting");
  assert.is(await call.code(), StatusCode.OK);
});

test("server streaming: the call is an async iterable of typed responses", async () => {
  const client = new GreeterClient(channel);
  const texts: string[] = [];
  for await (const greeting of client.sayHelloTwice({ name: { value: "Bo" }, times: 2 })) texts.push(`${greeting.index}:${greeting.text}`);
  assert.equal(texts, ["0:Hello #0, Bo", "1:Hello #1, Bo"]);
});

test("client streaming: an iterable of requests, or write() and doneWriting()", async () => {
  const client = new GreeterClient(channel);
  const reply = await client.greetAll([{ value: "Cy" }, { value: "Di" }]);
  assert.is(reply.text, "Hello, Cy and Di!");
  const call = client.greetAll();
  await call.write({ value: "Ed" });
  await call.doneWriting();
  assert.is((await call).text, "Hello, Ed!");
});

test("bidi streaming: write, read and iterate", async () => {
  const client = new GreeterClient(channel);
  async function* names() {
    yield { value: "Fay" };
    yield { value: "Gus" };
  }
  const texts: string[] = [];
  for await (const greeting of client.chat(names())) texts.push(greeting.text);
  assert.equal(texts, ["Hi Fay", "Hi Gus"]);
});

test("a deprecated RPC still works, and answers a well-known type (google.protobuf.Empty)", async () => {
  const client = new GreeterClient(channel);
  const empty = await client.oldHello({});
  assert.is(empty.$typeName, "google.protobuf.Empty");
});

test("RPCs a servicer leaves out answer UNIMPLEMENTED", async () => {
  const client = new ChannelClient(channel);
  await expectStatus(client.async({ value: "x" }), StatusCode.UNIMPLEMENTED);
});

test("methods named constructor, toString, static, delete, stub reach the handlers of the same names", async () => {
  const client = new ChannelClient(channel);
  assert.is((await client.constructor$({ value: "a" })).value, "constructor$ a");
  assert.is((await client.toString$({ value: "b" })).value, "toString$ b");
  assert.is((await client.delete({ value: "c" })).value, "delete c");
  assert.is((await client.stub({ value: "d" })).value, "stub d");
  assert.is((await client.lower_case_method({ value: "e" })).value, "lower_case_method e");
  const statics: string[] = [];
  for await (const p of client.static({ value: "f" })) statics.push(p.value);
  assert.equal(statics, ["static f"]);
  assert.ok(client instanceof ChannelClient, "constructor$ did not replace the class's constructor");
});

test("services named channel, server and class, and a file without a package, call the right paths", async () => {
  paths.length = 0;
  assert.is((await new channelClient(channel).open({ value: "1" })).value, "channel 1");
  assert.is((await new serverClient(channel).open({ value: "2" })).value, "server 2");
  assert.is((await new classClient(channel).open({ value: "3" })).value, "class 3");
  assert.is((await new LonelyClient(channel).ping({ text: "4" })).text, "pong: 4");
  assert.equal(paths, ["/clash.v1.class.channel/Open", "/clash.v1.class.server/Open", "/clash.v1.class.class/Open", "/Lonely/Ping"]);
});

test("a streaming-only service, a service without methods, and an editions file", async () => {
  assert.ok(new NothingClient(channel) instanceof NothingClient);
  const ticker = new TickerClient(channel);
  const values: bigint[] = [];
  for await (const tick of ticker.ticks({ count: 3 })) values.push(tick.value);
  assert.equal(values, [1n, 2n, 3n]);
  assert.is((await ticker.sum(values.map((value) => ({ value })))).value, 6n);
  assert.is(await ticker.echo([]).code(), StatusCode.UNIMPLEMENTED);
  assert.is((await new CounterClient(channel).add({ by: 7 })).value, 7n);
});

test("the js target: the emitted JavaScript loads and calls like the TypeScript", async () => {
  const url = new URL("../../../codegen/test/gen/js/greet/v1/greeter_grpc.js", import.meta.url);
  const js = (await import(url.href)) as { GreeterClient: typeof GreeterClient; addGreeterServicerToServer: unknown };
  assert.type(js.addGreeterServicerToServer, "function");
  const client = new js.GreeterClient(channel);
  assert.is((await client.sayHello({ name: { value: "Js" } })).text, "Hello, Js!");
  const texts: string[] = [];
  for await (const g of client.chat([{ value: "Kim" }])) texts.push(g.text);
  assert.equal(texts, ["Hi Kim"]);
});

test("js_import_style=legacy_commonjs: CommonJS that parses, requires and exports", () => {
  const dir = join(goldenDir, "cjs");
  const source = readFileSync(join(dir, "greet/v1/greeter_grpc.js"), "utf8");
  new Script(source, { filename: "greeter_grpc.js" }); // throws on a syntax error
  assert.match(source, /^const \{ createClient \} = require\("async-grpc"\);$/m);
  assert.match(source, /^const \{ Greeter, LegacyGreeter \} = require\("\.\/greeter_pb"\);$/m);
  assert.match(source, /^exports\.GreeterClient = GreeterClient;$/m);
  assert.match(source, /^exports\.addLegacyGreeterServicerToServer = addLegacyGreeterServicerToServer;$/m);
  assert.match(source, /^const \{ blockingMethods \} = require\("async-grpc\/compat"\);$/m);
  assert.match(source, /^exports\.GreeterBlockingClient = GreeterBlockingClient;$/m);
  assert.not.match(source, /^(import|export) /m);
});

test("<Service>BlockingClient: one getter per RPC over blockingMethods(), in every target", async () => {
  const ts = readFileSync(join(goldenDir, "ts/greet/v1/greeter_grpc.ts"), "utf8");
  assert.match(ts, /^import \{ blockingMethods \} from "async-grpc\/compat";$/m);
  assert.match(ts, /^export class GreeterBlockingClient \{$/m);
  assert.match(ts, /^  get sayHello\(\): BlockingUnaryUnaryMultiCallable<MessageInitShape<typeof HelloRequestSchema>, Greeting> \{$/m);
  assert.match(ts, /^  get chat\(\): BlockingStreamStreamMultiCallable</m);
  const url = new URL("../../../codegen/test/gen/js/greet/v1/greeter_grpc.js", import.meta.url);
  const js = (await import(url.href)) as { GreeterBlockingClient: new (channel: unknown) => Record<string, unknown> };
  const { BlockingChannel } = await import("../../src/compat/index.js");
  const blocking = new BlockingChannel("127.0.0.1:1");
  try {
    const client = new js.GreeterBlockingClient(blocking);
    for (const name of ["sayHello", "sayHelloTwice", "greetAll", "chat", "oldHello"]) assert.type(client[name], "function", name);
    assert.type((client.sayHello as { withCall?: unknown }).withCall, "function");
    // Awkward names: then$ (never a thenable), close and channel are RPCs like any other.
    const { FooBlockingClient } = await import("./gen/ts/clash/clash_grpc.js");
    const foo = new FooBlockingClient(blocking) as unknown as Record<string, unknown>;
    for (const name of ["then$", "constructor$", "toString$", "close", "channel", "open"]) assert.type(foo[name], "function", name);
    assert.is(foo.then, undefined);
  } finally {
    blocking.close();
  }
});

test("files without services get no _grpc file", () => {
  for (const target of ["ts", "js", "cjs"]) {
    assert.ok(existsSync(join(goldenDir, target, "common/v1", target === "ts" ? "types_pb.ts" : "types_pb.js")));
    assert.equal(
      readdirSync(join(goldenDir, target, "common/v1")).filter((name) => name.includes("_grpc")),
      [],
    );
  }
});

test("the dts target (both import styles) type-checks under strict, libraries included", async () => {
  // Inside the repository, so that "async-grpc" resolves to this package (dist/src/*.d.ts).
  const dir = join(repo, "dist/codegen-dts-check");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const declarations = (target: string) =>
    readdirSync(join(goldenDir, target), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".d.ts"))
      .map((name) => join(goldenDir, target, name));
  const check = async (name: string, compilerOptions: object, files: string[]) => {
    const config = join(dir, `${name}.json`);
    writeFileSync(config, JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, types: ["node"], lib: ["ES2023"], target: "ES2022", ...compilerOptions }, files }));
    try {
      await run(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", config], { cwd: repo });
    } catch (err) {
      const out = err as { stdout?: string; stderr?: string };
      assert.unreachable(`tsc -p ${name}.json failed:\n${out.stdout ?? ""}${out.stderr ?? ""}`);
    }
  };
  await check("esm", { module: "NodeNext", moduleResolution: "NodeNext" }, declarations("js"));
  await check("cjs", { module: "Preserve", moduleResolution: "Bundler" }, declarations("cjs"));
  rmSync(dir, { recursive: true, force: true });
});

test("protoc (protobuf-compiler) runs the plugin and writes the same files as buf", async () => {
  const protoc = ["/usr/bin/protoc", "/usr/local/bin/protoc"].find((p) => existsSync(p));
  if (protoc === undefined) {
    console.log("  (skipped: no protoc on this machine)");
    return;
  }
  const out = mkdtempSync(join(tmpdir(), "protoc-gen-async-grpc-"));
  try {
    // editions.proto is left out: Debian's protoc predates editions.
    const files = ["greet/v1/greeter.proto", "common/v1/types.proto", "streaming.proto", "no_package.proto", "clash/clash.proto"];
    await run(
      protoc,
      [
        `--plugin=protoc-gen-async-grpc=${launcher}`,
        `--async-grpc_out=${out}`,
        "--async-grpc_opt=target=ts,import_extension=js",
        "-I",
        join(repo, "codegen/test/proto"),
        ...files,
      ],
      { cwd: repo },
    );
    for (const file of ["greet/v1/greeter_grpc.ts", "streaming_grpc.ts", "no_package_grpc.ts", "clash/clash_grpc.ts"]) {
      assert.fixture(readFileSync(join(out, file), "utf8"), readFileSync(join(goldenDir, "ts", file), "utf8"), file);
    }
    assert.not.ok(existsSync(join(out, "common/v1/types_grpc.ts")));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the launcher answers --version", async () => {
  const { stdout } = await run(process.execPath, [launcher, "--version"]);
  const { version } = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string };
  assert.is(stdout.trim(), `protoc-gen-async-grpc v${version}`);
});

// Compile-time checks: never called, only type-checked with the rest of the repository.
export function typeChecks(client: GreeterClient): void {
  // @ts-expect-error: a field the request message lacks
  void client.sayHello({ nmae: { value: "x" } });
  // @ts-expect-error: a server-streaming call is not awaitable to one message
  void ((): Promise<{ text: string }> => client.sayHelloTwice({}).then((r) => r));
  // @ts-expect-error: a servicer that misses RPCs is not a GreeterServicer
  const partial: GreeterServicer = { sayHello: () => ({ text: "" }) };
  // @ts-expect-error: a handler must answer the response type
  const wrong: Pick<GreeterServicer, "sayHello"> = { sayHello: () => ({ txt: "" }) };
  void partial;
  void wrong;
}

test.run();
