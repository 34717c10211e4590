// Method names that the runtime looks up on any object (service clash.v1.class.Foo in
// codegen/test/proto/clash/clash.proto): an RPC `Then` must not make a client thenable
// (`await client` would call it and never settle), nor `Constructor`, `ToString`,
// `ToJSON`, `ValueOf` replace the built-ins, nor `Close`, `Channel` clash with the client
// class. Checked on the generated class (ts and js targets), on createClient() with the
// generated descriptor, the same descriptor as a plain DescService and one loaded at run
// time, over real HTTP/2 on 127.0.0.1 port 0.
import type { DescService } from "@bufbuild/protobuf";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, createServer, insecureChannel, services, type Channel, type Client, type ClientInterceptor, type Server } from "../../src/index.js";
import { assertNoLeaks, startServer } from "../../test/helpers.js";
import { addFooServicerToServer, FooClient, type FooServicer } from "./gen/ts/clash/clash_grpc.js";
import { Foo } from "./gen/ts/clash/clash_pb.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));

const foo: FooServicer = {
  open: (request) => ({ value: `open ${request.partial?.value}` }),
  then$: (request) => ({ value: `then$ ${request.value}` }),
  constructor$: (request) => ({ value: `constructor$ ${request.value}` }),
  async *toString$(request) {
    yield { value: `toString$ ${request.value} 1` };
    yield { value: `toString$ ${request.value} 2` };
  },
  toJSON$: (request) => ({ value: `toJSON$ ${request.value}` }),
  valueOf$: (request) => ({ value: `valueOf$ ${request.value}` }),
  async close(requests) {
    const values: string[] = [];
    for await (const request of requests) values.push(request.value);
    return { value: `close ${values.join("+")}` };
  },
  channel: (request) => ({ value: `channel ${request.value}` }),
};

const test = suite("codegen: method names that clash with object protocols");
let server: Server;
let channel: Channel;
const paths: string[] = [];
const recordPath: ClientInterceptor = (details, next) => {
  paths.push(details.method);
  return next(details);
};

test.before(async () => {
  const started = await startServer((s) => addFooServicerToServer(foo, s));
  server = started.server;
  channel = insecureChannel(started.target, { interceptors: [recordPath] });
});

test.after(async () => {
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

/** `await value`, failing after `ms` instead of hanging if `value` is a thenable that never settles. */
async function awaitPromptly<T>(value: T, ms = 1000): Promise<Awaited<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`await did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([(async () => await value)(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test("the generated client: `await client`, and returning it from an async function, give the client itself", async () => {
  const client = new FooClient(channel);
  assert.not.ok("then" in client);
  assert.is(await awaitPromptly(client), client);
  const make = async () => new FooClient(channel);
  const made = await awaitPromptly(make());
  assert.ok(made instanceof FooClient);
  assert.is(await awaitPromptly(Promise.resolve(client)), client);
});

test("the generated client: escaped methods reach the handlers of the same RPCs", async () => {
  const client = new FooClient(channel);
  paths.length = 0;
  assert.is((await client.then$({ value: "a" })).value, "then$ a");
  assert.is((await client.constructor$({ value: "b" })).value, "constructor$ b");
  const streamed: string[] = [];
  for await (const reply of client.toString$({ value: "c" })) streamed.push(reply.value);
  assert.equal(streamed, ["toString$ c 1", "toString$ c 2"]);
  assert.is((await client.toJSON$({ value: "d" })).value, "toJSON$ d");
  assert.is((await client.valueOf$({ value: "e" })).value, "valueOf$ e");
  assert.is((await client.close([{ value: "f" }, { value: "g" }])).value, "close f+g");
  assert.is((await client.channel({ value: "h" })).value, "channel h");
  assert.is((await client.open({ partial: { value: "i" } })).value, "open i");
  assert.equal(paths, ["Then", "Constructor", "ToString", "ToJSON", "ValueOf", "Close", "Channel", "Open"].map((m) => `/clash.v1.class.Foo/${m}`));
});

test("the generated client: the built-in members stay the built-ins", () => {
  const client = new FooClient(channel);
  assert.is(client.constructor, FooClient);
  assert.is(String(client), "[object Object]");
  assert.is(JSON.stringify(client), "{}");
  assert.is(client.valueOf(), client);
  // The class owns no other member an RPC could take: its state is a private name.
  assert.equal(Object.getOwnPropertyNames(client), []);
  assert.equal(
    Object.getOwnPropertyNames(FooClient.prototype).sort(),
    ["channel", "close", "constructor", "constructor$", "open", "then$", "toJSON$", "toString$", "valueOf$"],
  );
});

test("the js target: the same class, not thenable, calls then$", async () => {
  const url = new URL("../../../codegen/test/gen/js/clash/clash_grpc.js", import.meta.url);
  const js = (await import(url.href)) as { FooClient: typeof FooClient };
  const client = new js.FooClient(channel);
  assert.is(await awaitPromptly(client), client);
  assert.is((await client.then$({ value: "js" })).value, "then$ js");
});

test("no generated file (ts, js, d.ts, CommonJS) declares a member named then", () => {
  const dir = join(repo, "codegen/test/gen");
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => /_grpc\.(ts|js|d\.ts)$/.test(name));
  assert.ok(files.length >= 12, `found ${files.length} files`);
  for (const name of files) {
    const source = readFileSync(join(dir, name), "utf8");
    assert.not.match(source, /^\s+(then|"then")\s*\(/m, name);
  }
  assert.match(readFileSync(join(dir, "ts/clash/clash_grpc.ts"), "utf8"), /^ {2}then\$\(request: /m);
});

/** The `value` field of a message whose descriptor has no static type. */
const valueField = (message: object): unknown => (message as { value?: unknown }).value;

const descriptors: [string, () => DescService][] = [
  ["createClient() with the generated descriptor", () => Foo],
  ["createClient() with the descriptor as a plain DescService", () => Foo as DescService],
  [
    "createClient() with the descriptor loaded at run time",
    () => services("clash/clash.proto", { includeDirs: [join(repo, "codegen/test/proto")] }).Foo!,
  ],
];

for (const [name, descriptor] of descriptors) {
  test(`${name}: not thenable, then$ and the others reach their RPCs`, async () => {
    const client: Client<DescService> = createClient(descriptor(), channel);
    assert.not.ok("then" in client);
    assert.is(await awaitPromptly(client), client);
    assert.equal(Object.keys(client).sort(), ["channel", "close", "constructor$", "open", "then$", "toJSON$", "toString$", "valueOf$"]);
    assert.is(client.constructor, Object);
    assert.is(String(client), "[object Object]");
    assert.is(valueField(await client["then$"]!({ value: "a" })), "then$ a");
    assert.is(valueField(await client["constructor$"]!({ value: "b" })), "constructor$ b");
    const streamed: unknown[] = [];
    for await (const reply of client["toString$"]!({ value: "c" })) streamed.push(valueField(reply));
    assert.equal(streamed, ["toString$ c 1", "toString$ c 2"]);
    assert.is(valueField(await client["close"]!([{ value: "d" }])), "close d");
  });
}

test("createClient() typed by the generated descriptor names the method then$", async () => {
  const client = createClient(Foo, channel);
  const reply = await client.then$({ value: "typed" });
  assert.is(reply.value, "then$ typed");
});

test("a servicer answers Then with then$; one that names it then is refused", async () => {
  assert.is(await awaitPromptly(foo), foo, "a servicer is not thenable either");
  const refused = createServer();
  try {
    assert.throws(
      () => refused.addService(Foo as DescService, { then: () => ({}) }),
      (err: Error) => err instanceof TypeError && /name its handler "then\$", not "then"/.test(err.message),
    );
  } finally {
    await refused.stop(null);
  }
});

// Compile-time checks: never called, only type-checked with the rest of the repository.
export async function typeChecks(generated: FooClient, typed: Client<typeof Foo>, plain: Client<DescService>): Promise<void> {
  const a: FooClient = await generated;
  const b: Client<typeof Foo> = await typed;
  const c: Client<DescService> = await plain;
  void [a, b, c];
  const reply: { value: string } = await typed.then$({ value: "x" });
  void reply;
  // @ts-expect-error: the class has no then
  void generated.then;
  // @ts-expect-error: nor has a typed client
  void typed.then();
  // @ts-expect-error: nor a client of a plain descriptor
  void plain.then();
  // @ts-expect-error: the servicer names the handler then$
  const servicer: Partial<FooServicer> = { then: () => ({}) };
  void servicer;
}

test.run();
