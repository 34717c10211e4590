// gRFC A6 retries from a service config's retryPolicy, against a server that fails
// attempts on purpose: replay, backoff, grpc-previous-rpc-attempts, commit on
// response headers, pushback, throttling, and grpc.enable_retries.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { insecureChannel, StatusCode, type Channel } from "../../src/index.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";
import { FlakyServer } from "./flaky-server.js";

const test = suite("retry");
const UNAVAILABLE = StatusCode.UNAVAILABLE;

function retryConfig(maxAttempts: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    methodConfig: [
      {
        name: [{ service: "test.Flaky" }],
        retryPolicy: { maxAttempts, initialBackoff: "0.01s", maxBackoff: "0.05s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"] },
      },
    ],
    ...extra,
  });
}

const unary = (channel: Channel, id: string, body = "hello") => channel.unaryUnary("/test.Flaky/Unary")(Buffer.from(body), { metadata: { "x-call-id": id } });

test("a server failing 2 of 3 attempts: maxAttempts 3 turns every call into success; the server sees grpc-previous-rpc-attempts", async () => {
  const server = await FlakyServer.start((a) => ({ status: a.index < 2 ? UNAVAILABLE : 0 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(3) } });
  for (let i = 0; i < 10; i++) assert.is(Buffer.from(await unary(channel, `c${i}`, `body${i}`)).toString(), `body${i}`);
  for (let i = 0; i < 10; i++) {
    const attempts = server.of(`c${i}`);
    assert.is(attempts.length, 3);
    assert.equal(attempts.map((a) => a.headers["grpc-previous-rpc-attempts"]), [undefined, "1", "2"]);
    assert.ok(attempts.every((a) => a.requests.length === 1 && a.requests[0]!.toString() === `body${i}`), "each attempt got the request");
  }
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("maxAttempts 2 is not enough: the call fails with the last attempt's status; no policy, no retry", async () => {
  const server = await FlakyServer.start((a) => ({ status: a.index < 2 ? UNAVAILABLE : 0 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(2) } });
  const err = await expectStatus(unary(channel, "two"), UNAVAILABLE);
  assert.is(err.details, "attempt 1 failed");
  assert.is(server.of("two").length, 2);
  const plain = insecureChannel(server.target);
  await expectStatus(unary(plain, "none"), UNAVAILABLE);
  assert.is(server.of("none").length, 1);
  const disabled = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(3), "grpc.enable_retries": 0 } });
  await expectStatus(unary(disabled, "off"), UNAVAILABLE);
  assert.is(server.of("off").length, 1, "grpc.enable_retries 0 turns the policy off");
  await Promise.all([channel.close(), plain.close(), disabled.close()]);
  await server.stop();
  await assertNoLeaks();
});

test("requests past grpc.per_rpc_retry_buffer_size, or past the channel's grpc.retry_buffer_size, commit the call: no retry", async () => {
  const server = await FlakyServer.start((a) => ({ status: a.index === 0 ? UNAVAILABLE : 0 }));
  const big = "x".repeat(2000);
  const perCall = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(3), "grpc.per_rpc_retry_buffer_size": 1000 } });
  await expectStatus(unary(perCall, "per-call", big), UNAVAILABLE);
  assert.is(server.of("per-call").length, 1);
  const perChannel = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(3), "grpc.retry_buffer_size": 1000 } });
  await expectStatus(unary(perChannel, "per-channel", big), UNAVAILABLE);
  assert.is(server.of("per-channel").length, 1);
  // A small request fits: the budget was given back when the big call ended.
  assert.is(Buffer.from(await unary(perChannel, "small", "small")).toString(), "small");
  assert.is(server.of("small").length, 2);
  await Promise.all([perCall.close(), perChannel.close()]);
  await server.stop();
  await assertNoLeaks();
});

test("a status outside retryableStatusCodes is not retried", async () => {
  const server = await FlakyServer.start(() => ({ status: StatusCode.INTERNAL }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(5) } });
  await expectStatus(unary(channel, "internal"), StatusCode.INTERNAL);
  assert.is(server.of("internal").length, 1);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("a streaming call that already received a response is never retried", async () => {
  const server = await FlakyServer.start(() => ({ status: UNAVAILABLE, responses: 1 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(5) } });
  const call = channel.unaryStream("/test.Flaky/Stream")(Buffer.from("s"), { metadata: { "x-call-id": "stream" } });
  const got: string[] = [];
  try {
    for await (const m of call) got.push(Buffer.from(m).toString());
    assert.unreachable("the stream ends with UNAVAILABLE");
  } catch {
    // expected
  }
  assert.equal(got, ["s"]);
  assert.is(await call.code(), UNAVAILABLE);
  assert.is(server.of("stream").length, 1);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("a client-streaming call is replayed whole on the next attempt", async () => {
  const server = await FlakyServer.start((a) => ({ status: a.index === 0 ? UNAVAILABLE : 0 }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(3) } });
  const call = channel.streamUnary("/test.Flaky/Upload")(undefined, { metadata: { "x-call-id": "up" } });
  for (const part of ["one", "two", "three"]) await call.write(Buffer.from(part));
  await call.doneWriting();
  assert.is(Buffer.from(await call).toString(), "onetwothree");
  assert.equal(server.of("up").map((a) => a.requests.map(String)), [["one", "two", "three"], ["one", "two", "three"]]);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("grpc-retry-pushback-ms: a valid value is the delay; an invalid one stops retrying", async () => {
  const server = await FlakyServer.start((a) => (a.callId === "stop" ? { status: UNAVAILABLE, pushback: "-1" } : { status: a.index === 0 ? UNAVAILABLE : 0, pushback: "150" }));
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": retryConfig(3) } });
  const t0 = Date.now();
  await unary(channel, "wait");
  assert.ok(Date.now() - t0 >= 140, "the second attempt waited for the pushback");
  await expectStatus(unary(channel, "stop"), UNAVAILABLE);
  assert.is(server.of("stop").length, 1);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("retryThrottling: once failures spent half the tokens, calls are no longer retried", async () => {
  const server = await FlakyServer.start(() => ({ status: UNAVAILABLE }));
  const config = retryConfig(3, { retryThrottling: { maxTokens: 10, tokenRatio: 0.1 } });
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": config } });
  for (let i = 0; i < 5; i++) await expectStatus(unary(channel, `t${i}`), UNAVAILABLE);
  // Tokens 10 -> 9, 8 (retries allowed while above 5), 7 | 6, 5 | 4 | 3 | 2.
  assert.equal([0, 1, 2, 3, 4].map((i) => server.of(`t${i}`).length), [3, 2, 1, 1, 1]);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test("retries stop at the deadline: the call ends with the attempt's status, not later", async () => {
  const server = await FlakyServer.start(() => ({ status: UNAVAILABLE }));
  const config = JSON.stringify({
    methodConfig: [{ name: [{}], retryPolicy: { maxAttempts: 5, initialBackoff: "1s", maxBackoff: "1s", backoffMultiplier: 1, retryableStatusCodes: [14] } }],
  });
  const channel = insecureChannel(server.target, { options: { "grpc.service_config": config } });
  // The backoff is random in [0, 1 s): most are past the 200 ms deadline, and then the
  // call ends at once with UNAVAILABLE instead of waiting to fail with DEADLINE_EXCEEDED.
  let unavailable = 0;
  for (let i = 0; i < 20 && unavailable === 0; i++) {
    const call = channel.unaryUnary("/test.Flaky/Unary")(Buffer.from("x"), { metadata: { "x-call-id": `d${i}` }, timeoutMs: 200 });
    const code = await call.code();
    assert.ok(code === UNAVAILABLE || code === StatusCode.DEADLINE_EXCEEDED, StatusCode[code]);
    if (code === UNAVAILABLE) unavailable++;
  }
  assert.is(unavailable, 1);
  await channel.close();
  await server.stop();
  await assertNoLeaks();
});

test.run();
