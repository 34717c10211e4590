// gRFC A72 tracing: a "Sent." span per call, an "Attempt." span per attempt under it,
// the attempt's context in the request's `traceparent`, the server's "Recv." span under
// it, message events on the attempt and server spans, and the status on every span.
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createClient, insecureChannel, StatusCode, type Server } from "../../src/index.js";
import { OpenTelemetryPlugin, W3CTraceContextPropagator } from "../../src/observability/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, sleep, startServer } from "../helpers.js";
import { AsyncLocalContextManager, telemetry } from "./otel.js";

const test = suite("observability: tracing (gRFC A72)");

function echo(seen: string[]): (server: Server) => void {
  return (server) =>
    server.addService(Echo, {
      unary(request, context) {
        seen.push(context.invocationMetadata().get("traceparent") as string);
        if (request.message === "fail") context.abort(StatusCode.INVALID_ARGUMENT, "told to fail");
        return { message: request.message };
      },
      async *serverStream(request) {
        for (let index = 0; index < request.count; index++) yield { message: request.message, index };
      },
    });
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const events = (span: ReadableSpan) => span.events.map((e) => [e.name, e.attributes]);

test("spans per call, attempt and server call, linked through traceparent, with message events and status", async () => {
  const otel = telemetry();
  const plugin = new OpenTelemetryPlugin({ tracerProvider: otel.tracerProvider });
  plugin.registerGlobal();
  const seen: string[] = [];
  try {
    const started = await startServer(echo(seen));
    const channel = insecureChannel(started.target);
    const client = createClient(Echo, channel);
    await client.unary({ message: "hello" });
    await expectStatus(client.unary({ message: "fail" }), StatusCode.INVALID_ARGUMENT);
    let n = 0;
    for await (const _ of client.serverStream({ message: "s", count: 3 })) n++;
    assert.is(n, 3);
    await channel.close();
    await started.server.stop(null);
    await eventually(() => otel.spans().length === 9, "nine spans to end");

    const spans = otel.spans();
    const [sentOk, sentFail] = byName(spans, "Sent.testing.Echo.Unary");
    const [attemptOk, attemptFail] = byName(spans, "Attempt.testing.Echo.Unary");
    const recv = byName(spans, "Recv.testing.Echo.Unary");
    assert.ok(sentOk && sentFail && attemptOk && attemptFail && recv.length === 2, spans.map((s) => s.name).join(", "));
    const recvOk = recv.find((s) => s.spanContext().traceId === sentOk!.spanContext().traceId)!;
    const recvFail = recv.find((s) => s.spanContext().traceId === sentFail!.spanContext().traceId)!;

    // The chain: Sent -> Attempt -> (over the wire) Recv, one trace per call.
    assert.is(sentOk!.kind, SpanKind.CLIENT);
    assert.is(sentOk!.parentSpanContext, undefined, "no active span: the call span is a root");
    assert.is(attemptOk!.parentSpanContext?.spanId, sentOk!.spanContext().spanId);
    assert.is(attemptOk!.spanContext().traceId, sentOk!.spanContext().traceId);
    assert.is(recvOk.kind, SpanKind.SERVER);
    assert.is(recvOk.parentSpanContext?.spanId, attemptOk!.spanContext().spanId);
    assert.is(recvOk.parentSpanContext?.isRemote, true);
    assert.is(seen[0], `00-${attemptOk!.spanContext().traceId}-${attemptOk!.spanContext().spanId}-01`, "the attempt's context in traceparent");
    assert.not.equal(sentOk!.spanContext().traceId, sentFail!.spanContext().traceId);

    // Attempt attributes and message events (sizes as on the wire, numbered from 0).
    assert.equal(attemptOk!.attributes, { "previous-rpc-attempts": 0, "transparent-retry": false });
    assert.equal(events(attemptOk!), [
      ["Outbound message", { "sequence-number": 0, "message-size": 7 }],
      ["Inbound message", { "sequence-number": 0, "message-size": 7 }],
    ]);
    assert.equal(events(recvOk), [
      ["Inbound message", { "sequence-number": 0, "message-size": 7 }],
      ["Outbound message", { "sequence-number": 0, "message-size": 7 }],
    ]);
    assert.equal(events(attemptFail!), [["Outbound message", { "sequence-number": 0, "message-size": 6 }]]);
    assert.equal(events(recvFail), [["Inbound message", { "sequence-number": 0, "message-size": 6 }]]);

    // Status on every span.
    for (const span of [sentOk!, attemptOk!, recvOk]) assert.equal(span.status, { code: SpanStatusCode.OK }, span.name);
    for (const span of [sentFail!, attemptFail!, recvFail]) {
      assert.equal(span.status, { code: SpanStatusCode.ERROR, message: "INVALID_ARGUMENT: told to fail" }, span.name);
    }

    // A stream: one event per message, numbered.
    const [streamAttempt] = byName(spans, "Attempt.testing.Echo.ServerStream");
    assert.equal(
      streamAttempt!.events.filter((e) => e.name === "Inbound message").map((e) => e.attributes?.["sequence-number"]),
      [0, 1, 2],
    );
    const [streamRecv] = byName(spans, "Recv.testing.Echo.ServerStream");
    assert.is(streamRecv!.events.filter((e) => e.name === "Outbound message").length, 3);
    // Every span ended.
    assert.is(spans.length, 9);
  } finally {
    plugin.deregisterGlobal();
    await otel.shutdown();
  }
  await assertNoLeaks();
});

test("the server continues a trace that another client started, and a call that cannot connect still has its attempt", async () => {
  const otel = telemetry();
  const serverPlugin = new OpenTelemetryPlugin({ tracerProvider: otel.tracerProvider });
  const seen: string[] = [];
  const started = await startServer(echo(seen), { instrumentation: [serverPlugin] });
  // A client without the plugin sends a traceparent of its own making.
  const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const channel = insecureChannel(started.target);
  await createClient(Echo, channel).unary({ message: "x" }, { metadata: { traceparent: parent } });
  await channel.close();
  await started.server.stop(null);
  await eventually(() => otel.spans().length === 1, "the server span");
  const [recv] = otel.spans();
  assert.is(recv!.spanContext().traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.is(recv!.parentSpanContext?.spanId, "b7ad6b7169203331");

  // Now nobody listens there.
  const clientPlugin = new OpenTelemetryPlugin({ tracerProvider: otel.tracerProvider });
  const dead = insecureChannel(started.target, { instrumentation: [clientPlugin] });
  await expectStatus(createClient(Echo, dead).unary({ message: "x" }), StatusCode.UNAVAILABLE);
  await dead.close();
  const [attempt] = byName(otel.spans(), "Attempt.testing.Echo.Unary");
  const [sent] = byName(otel.spans(), "Sent.testing.Echo.Unary");
  assert.is(attempt!.status.code, SpanStatusCode.ERROR);
  assert.match(attempt!.status.message ?? "", /^UNAVAILABLE: /);
  assert.equal(attempt!.events, []);
  assert.is(sent!.status.code, SpanStatusCode.ERROR);
  await otel.shutdown();
  await assertNoLeaks();
});

test("with a context manager: the caller's span is the call span's parent, and the server span is active in the handler", async () => {
  context.setGlobalContextManager(new AsyncLocalContextManager());
  const otel = telemetry();
  try {
    const plugin = new OpenTelemetryPlugin({ tracerProvider: otel.tracerProvider });
    let activeInHandler: string | undefined;
    const started = await startServer(
      (s) =>
        s.addService(Echo, {
          async unary(request) {
            await sleep(1); // still active after an await
            activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
            return { message: request.message };
          },
        }),
      { instrumentation: [plugin] },
    );
    const channel = insecureChannel(started.target, { instrumentation: [plugin] });
    const parent = otel.tracerProvider.getTracer("app").startSpan("handle request");
    await context.with(trace.setSpan(ROOT_CONTEXT, parent), () => createClient(Echo, channel).unary({ message: "x" }));
    parent.end();
    await channel.close();
    await started.server.stop(null);
    await eventually(() => otel.spans().length === 4, "four spans");
    const [sent] = byName(otel.spans(), "Sent.testing.Echo.Unary");
    const [recv] = byName(otel.spans(), "Recv.testing.Echo.Unary");
    assert.is(sent!.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.is(sent!.spanContext().traceId, parent.spanContext().traceId);
    assert.is(activeInHandler, recv!.spanContext().spanId);
  } finally {
    context.disable();
    await otel.shutdown();
  }
  await assertNoLeaks();
});

test("W3C trace context: inject and extract round trip; malformed headers are ignored", () => {
  const propagator = new W3CTraceContextPropagator();
  const carrier: Record<string, string> = {};
  const setter: TextMapSetter<Record<string, string>> = { set: (c, k, v) => (c[k] = v) };
  const getter: TextMapGetter<Record<string, string>> = { get: (c, k) => c[k], keys: (c) => Object.keys(c) };
  const spanContext = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.SAMPLED };
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, setter);
  assert.equal(carrier, { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
  const back = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { ...carrier, tracestate: "a=1,b=2" }, getter));
  assert.equal({ ...back, traceState: back?.traceState?.serialize() }, { ...spanContext, isRemote: true, traceState: "a=1,b=2" });
  for (const bad of [
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
  ]) {
    assert.is(trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { traceparent: bad }, getter)), undefined, bad);
  }
  // A later version may add fields.
  assert.ok(trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { traceparent: "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x" }, getter)));
  // Nothing to inject without a valid span.
  const empty: Record<string, string> = {};
  propagator.inject(ROOT_CONTEXT, empty, setter);
  assert.equal(empty, {});
  assert.equal(propagator.fields(), ["traceparent", "tracestate"]);
});

test.run();
