// gRFC A66 metrics: after a known sequence of calls (two OK unary calls, one failed by
// the handler, one server stream, one to a port nobody listens on, one generic method on
// each side), every instrument holds exactly the expected counts, sums, attributes,
// units and bucket boundaries.
import { toBinary, create } from "@bufbuild/protobuf";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, methodHandlersGenericHandler, RpcError, StatusCode, unaryUnaryRpcMethodHandler, type Server } from "../../src/index.js";
import { LATENCY_BUCKETS, OpenTelemetryPlugin, SIZE_BUCKETS } from "../../src/observability/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, expectStatus, startServer } from "../helpers.js";
import { attributeSets, counterValue, histogram, metric, telemetry } from "./otel.js";

const test = suite("observability: metrics (gRFC A66)");

const UNARY = "testing.Echo/Unary";
const STREAM = "testing.Echo/ServerStream";
const requestBytes = (message: string, count = 0) => toBinary(EchoRequestSchema, create(EchoRequestSchema, { message, count })).byteLength;
const responseBytes = (message: string, index = 0) => toBinary(EchoResponseSchema, create(EchoResponseSchema, { message, index })).byteLength;

function echo(server: Server): void {
  server.addService(Echo, {
    unary(request, context) {
      if (request.message === "fail") context.abort(StatusCode.INVALID_ARGUMENT, "told to fail");
      return { message: request.message };
    },
    async *serverStream(request) {
      for (let index = 0; index < request.count; index++) yield { message: request.message, index };
    },
  });
  // A method no service registers: served by a generic handler.
  server.addGenericRpcHandlers([methodHandlersGenericHandler("other.Generic", { Echo: unaryUnaryRpcMethodHandler((request: Uint8Array) => request) })]);
}

test("a known sequence of calls gives exactly these values", async () => {
  const otel = telemetry();
  const plugin = new OpenTelemetryPlugin({ meterProvider: otel.meterProvider });
  plugin.registerGlobal();
  try {
    const started = await startServer(echo);
    const channel = insecureChannel(started.target);
    const client = createClient(Echo, channel);
    await client.unary({ message: "hello" });
    await client.unary({ message: "hello" });
    await expectStatus(client.unary({ message: "fail" }), StatusCode.INVALID_ARGUMENT);
    let streamed = 0;
    for await (const _ of client.serverStream({ message: "s", count: 3 })) streamed++;
    assert.is(streamed, 3);
    // A bare path (not from a descriptor) is a generic method on the client.
    const raw = channel.unaryUnary("/other.Generic/Echo");
    const rawReply = await raw(new Uint8Array([1, 2, 3]));
    assert.is(rawReply.byteLength, 3);
    await channel.close();

    // Nobody listens on the stopped server's port: the call fails before a stream opens.
    await started.server.stop(null);
    const dead = insecureChannel(started.target);
    await expectStatus(createClient(Echo, dead).unary({ message: "hello" }), StatusCode.UNAVAILABLE);
    await dead.close();

    const all = await otel.metrics();
    const target = `dns:///${started.target}`;
    const c = (method: string) => ({ "grpc.method": method, "grpc.target": target });
    const cs = (method: string, status: string) => ({ ...c(method), "grpc.status": status });
    const s = (method: string) => ({ "grpc.method": method });
    const ss = (method: string, status: string) => ({ ...s(method), "grpc.status": status });

    // Client, per attempt.
    assert.is(counterValue(all, "grpc.client.attempt.started", c(UNARY)), 4);
    assert.is(counterValue(all, "grpc.client.attempt.started", c(STREAM)), 1);
    assert.is(counterValue(all, "grpc.client.attempt.started", c("other")), 1);
    assert.equal(attributeSets(all, "grpc.client.attempt.duration"), [
      JSON.stringify(cs(UNARY, "OK")),
      JSON.stringify(cs(UNARY, "INVALID_ARGUMENT")),
      JSON.stringify(cs(UNARY, "UNAVAILABLE")),
      JSON.stringify(cs(STREAM, "OK")),
      JSON.stringify(cs("other", "OK")),
    ].sort());
    assert.is(histogram(all, "grpc.client.attempt.duration", cs(UNARY, "OK")).count, 2);
    assert.is(histogram(all, "grpc.client.attempt.duration", cs(UNARY, "INVALID_ARGUMENT")).count, 1);
    assert.is(histogram(all, "grpc.client.attempt.duration", cs(UNARY, "UNAVAILABLE")).count, 1);
    const sent = (a: object) => histogram(all, "grpc.client.attempt.sent_total_compressed_message_size", a as never);
    const rcvd = (a: object) => histogram(all, "grpc.client.attempt.rcvd_total_compressed_message_size", a as never);
    assert.equal(sent(cs(UNARY, "OK")), { count: 2, sum: 2 * requestBytes("hello"), boundaries: [...SIZE_BUCKETS] });
    assert.equal(rcvd(cs(UNARY, "OK")), { count: 2, sum: 2 * responseBytes("hello"), boundaries: [...SIZE_BUCKETS] });
    assert.equal([sent(cs(UNARY, "INVALID_ARGUMENT")).sum, rcvd(cs(UNARY, "INVALID_ARGUMENT")).sum], [requestBytes("fail"), 0]);
    assert.equal([sent(cs(UNARY, "UNAVAILABLE")).sum, rcvd(cs(UNARY, "UNAVAILABLE")).sum], [0, 0], "nothing was sent on the dead port");
    assert.is(sent(cs(STREAM, "OK")).sum, requestBytes("s", 3));
    assert.is(rcvd(cs(STREAM, "OK")).sum, responseBytes("s", 0) + responseBytes("s", 1) + responseBytes("s", 2));
    assert.equal([sent(cs("other", "OK")).sum, rcvd(cs("other", "OK")).sum], [3, 3]);

    // Client, per call.
    const call = histogram(all, "grpc.client.call.duration", cs(UNARY, "OK"));
    assert.is(call.count, 2);
    assert.equal(call.boundaries, [...LATENCY_BUCKETS]);
    assert.ok(call.sum > 0 && call.sum < 60, `two calls took ${call.sum} s`);
    assert.is(histogram(all, "grpc.client.call.duration", cs(UNARY, "INVALID_ARGUMENT")).count, 1);
    assert.is(histogram(all, "grpc.client.call.duration", cs(UNARY, "UNAVAILABLE")).count, 1);

    // Server.
    assert.is(counterValue(all, "grpc.server.call.started", s(UNARY)), 3);
    assert.is(counterValue(all, "grpc.server.call.started", s(STREAM)), 1);
    assert.is(counterValue(all, "grpc.server.call.started", s("other")), 1, "a generic handler's method is recorded as other");
    assert.equal(attributeSets(all, "grpc.server.call.duration"), [
      JSON.stringify(ss(UNARY, "OK")),
      JSON.stringify(ss(UNARY, "INVALID_ARGUMENT")),
      JSON.stringify(ss(STREAM, "OK")),
      JSON.stringify(ss("other", "OK")),
    ].sort());
    const duration = histogram(all, "grpc.server.call.duration", ss(UNARY, "OK"));
    assert.is(duration.count, 2);
    assert.equal(duration.boundaries, [...LATENCY_BUCKETS]);
    const serverSent = (a: object) => histogram(all, "grpc.server.call.sent_total_compressed_message_size", a as never);
    const serverRcvd = (a: object) => histogram(all, "grpc.server.call.rcvd_total_compressed_message_size", a as never);
    assert.equal(serverRcvd(ss(UNARY, "OK")), { count: 2, sum: 2 * requestBytes("hello"), boundaries: [...SIZE_BUCKETS] });
    assert.equal(serverSent(ss(UNARY, "OK")), { count: 2, sum: 2 * responseBytes("hello"), boundaries: [...SIZE_BUCKETS] });
    assert.equal([serverRcvd(ss(UNARY, "INVALID_ARGUMENT")).sum, serverSent(ss(UNARY, "INVALID_ARGUMENT")).sum], [requestBytes("fail"), 0]);
    assert.is(serverSent(ss(STREAM, "OK")).sum, responseBytes("s", 0) + responseBytes("s", 1) + responseBytes("s", 2));

    // Names, types and units as A66 gives them.
    const units: Record<string, string> = {
      "grpc.client.attempt.started": "{attempt}",
      "grpc.client.attempt.duration": "s",
      "grpc.client.attempt.sent_total_compressed_message_size": "By",
      "grpc.client.attempt.rcvd_total_compressed_message_size": "By",
      "grpc.client.call.duration": "s",
      "grpc.server.call.started": "{call}",
      "grpc.server.call.duration": "s",
      "grpc.server.call.sent_total_compressed_message_size": "By",
      "grpc.server.call.rcvd_total_compressed_message_size": "By",
    };
    assert.equal(all.map((m) => m.descriptor.name).sort(), Object.keys(units).sort());
    for (const [name, unit] of Object.entries(units)) assert.is(metric(all, name).descriptor.unit, unit, name);
  } finally {
    plugin.deregisterGlobal();
    await otel.shutdown();
  }
  await assertNoLeaks();
});

test("compressed messages are counted at their compressed size", async () => {
  const otel = telemetry();
  const plugin = new OpenTelemetryPlugin({ meterProvider: otel.meterProvider });
  const started = await startServer((s) => s.addService(Echo, { unary: (r) => ({ message: r.message }) }), { compression: "gzip", instrumentation: [plugin] });
  const channel = insecureChannel(started.target, { instrumentation: [plugin] });
  const message = "a".repeat(10_000);
  await createClient(Echo, channel).unary({ message }, { compression: "gzip" });
  await channel.close();
  await started.server.stop(null);
  const all = await otel.metrics();
  const a = { "grpc.method": UNARY, "grpc.target": `dns:///${started.target}`, "grpc.status": "OK" };
  const sent = histogram(all, "grpc.client.attempt.sent_total_compressed_message_size", a).sum;
  const rcvd = histogram(all, "grpc.client.attempt.rcvd_total_compressed_message_size", a).sum;
  const serverSent = histogram(all, "grpc.server.call.sent_total_compressed_message_size", { "grpc.method": UNARY, "grpc.status": "OK" }).sum;
  assert.ok(sent > 0 && sent < 200, `10,000 a's gzip to a few dozen bytes, sent ${sent}`);
  assert.ok(rcvd > 0 && rcvd < 200, `received ${rcvd}`);
  assert.is(serverSent, rcvd, "what the server sent is what the client received");
  await otel.shutdown();
  await assertNoLeaks();
});

test("calls refused before a handler runs (an interceptor, an unknown method) are counted too", async () => {
  const otel = telemetry();
  const plugin = new OpenTelemetryPlugin({ meterProvider: otel.meterProvider });
  const started = await startServer(echo, {
    instrumentation: [plugin],
    interceptors: [
      {
        interceptService(next, details) {
          if (details.invocationMetadata.get("authorization") === undefined) throw new RpcError(StatusCode.UNAUTHENTICATED, "no token");
          return next(details);
        },
      },
    ],
  });
  const channel = insecureChannel(started.target);
  await expectStatus(createClient(Echo, channel).unary({ message: "x" }), StatusCode.UNAUTHENTICATED);
  await expectStatus(channel.unaryUnary("/nowhere.Svc/Nothing")(new Uint8Array(0), { metadata: { authorization: "t" } }), StatusCode.UNIMPLEMENTED);
  await channel.close();
  await started.server.stop(null);
  const all = await otel.metrics();
  assert.is(counterValue(all, "grpc.server.call.started", { "grpc.method": UNARY }), 1);
  assert.is(histogram(all, "grpc.server.call.duration", { "grpc.method": UNARY, "grpc.status": "UNAUTHENTICATED" }).count, 1);
  assert.is(counterValue(all, "grpc.server.call.started", { "grpc.method": "other" }), 1, "an unknown method is other");
  assert.is(histogram(all, "grpc.server.call.duration", { "grpc.method": "other", "grpc.status": "UNIMPLEMENTED" }).count, 1);
  await otel.shutdown();
  await assertNoLeaks();
});

test("two plugins at once, each with its own MeterProvider, both record everything (A66)", async () => {
  const [one, two] = [telemetry(), telemetry()];
  const first = new OpenTelemetryPlugin({ meterProvider: one.meterProvider, tracerProvider: one.tracerProvider });
  const second = new OpenTelemetryPlugin({ meterProvider: two.meterProvider, tracerProvider: two.tracerProvider });
  first.registerGlobal();
  second.registerGlobal();
  try {
    const started = await startServer(echo);
    const channel = insecureChannel(started.target);
    await createClient(Echo, channel).unary({ message: "hello" });
    await channel.close();
    await started.server.stop(null);
    for (const otel of [one, two]) {
      const all = await otel.metrics();
      const ok = { "grpc.method": UNARY, "grpc.status": "OK" };
      assert.is(histogram(all, "grpc.client.attempt.sent_total_compressed_message_size", { ...ok, "grpc.target": `dns:///${started.target}` }).sum, requestBytes("hello"));
      assert.is(histogram(all, "grpc.server.call.rcvd_total_compressed_message_size", ok).sum, requestBytes("hello"));
      assert.equal(otel.spans().map((x) => x.name).sort(), ["Attempt.testing.Echo.Unary", "Recv.testing.Echo.Unary", "Sent.testing.Echo.Unary"]);
    }
  } finally {
    first.deregisterGlobal();
    second.deregisterGlobal();
    await one.shutdown();
    await two.shutdown();
  }
  await assertNoLeaks();
});

test("filters: generic method names and targets", async () => {
  const otel = telemetry();
  const plugin = new OpenTelemetryPlugin({
    meterProvider: otel.meterProvider,
    genericMethodAttributeFilter: (method) => method.startsWith("other."),
    targetAttributeFilter: (target) => !target.includes("127.0.0.1"),
  });
  const started = await startServer(echo, { instrumentation: [plugin] });
  const channel = insecureChannel(started.target, { instrumentation: [plugin] });
  await channel.unaryUnary("/other.Generic/Echo")(new Uint8Array([1]));
  await channel.close();
  await started.server.stop(null);
  const all = await otel.metrics();
  assert.is(counterValue(all, "grpc.client.attempt.started", { "grpc.method": "other.Generic/Echo", "grpc.target": "other" }), 1);
  assert.is(counterValue(all, "grpc.server.call.started", { "grpc.method": "other.Generic/Echo" }), 1);
  await otel.shutdown();
  await assertNoLeaks();
});

test("per channel and per server; deregisterGlobal; a plugin without providers observes nothing", async () => {
  const otel = telemetry();
  const plugin = new OpenTelemetryPlugin({ meterProvider: otel.meterProvider });
  const started = await startServer(echo); // not observed: made with no plugin
  const observed = insecureChannel(started.target, { instrumentation: [plugin] });
  const plain = insecureChannel(started.target);
  await createClient(Echo, observed).unary({ message: "a" });
  await createClient(Echo, plain).unary({ message: "b" });
  plugin.registerGlobal();
  plugin.registerGlobal(); // harmless
  assert.ok(plugin.registered);
  const global = insecureChannel(started.target);
  // Registered globally and given to the channel: observed once.
  const both = insecureChannel(started.target, { instrumentation: [plugin] });
  plugin.deregisterGlobal();
  assert.not.ok(plugin.registered);
  const after = insecureChannel(started.target);
  for (const ch of [global, both, after]) await createClient(Echo, ch).unary({ message: "c" });
  const idle = new OpenTelemetryPlugin();
  assert.is(idle.onChannel({ target: "x", options: {}, state: () => 0 }), undefined);
  assert.is(idle.onServer({ options: {}, listenAddresses: () => [] }), undefined);
  for (const ch of [observed, plain, global, both, after]) await ch.close();
  await started.server.stop(null);
  const all = await otel.metrics();
  assert.is(counterValue(all, "grpc.client.attempt.started", { "grpc.method": UNARY, "grpc.target": `dns:///${started.target}` }), 3);
  assert.is(all.some((m) => m.descriptor.name.startsWith("grpc.server.") && m.dataPoints.length > 0), false, "the server was not observed");
  await otel.shutdown();
  await assertNoLeaks();
});

test.run();
