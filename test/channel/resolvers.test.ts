// Name resolution: target syntax, dns: against a DNS server the test runs on a
// loopback UDP port (every A and AAAA record, re-resolution, TXT service config),
// unix-abstract:, and a custom resolver registered by scheme.
import * as http2 from "node:http2";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ConnectivityState,
  createClient,
  insecureChannel,
  registerResolver,
  StatusCode,
  type ResolverListener,
  type ResolverResult,
} from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, grpcFrame, sleep } from "../helpers.js";
import { Backend, spread } from "./backends.js";
import { DnsServer } from "./dns-server.js";

const test = suite("resolvers");
const FAST_BACKOFF = { "grpc.initial_reconnect_backoff_ms": 50, "grpc.max_reconnect_backoff_ms": 200 };

/** Backends on 127.0.0.1, 127.0.0.2, 127.0.0.3 (all loopback on Linux) sharing one port, as one DNS name would. */
async function samePortBackends(hosts: string[]): Promise<Backend[]> {
  const first = await Backend.start(hosts[0]!, hosts[0]!);
  const rest = await Promise.all(hosts.slice(1).map((h) => Backend.start(h, h, first.port)));
  return [first, ...rest];
}

test("invalid targets are refused with an error naming the target", () => {
  for (const [target, why] of [
    ["ipv4:1.2.3:80", /Invalid target ipv4:1\.2\.3:80: 1\.2\.3 is not an IPv4 address/],
    ["ipv4:127.0.0.1:80,::1", /Invalid target ipv4:127\.0\.0\.1:80,::1/],
    ["ipv6:127.0.0.1:80", /Invalid target ipv6:127\.0\.0\.1:80/],
    ["ipv6:[::1]:99999", /Invalid target ipv6:\[::1\]:99999: bad port 99999/],
    ["dns:", /Invalid target dns:: no host/],
    ["dns:///", /Invalid target dns:\/\/\/: no host/],
    ["dns://8.8.8.8", /Invalid target dns:\/\/8\.8\.8\.8: no path/],
    ["unix:", /Invalid target unix:: empty unix socket path/],
    ["unix://host/path", /Invalid target unix:\/\/host\/path: unix: takes no authority/],
    ["localhost:notaport", /Invalid target localhost:notaport: bad port notaport/],
  ] as const) {
    assert.throws(() => insecureChannel(target), why, target);
  }
});

test("dns://server/name: every A and AAAA record is used; the port comes from the target", async () => {
  const dns = await DnsServer.start();
  const backends = await samePortBackends(["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
  dns.records.set("svc.test", { a: ["127.0.0.2", "127.0.0.3"], aaaa: [] });
  let v6: Backend | undefined;
  try {
    v6 = await Backend.start("::1", "::1", backends[0]!.port);
    dns.records.set("svc.test", { a: ["127.0.0.2", "127.0.0.3"], aaaa: ["::1"] });
  } catch {
    // No IPv6 loopback here: the A records alone.
  }
  const channel = insecureChannel(`dns://127.0.0.1:${dns.port}/svc.test:${backends[0]!.port}`, { options: { "grpc.lb_policy_name": "round_robin" } });
  const client = createClient(Echo, channel);
  const expected = v6 ? ["127.0.0.2", "127.0.0.3", "::1"] : ["127.0.0.2", "127.0.0.3"];
  const counts = await spread(() => client.unary({}), 30 * expected.length);
  assert.equal([...counts.keys()].sort(), expected.sort(), "every record got calls");
  assert.is(backends[0]!.served, 0, "127.0.0.1 is not a record of the name");
  assert.ok(dns.asked("svc.test", "A") >= 1 && dns.asked("svc.test", "AAAA") >= 1);
  await channel.close();
  await Promise.all([...backends, ...(v6 ? [v6] : [])].map((b) => b.stop()));
  await dns.close();
  await assertNoLeaks();
});

test("dns: a dropped connection re-resolves the name (at most every grpc.dns_min_time_between_resolutions_ms)", async () => {
  const dns = await DnsServer.start();
  const [one, two] = await samePortBackends(["127.0.0.1", "127.0.0.2"]);
  dns.records.set("moving.test", { a: ["127.0.0.1"] });
  const target = `dns://127.0.0.1:${dns.port}/moving.test:${one!.port}`;
  const channel = insecureChannel(target, { options: { "grpc.dns_min_time_between_resolutions_ms": 100, ...FAST_BACKOFF } });
  const client = createClient(Echo, channel);
  assert.is((await client.unary({})).message, "127.0.0.1");
  // The service moves: the name now points at 127.0.0.2, and the old server goes away.
  dns.records.set("moving.test", { a: ["127.0.0.2"] });
  await one!.stop();
  assert.is((await client.unary({}, { waitForReady: true, timeoutMs: 5000 })).message, "127.0.0.2");
  assert.ok(dns.asked("moving.test", "A") >= 2, "the name was resolved again");
  await channel.close();

  // With gRPC's default of 30 s, a drop soon after the first resolution asks nothing more (yet).
  await one!.restart();
  dns.records.set("moving.test", { a: ["127.0.0.1"] });
  const before = dns.asked("moving.test", "A");
  const patient = insecureChannel(target, { options: FAST_BACKOFF });
  const patientClient = createClient(Echo, patient);
  assert.is((await patientClient.unary({})).message, "127.0.0.1");
  await one!.stop();
  await eventually(() => patient.getState() !== ConnectivityState.READY, "the drop");
  await sleep(300);
  assert.is(dns.asked("moving.test", "A"), before + 1, "one resolution only");
  await patient.close();
  await two!.stop();
  await dns.close();
  await assertNoLeaks();
});

test("dns: a TXT record's service config is used unless grpc.service_config_disable_resolution", async () => {
  const dns = await DnsServer.start();
  const backends = await samePortBackends(["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
  const choices = [
    { clientLanguage: ["go"], serviceConfig: { loadBalancingConfig: [{ pick_first: {} }] } },
    { clientLanguage: ["node"], percentage: 100, serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] } },
  ];
  dns.records.set("rr.test", { a: ["127.0.0.1", "127.0.0.2", "127.0.0.3"] });
  dns.records.set("_grpc_config.rr.test", { txt: [`grpc_config=${JSON.stringify(choices)}`] });
  const target = `dns://127.0.0.1:${dns.port}/rr.test:${backends[0]!.port}`;
  const channel = insecureChannel(target);
  const counts = await spread(() => createClient(Echo, channel).unary({}), 30);
  assert.is(counts.size, 3, "round_robin from the TXT record");
  await channel.close();
  const disabled = insecureChannel(target, { options: { "grpc.service_config_disable_resolution": 1 } });
  const pinned = await spread(() => createClient(Echo, disabled).unary({}), 10);
  assert.is(pinned.size, 1, "pick_first: the TXT record was ignored");
  await disabled.close();
  await Promise.all(backends.map((b) => b.stop()));
  await dns.close();
  await assertNoLeaks();
});

test("dns: a name that does not resolve fails calls with UNAVAILABLE naming the target", async () => {
  const dns = await DnsServer.start();
  const target = `dns://127.0.0.1:${dns.port}/nowhere.test:80`;
  const channel = insecureChannel(target);
  const err = await expectStatus(createClient(Echo, channel).unary({}), StatusCode.UNAVAILABLE);
  assert.match(err.details, /Name resolution failed for target dns:\/\/127\.0\.0\.1:\d+\/nowhere\.test:80/);
  assert.is(channel.getState(), ConnectivityState.TRANSIENT_FAILURE);
  await channel.close();
  await dns.close();
  await assertNoLeaks();
});

test("unix-abstract:name reaches a server on an abstract socket", async () => {
  const name = `async-grpc-test-${process.pid}`;
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("error", () => {});
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.resume();
    stream.once("end", () => stream.end(grpcFrame(Buffer.from("abstract"))));
  });
  await new Promise<void>((resolve) => server.listen(`\0${name}`, resolve));
  const channel = insecureChannel(`unix-abstract:${name}`);
  const reply = await channel.unaryUnary("/any.Service/Method")(new Uint8Array());
  assert.is(Buffer.from(reply).toString(), "abstract");
  await channel.close();
  await new Promise((resolve) => server.close(resolve));
  await assertNoLeaks();
});

test("registerResolver: a custom scheme's addresses and service config; an address change keeps calls on addresses that remain", async () => {
  const [a, b] = await Promise.all([Backend.start("a"), Backend.start("b")]);
  const listeners: ResolverListener[] = [];
  const seenTargets: string[] = [];
  let resolveNowCalls = 0;
  registerResolver("test-registry", (target, listener) => {
    if (target.path === "bad") throw new TypeError(`Invalid target ${target.original}: unknown service`);
    seenTargets.push(`${target.authority}|${target.path}`);
    listeners.push(listener);
    return {
      resolveNow() {
        resolveNowCalls++;
        if (resolveNowCalls === 1) listener.update({ addresses: [{ host: "127.0.0.1", port: a.port }] });
      },
      close() {},
    };
  });
  assert.throws(() => insecureChannel("test-registry:bad"), /Invalid target test-registry:bad: unknown service/);
  const channel = insecureChannel("test-registry://registry.local/echo-service", { options: FAST_BACKOFF });
  assert.equal(seenTargets, ["registry.local|echo-service"]);
  const client = createClient(Echo, channel);
  assert.is((await client.unary({})).message, "a");
  // A long call on a, while the address list changes twice.
  const slow = client.serverStream({ count: 5, delayMs: 60 });
  const replies: string[] = [];
  const reading = (async () => {
    for await (const r of slow) replies.push(r.message);
  })();
  await sleep(30);
  const push = (result: ResolverResult) => listeners[0]!.update(result);
  push({ addresses: [{ host: "127.0.0.1", port: b.port }, { host: "127.0.0.1", port: a.port }], serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] } });
  const counts = await spread(() => client.unary({}), 20);
  assert.equal([...counts.keys()].sort(), ["a", "b"], "round_robin over both, from the resolver's config");
  // a leaves the list: new calls go to b only, the call on a still finishes there.
  push({ addresses: [{ host: "127.0.0.1", port: b.port }] });
  assert.equal([...(await spread(() => client.unary({}), 10)).keys()], ["b"]);
  await reading;
  assert.equal(replies, ["a", "a", "a", "a", "a"]);
  assert.is(await slow.code(), StatusCode.OK);
  await channel.close();
  await Promise.all([a.stop(), b.stop()]);
  await assertNoLeaks();
});

test.run();
