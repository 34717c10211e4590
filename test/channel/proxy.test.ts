// Our client and servers through real proxies: nginx (grpc_pass, h2c) and haproxy
// (HTTP/2 mode), each in front of two of our servers. Every call kind, metadata both
// ways, Trailers-Only errors, status, deadlines and cancellation must survive them.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, StatusCode } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus } from "../helpers.js";
import { Backend } from "./backends.js";
import { available, HAPROXY, NGINX, Proxy } from "./proxies.js";

for (const [name, binary, start] of [
  ["nginx", NGINX, Proxy.nginx],
  ["haproxy", HAPROXY, Proxy.haproxy],
] as const) {
  const test = suite(`through ${name}`);
  if (!available(binary)) {
    // .ci/run installs both; a machine without them says so instead of passing quietly.
    test(`${binary} is installed (apt-get install ${name})`, () => assert.unreachable(`${binary} not found`));
    test.run();
    continue;
  }

  test("unary and all three streaming kinds, metadata both ways, spread over both upstreams", async () => {
    const backends = await Promise.all(["a", "b"].map((n) => Backend.start(n)));
    const proxy = await start(backends.map((b) => b.address));
    const channel = insecureChannel(proxy.target);
    const client = createClient(Echo, channel);
    try {
      const call = client.unary({ message: "hi" }, { metadata: { "x-echo": "v1", "x-bin-bin": new Uint8Array([0, 1, 2, 255]) } });
      const reply = await call;
      assert.ok(["a", "b"].includes(reply.message));
      assert.is((await call.initialMetadata()).get("x-echo-initial"), "v1");
      assert.is((await call.trailingMetadata()).get("x-echo-trailing"), "v1");
      const served = backends.find((b) => b.name === reply.message)!;
      assert.is(served.lastMetadata["x-echo"], "v1");
      assert.is(served.lastMetadata["x-bin-bin"], String(new Uint8Array([0, 1, 2, 255])));

      const streamed: number[] = [];
      for await (const r of client.serverStream({ count: 5 })) streamed.push(r.index);
      assert.equal(streamed, [0, 1, 2, 3, 4]);

      const summary = await client.clientStream([{ message: "x" }, { message: "y" }, { message: "z" }]);
      assert.match(summary.message, /^[ab]:x,y,z$/);

      const chat = client.bidi();
      const answers: string[] = [];
      for (const m of ["1", "2", "3"]) {
        await chat.write({ message: m });
        const { value } = await chat[Symbol.asyncIterator]().next();
        answers.push(value!.message.split(":")[1]!);
      }
      await chat.doneWriting();
      for await (const _ of chat) assert.unreachable("no more answers");
      assert.equal(answers, ["1", "2", "3"]);
      assert.is(await chat.code(), StatusCode.OK);

      for (let i = 0; i < 10; i++) await client.unary({});
      assert.ok(backends.every((b) => b.served > 0), `both upstreams served (${backends.map((b) => b.served).join(", ")})`);
    } finally {
      await channel.close();
      await proxy.stop();
      await Promise.all(backends.map((b) => b.stop()));
    }
    await assertNoLeaks();
  });

  test("errors: a Trailers-Only status with details, an error after messages, an unknown method", async () => {
    const backend = await Backend.start("a");
    const proxy = await start([backend.address]);
    const channel = insecureChannel(proxy.target);
    const client = createClient(Echo, channel);
    try {
      const err = await expectStatus(client.unary({ message: "fail" }), StatusCode.FAILED_PRECONDITION);
      assert.is(err.details, "refused by a");
      const stream = client.serverStream({ count: 2, message: "fail" });
      const got: number[] = [];
      await expectStatus(
        (async () => {
          for await (const r of stream) got.push(r.index);
        })(),
        StatusCode.FAILED_PRECONDITION,
      );
      assert.equal(got, [0, 1]);
      await expectStatus(channel.unaryUnary("/no.Such/Method")(new Uint8Array()), StatusCode.UNIMPLEMENTED);
    } finally {
      await channel.close();
      await proxy.stop();
      await backend.stop();
    }
    await assertNoLeaks();
  });

  test("deadlines reach the server and end the call; cancellation reaches the server", async () => {
    const backend = await Backend.start("a");
    const proxy = await start([backend.address]);
    const channel = insecureChannel(proxy.target);
    const client = createClient(Echo, channel);
    try {
      await client.unary({}, { timeoutMs: 30_000 });
      assert.ok(backend.lastTimeRemaining !== undefined && backend.lastTimeRemaining > 20 && backend.lastTimeRemaining <= 30, `server saw ${backend.lastTimeRemaining} s left`);
      await expectStatus(client.unary({ delayMs: 5000 }, { timeoutMs: 200 }), StatusCode.DEADLINE_EXCEEDED);
      await eventually(() => backend.aborted === 1, "the server to see the deadline", 5000);

      const controller = new AbortController();
      const stream = client.serverStream({ count: 1000, delayMs: 20 }, { signal: controller.signal });
      const got: number[] = [];
      await expectStatus(
        (async () => {
          for await (const r of stream) {
            got.push(r.index);
            if (got.length === 3) controller.abort();
          }
        })(),
        StatusCode.CANCELLED,
      );
      await eventually(() => backend.aborted === 2, "the server to see the cancellation", 5000);
    } finally {
      await channel.close();
      await proxy.stop();
      await backend.stop();
    }
    await assertNoLeaks();
  });

  test.run();
}
