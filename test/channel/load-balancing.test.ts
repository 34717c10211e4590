// Load balancing across several real servers on loopback ports: pick_first and
// round_robin, failover, waitForReady through failures, custom policies, subscribe.
import { createServer as createNetServer } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ConnectivityState,
  createClient,
  insecureChannel,
  registerLoadBalancer,
  StatusCode,
  type ChannelControlHelper,
  type LoadBalancer,
  type SocketAddress,
  type Subchannel,
} from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, sleep } from "../helpers.js";
import { Backend, spread } from "./backends.js";

const test = suite("load balancing");
const FAST_BACKOFF = { "grpc.initial_reconnect_backoff_ms": 50, "grpc.max_reconnect_backoff_ms": 200 };

/** A port nobody listens on: bind, note it, close. */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const ipv4 = (backends: readonly Backend[]) => `ipv4:${backends.map((b) => b.address).join(",")}`;

test("round_robin spreads 1,000 calls within 10% across 3 backends", async () => {
  const backends = await Promise.all(["a", "b", "c"].map((n) => Backend.start(n)));
  const channel = insecureChannel(ipv4(backends), { options: { "grpc.lb_policy_name": "round_robin" } });
  const client = createClient(Echo, channel);
  // round_robin is READY with its first connection; wait (bounded) until all three take calls.
  for (let i = 0; i < 200 && backends.some((b) => b.served === 0); i++) await client.unary({});
  assert.ok(backends.every((b) => b.served > 0), "every backend connected");
  const counts = await spread(() => client.unary({}), 1000);
  for (const b of backends) {
    const n = counts.get(b.name) ?? 0;
    assert.ok(Math.abs(n - 1000 / 3) <= 1000 / 3 / 10, `${b.name} served ${n} of 1000`);
  }
  await channel.close();
  await Promise.all(backends.map((b) => b.stop()));
  await assertNoLeaks();
});

test("round_robin: a stopped backend's traffic moves to the others, no waitForReady call fails; a restarted one gets traffic again", async () => {
  const backends = await Promise.all(["a", "b", "c"].map((n) => Backend.start(n)));
  const channel = insecureChannel(ipv4(backends), { options: { "grpc.lb_policy_name": "round_robin", ...FAST_BACKOFF } });
  const client = createClient(Echo, channel);
  for (let i = 0; i < 200 && backends.some((b) => b.served === 0); i++) await client.unary({});
  // Calls keep flowing (several at a time) while b stops and comes back.
  let running = true;
  let failures = 0;
  let completed = 0;
  const worker = async () => {
    while (running) {
      try {
        await client.unary({ delayMs: 2 }, { waitForReady: true, timeoutMs: 10_000 });
        completed++;
      } catch (err) {
        failures++;
        console.error(err);
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  await sleep(100);
  const b = backends[1]!;
  await b.stop(1);
  const servedByB = b.served;
  const before = completed;
  await eventually(() => completed > before + 100, "calls served by a and c", 5000);
  assert.is(b.served, servedByB, "no call reached the stopped backend");
  await b.restart();
  const servedAfterRestart = b.served;
  await eventually(() => b.served > servedAfterRestart + 10, "the restarted backend to get calls again", 5000);
  running = false;
  await Promise.all(workers);
  assert.is(failures, 0);
  await channel.close();
  await Promise.all(backends.map((x) => x.stop()));
  await assertNoLeaks();
});

test("pick_first sends every call to the first address, and fails over in address order", async () => {
  const backends = await Promise.all(["a", "b", "c"].map((n) => Backend.start(n)));
  const channel = insecureChannel(ipv4(backends), { options: FAST_BACKOFF });
  const client = createClient(Echo, channel);
  const first = await spread(() => client.unary({}), 20);
  assert.equal([...first], [["a", 20]]);
  await backends[0]!.stop();
  assert.is((await client.unary({}, { waitForReady: true, timeoutMs: 5000 })).message, "b");
  assert.equal([...(await spread(() => client.unary({}), 10))], [["b", 10]]);
  await backends[1]!.stop();
  assert.is((await client.unary({}, { waitForReady: true, timeoutMs: 5000 })).message, "c");
  // a is back: pick_first stays on its connection to c until that drops.
  await backends[0]!.restart();
  assert.is((await client.unary({})).message, "c");
  await backends[2]!.stop();
  assert.is((await client.unary({}, { waitForReady: true, timeoutMs: 5000 })).message, "a");
  await channel.close();
  await Promise.all(backends.map((b) => b.stop()));
  await assertNoLeaks();
});

test("pick_first with shuffleAddressList spreads channels over the addresses", async () => {
  const backends = await Promise.all(["a", "b", "c"].map((n) => Backend.start(n)));
  const config = JSON.stringify({ loadBalancingConfig: [{ pick_first: { shuffleAddressList: true } }] });
  const seen = new Set<string>();
  for (let i = 0; i < 30 && seen.size < 3; i++) {
    const channel = insecureChannel(ipv4(backends), { options: { "grpc.service_config": config } });
    seen.add((await createClient(Echo, channel).unary({})).message);
    await channel.close();
  }
  assert.is(seen.size, 3, `channels used ${[...seen].join(", ")}`);
  await Promise.all(backends.map((b) => b.stop()));
  await assertNoLeaks();
});

test("every address down: calls fail fast with UNAVAILABLE, waitForReady calls wait until their deadline", async () => {
  const ports = [await freePort(), await freePort()];
  const channel = insecureChannel(`ipv4:127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`, { options: FAST_BACKOFF });
  const client = createClient(Echo, channel);
  const err = await expectStatus(client.unary({}), StatusCode.UNAVAILABLE);
  assert.match(err.details, /ECONNREFUSED|connect/i);
  assert.is(channel.getState(), ConnectivityState.TRANSIENT_FAILURE);
  const t0 = Date.now();
  await expectStatus(client.unary({}, { waitForReady: true, timeoutMs: 300 }), StatusCode.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - t0 >= 250, "the waitForReady call waited for its deadline");
  // A waitForReady call is served once an address comes up.
  const call = client.unary({}, { waitForReady: true, timeoutMs: 5000 });
  const late = await Backend.start("late", "127.0.0.1", ports[1]);
  assert.is((await call).message, "late");
  await channel.close();
  await late.stop();
  await assertNoLeaks();
});

test("subscribe() reports the state now and every change; unsubscribe() stops it; tryToConnect connects", async () => {
  const backend = await Backend.start("a");
  const channel = insecureChannel(backend.address);
  const seen: ConnectivityState[] = [];
  const callback = (state: ConnectivityState) => seen.push(state);
  channel.subscribe(callback, true);
  await eventually(() => seen.includes(ConnectivityState.READY), "READY");
  assert.equal(seen, [ConnectivityState.CONNECTING, ConnectivityState.READY]);
  const other: ConnectivityState[] = [];
  const throwing = () => {
    throw new Error("a subscriber's bug does not break the channel");
  };
  channel.subscribe(throwing);
  channel.subscribe((s) => other.push(s));
  channel.unsubscribe(callback);
  await sleep(10);
  await channel.close();
  assert.equal(seen, [ConnectivityState.CONNECTING, ConnectivityState.READY]);
  assert.equal(other, [ConnectivityState.READY, ConnectivityState.SHUTDOWN]);
  await backend.stop();
  await assertNoLeaks();
});

test("registerLoadBalancer: a custom policy picks the subchannel for each call", async () => {
  const backends = await Promise.all(["a", "b"].map((n) => Backend.start(n)));
  // Sends calls whose method ends in "ClientStream" to the last address, the rest to the first.
  class ByMethod implements LoadBalancer {
    private subchannels: Subchannel[] = [];
    constructor(private readonly helper: ChannelControlHelper) {}
    updateAddressList(addresses: readonly SocketAddress[]): void {
      for (const s of this.subchannels) s.unref();
      this.subchannels = addresses.map((a) => this.helper.createSubchannel(a));
      for (const s of this.subchannels) {
        s.onStateChange(() => this.report());
        s.connect();
      }
      this.report();
    }
    private report(): void {
      const [first, last] = [this.subchannels[0]!, this.subchannels[this.subchannels.length - 1]!];
      if (first.state !== ConnectivityState.READY || last.state !== ConnectivityState.READY) {
        this.helper.updateState(ConnectivityState.CONNECTING, { pick: () => ({ type: "queue" }) });
        return;
      }
      this.helper.updateState(ConnectivityState.READY, {
        pick: (info) => ({ type: "complete", subchannel: info.methodPath.endsWith("/ClientStream") ? last : first }),
      });
    }
    exitIdle(): void {}
    resetBackoff(): void {}
    destroy(): void {
      for (const s of this.subchannels) s.unref();
    }
  }
  registerLoadBalancer("by_method_test", (helper) => new ByMethod(helper));
  const channel = insecureChannel(ipv4(backends), {
    options: { "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ no_such_policy: {} }, { by_method_test: {} }] }) },
  });
  const client = createClient(Echo, channel);
  assert.is((await client.unary({})).message, "a");
  assert.is((await client.clientStream([{ message: "x" }])).message, "b:x");
  assert.is((await client.unary({})).message, "a");
  await channel.close();
  await Promise.all(backends.map((b) => b.stop()));
  await assertNoLeaks();
});

test.run();
