// gRFC A6 hedging from a service config's hedgingPolicy: a second attempt after
// hedgingDelay, the first to answer wins and the others are cancelled; a non-fatal
// status starts the next attempt at once, a fatal one ends the call.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { insecureChannel, StatusCode } from "../../src/index.js";
import { assertNoLeaks, eventually, expectStatus } from "../helpers.js";
import { FlakyServer } from "./flaky-server.js";

const test = suite("hedging");

function hedgingConfig(maxAttempts: number, hedgingDelay: string, nonFatalStatusCodes: string[] = []): string {
  return JSON.stringify({
    methodConfig: [{ name: [{ service: "test.Hedged" }], hedgingPolicy: { maxAttempts, hedgingDelay, nonFatalStatusCodes } }],
  });
}

test("the second attempt starts after hedgingDelay, wins, and the slow first one is cancelled", async () => {
  const server = await FlakyServer.start((a) => ({ status: 0, delayMs: a.index === 0 ? 2000 : 0 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": hedgingConfig(2, "0.1s") } });
  await channel.channelReady(); // the delay counts from the call's start; connecting first keeps the arrival times comparable
  const t0 = Date.now();
  const reply = await channel.unaryUnary("/test.Hedged/Unary")(Buffer.from("hedge"), { metadata: { "x-call-id": "h" } });
  assert.is(Buffer.from(reply).toString(), "hedge");
  const [first, second] = server.of("h");
  assert.ok(first && second, "two attempts");
  try {
  assert.ok(second.at - t0 >= 100, `the hedge waited for hedgingDelay (${second.at - t0} ms)`);
  assert.ok(first.at < second.at);
  assert.is(second.headers["grpc-previous-rpc-attempts"], "1");
  assert.is(second.requests[0]?.toString(), "hedge");
  await eventually(() => first.cancelled, "the losing attempt to be cancelled");
  } finally {
    await channel.close();
    await server.stop();
  }
  await assertNoLeaks();
});

test("a fast first attempt wins alone: no hedge is sent", async () => {
  const server = await FlakyServer.start(() => ({ status: 0 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": hedgingConfig(3, "0.2s") } });
  await channel.unaryUnary("/test.Hedged/Unary")(Buffer.from("x"), { metadata: { "x-call-id": "fast" } });
  await new Promise((r) => setTimeout(r, 300));
  assert.is(server.of("fast").length, 1);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("a non-fatal status starts the next attempt at once; a fatal one ends the call; all non-fatal ends with the last", async () => {
  const server = await FlakyServer.start((a) => {
    if (a.callId === "fatal") return { status: StatusCode.INVALID_ARGUMENT };
    if (a.callId === "allfail") return { status: StatusCode.UNAVAILABLE };
    return { status: a.index === 0 ? StatusCode.UNAVAILABLE : 0 };
  });
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": hedgingConfig(3, "10s", ["UNAVAILABLE"]) } });
  const hedged = channel.unaryUnary("/test.Hedged/Unary");
  assert.is(Buffer.from(await hedged(Buffer.from("ok"), { metadata: { "x-call-id": "nonfatal" } })).toString(), "ok");
  assert.is(server.of("nonfatal").length, 2, "the second attempt did not wait 10 s");
  await expectStatus(hedged(Buffer.from("x"), { metadata: { "x-call-id": "fatal" } }), StatusCode.INVALID_ARGUMENT);
  assert.is(server.of("fatal").length, 1);
  await expectStatus(hedged(Buffer.from("x"), { metadata: { "x-call-id": "allfail" } }), StatusCode.UNAVAILABLE);
  assert.is(server.of("allfail").length, 3);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("a request larger than grpc.per_rpc_retry_buffer_size is hedged all the same", async () => {
  const server = await FlakyServer.start((a) => ({ status: a.index === 0 ? StatusCode.UNAVAILABLE : 0 }));
  const options = { "grpc.service_config": hedgingConfig(2, "10s", ["UNAVAILABLE"]), "grpc.per_rpc_retry_buffer_size": 1000 };
  const channel = insecureChannel(server.target, { options });
  const big = Buffer.alloc(5000, 7);
  const reply = await channel.unaryUnary("/test.Hedged/Unary")(big, { metadata: { "x-call-id": "big" } });
  assert.is(reply.length, 5000);
  assert.is(server.of("big").length, 2);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("client streaming: hedged attempts start once the request is complete, each with all of it", async () => {
  const server = await FlakyServer.start((a) => ({ status: 0, delayMs: a.index === 0 ? 2000 : 0 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": hedgingConfig(3, "0.05s") } });
  const call = channel.streamUnary("/test.Hedged/Upload")(undefined, { metadata: { "x-call-id": "up" } });
  for (const part of ["one", "two", "three"]) await call.write(Buffer.from(part));
  await call.doneWriting();
  assert.is(Buffer.from(await call).toString(), "onetwothree");
  const attempts = server.of("up");
  assert.ok(attempts.length >= 2);
  for (const a of attempts) assert.equal(a.requests.map(String), ["one", "two", "three"]);
  await eventually(() => attempts[0]!.cancelled, "the slow first attempt to be cancelled");
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("server streaming: the winning attempt's messages are the call's", async () => {
  const server = await FlakyServer.start((a) => ({ status: 0, responses: 3, delayMs: a.index === 0 ? 2000 : 0 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": hedgingConfig(2, "0.05s") } });
  const call = channel.unaryStream("/test.Hedged/Stream")(Buffer.from("m"), { metadata: { "x-call-id": "s" } });
  const got: string[] = [];
  for await (const m of call) got.push(Buffer.from(m).toString());
  assert.equal(got, ["m", "m", "m"]);
  assert.is(await call.code(), StatusCode.OK);
  await eventually(() => server.of("s")[0]!.cancelled, "the loser to be cancelled");
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test.run();
