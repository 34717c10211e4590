// The `<Service>BlockingClient` that protoc-gen-async-grpc generates (test/gen/testing/echo_grpc.ts).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BlockingChannel } from "../../src/compat/index.js";
import { RpcError, StatusCode } from "../../src/index.js";
import { EchoBlockingClient } from "../gen/testing/echo_grpc.js";
import { assertNoLeaks } from "../helpers.js";
import { startServerThread, type ServerThread } from "./server-thread.js";

const test = suite("compat: generated blocking client");
let server: ServerThread;
let channel: BlockingChannel;

test.before(async () => {
  server = await startServerThread();
  channel = new BlockingChannel(server.target, undefined, { defaultTimeoutMs: 20_000 });
});

test.after(async () => {
  channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("every call kind, typed, blocking", () => {
  const client = new EchoBlockingClient(channel);
  const reply = client.unary({ message: "gen" });
  assert.is(reply.message, "echo:gen");
  assert.is(client.unary.withCall({ message: "w" }).call.code, StatusCode.OK);
  assert.is(client.unary.future({ message: "f" }).result().message, "echo:f");
  assert.equal([...client.serverStream({ count: 3 })].map((r) => r.index), [0, 1, 2]);
  assert.is(client.clientStream([{ message: "a" }, { message: "b" }]).message, "a,b");
  const bidi = client.bidi();
  bidi.write({ message: "x" });
  bidi.doneWriting();
  assert.equal([...bidi].map((r) => r.message), ["x"]);
  try {
    client.unary({ message: `status:${StatusCode.UNAUTHENTICATED}` });
    assert.unreachable();
  } catch (err) {
    assert.ok(err instanceof RpcError && err.code === StatusCode.UNAUTHENTICATED);
  }
});

test("two clients share one channel (and its worker thread)", () => {
  const a = new EchoBlockingClient(channel);
  const b = new EchoBlockingClient(channel);
  const f = a.unary.future({ message: "a" });
  assert.is(b.unary({ message: "b" }).message, "echo:b");
  assert.is(f.result().message, "echo:a");
});

// Compile-time checks: never called, only type-checked.
export function typeChecks(client: EchoBlockingClient): void {
  // @ts-expect-error: a unary call returns the message itself, not a promise
  void ((): Promise<unknown> => client.unary({}));
  // @ts-expect-error: a field the request message lacks
  void client.unary({ mesage: "x" });
  // @ts-expect-error: request streams are synchronous iterables
  void client.clientStream((async function* () {})());
}

test.run();
