// Service config: validation that names the field, methodConfig name matching and
// the settings it carries (timeout, waitForReady, message limits), and configs from
// a resolver (refused ones included).
import { createServer as createNetServer } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, registerResolver, StatusCode, type ResolverListener } from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus } from "../helpers.js";
import { Backend } from "./backends.js";

const test = suite("service config");

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const withConfig = (config: unknown) => () => insecureChannel("127.0.0.1:1", { options: { "grpc.service_config": typeof config === "string" ? config : JSON.stringify(config) } });
const retry = { maxAttempts: 3, initialBackoff: "0.1s", maxBackoff: "1s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"] };

test("an invalid config is refused with an error naming the field", () => {
  const cases: [unknown, RegExp][] = [
    ["{not json", /Invalid service config: not JSON/],
    [[], /Invalid service config: \(top level\) must be a JSON object/],
    [{ methodConfig: {} }, /methodConfig must be an array/],
    [{ methodConfig: [{ name: [{ method: "M" }] }] }, /methodConfig\[0\]\.name\[0\] names a method without a service/],
    [{ methodConfig: [{ name: [{ service: "s" }] }, { name: [{ service: "s" }] }] }, /methodConfig\[1\]\.name\[0\] duplicates the name \/s\//],
    [{ methodConfig: [{ name: [{}], timeout: "10" }] }, /methodConfig\[0\]\.timeout must be a duration/],
    [{ methodConfig: [{ name: [{}], waitForReady: "yes" }] }, /methodConfig\[0\]\.waitForReady must be a boolean/],
    [{ methodConfig: [{ name: [{}], maxRequestMessageBytes: -1 }] }, /methodConfig\[0\]\.maxRequestMessageBytes must be a non-negative integer/],
    [{ methodConfig: [{ name: [{}], retryPolicy: { ...retry, maxAttempts: 1 } }] }, /methodConfig\[0\]\.retryPolicy\.maxAttempts must be an integer of at least 2/],
    [{ methodConfig: [{ name: [{}], retryPolicy: { ...retry, initialBackoff: undefined } }] }, /methodConfig\[0\]\.retryPolicy\.initialBackoff is required/],
    [{ methodConfig: [{ name: [{}], retryPolicy: { ...retry, retryableStatusCodes: ["NOPE"] } }] }, /methodConfig\[0\]\.retryPolicy\.retryableStatusCodes has an invalid status code "NOPE"/],
    [{ methodConfig: [{ name: [{}], retryPolicy: { ...retry, retryableStatusCodes: [] } }] }, /retryableStatusCodes must not be empty/],
    [{ methodConfig: [{ name: [{}], retryPolicy: retry, hedgingPolicy: { maxAttempts: 2 } }] }, /methodConfig\[0\] has both retryPolicy and hedgingPolicy/],
    [{ methodConfig: [{ name: [{}], hedgingPolicy: { maxAttempts: 2, hedgingDelay: 1 } }] }, /methodConfig\[0\]\.hedgingPolicy\.hedgingDelay must be a duration/],
    [{ retryThrottling: { maxTokens: 0, tokenRatio: 1 } }, /retryThrottling\.maxTokens must be a number in \(0, 1000\]/],
    [{ loadBalancingConfig: [{ pick_first: { shuffleAddressList: "yes" } }] }, /loadBalancingConfig\[0\]\.pick_first: shuffleAddressList must be a boolean/],
    [{ loadBalancingConfig: [{ nope: {} }] }, /loadBalancingConfig names no supported policy \(nope\)/],
    [{ loadBalancingPolicy: "nope" }, /loadBalancingPolicy names an unknown policy nope/],
  ];
  for (const [config, why] of cases) assert.throws(withConfig(config), why, JSON.stringify(config));
  assert.throws(() => insecureChannel("127.0.0.1:1", { options: { "grpc.lb_policy_name": "nope" } }), /Unknown load-balancing policy nope/);
  // A valid one: maxAttempts above 5 is allowed (and cut to 5).
  withConfig({ methodConfig: [{ name: [{ service: "a.B", method: "C" }], retryPolicy: { ...retry, maxAttempts: 9 } }], retryThrottling: { maxTokens: 10, tokenRatio: 0.5 } })();
});

test("methodConfig names match method, then service, then default; timeout, message limits and waitForReady apply", async () => {
  const backend = await Backend.start("a");
  const config = {
    methodConfig: [
      { name: [{ service: "testing.Echo", method: "Unary" }], timeout: "0.1s" },
      { name: [{ service: "testing.Echo" }], maxResponseMessageBytes: 2, maxRequestMessageBytes: 16 },
      { name: [{}], waitForReady: true, timeout: "0.2s" },
    ],
  };
  const channel = insecureChannel(backend.address, { options: { "grpc.service_config": JSON.stringify(config) } });
  const client = createClient(Echo, channel);
  // Unary: the method's own entry (a 100 ms timeout, no message limits).
  await expectStatus(client.unary({ delayMs: 1000 }), StatusCode.DEADLINE_EXCEEDED);
  assert.is((await client.unary({ payload: new Uint8Array(100) })).payload.length, 100);
  // A call's own shorter timeout wins; a longer one does not.
  await expectStatus(client.unary({ delayMs: 1000 }, { timeoutMs: 20 }), StatusCode.DEADLINE_EXCEEDED);
  await expectStatus(client.unary({ delayMs: 1000 }, { timeoutMs: 5000 }), StatusCode.DEADLINE_EXCEEDED);
  // The service's entry: a response over 2 bytes, a request over 16.
  const stream = client.serverStream({ count: 1 });
  await expectStatus((async () => { for await (const _ of stream); })(), StatusCode.RESOURCE_EXHAUSTED);
  await expectStatus(client.clientStream([{ message: "x".repeat(40) }]), StatusCode.RESOURCE_EXHAUSTED);
  await channel.close();

  // The default entry, on a channel to nowhere: waitForReady, so the call waits for its deadline.
  const nowhere = insecureChannel(`127.0.0.1:${await freePort()}`, { options: { "grpc.service_config": JSON.stringify(config) } });
  await expectStatus(nowhere.unaryUnary("/other.Service/Method")(new Uint8Array()), StatusCode.DEADLINE_EXCEEDED);
  // The call's own waitForReady: false wins: it fails fast.
  await expectStatus(nowhere.unaryUnary("/other.Service/Method")(new Uint8Array(), { waitForReady: false }), StatusCode.UNAVAILABLE);
  await nowhere.close();
  await backend.stop();
  await assertNoLeaks();
});

test("a resolver's config replaces the default; an invalid one with nothing before it fails calls naming the field", async () => {
  const backend = await Backend.start("a");
  let listener: ResolverListener | undefined;
  let config: unknown;
  registerResolver("test-config", (_target, l) => {
    listener = l;
    return {
      resolveNow: () => l.update({ addresses: [{ host: "127.0.0.1", port: backend.port }], serviceConfig: config as object }),
      close() {},
    };
  });
  const fallback = JSON.stringify({ methodConfig: [{ name: [{}], timeout: "5s" }] });
  config = { methodConfig: [{ name: [{ service: "testing.Echo" }], timeout: "0.05s" }] };
  const channel = insecureChannel("test-config:x", { options: { "grpc.service_config": fallback } });
  const client = createClient(Echo, channel);
  await client.unary({});
  await expectStatus(client.unary({ delayMs: 1000 }), StatusCode.DEADLINE_EXCEEDED);
  // A later invalid config keeps the one in force.
  listener!.update({ addresses: [{ host: "127.0.0.1", port: backend.port }], serviceConfig: { methodConfig: [{ name: [{}], timeout: 5 }] } });
  await expectStatus(client.unary({ delayMs: 1000 }), StatusCode.DEADLINE_EXCEEDED);
  await channel.close();

  config = { methodConfig: [{ name: [{}], timeout: 5 }] };
  const broken = insecureChannel("test-config:y");
  const err = await expectStatus(createClient(Echo, broken).unary({}), StatusCode.UNAVAILABLE);
  assert.match(err.details, /methodConfig\[0\]\.timeout must be a duration/);
  await broken.close();
  await backend.stop();
  await assertNoLeaks();
});

test.run();
