// A transparent retry (gRFC A6) is a second attempt: both attempts are counted and
// timed with their own status and bytes, and each has its span, the second marked
// `transparent-retry`. The server is raw node:http2 refusing the first stream.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { insecureChannel } from "../../src/index.js";
import { OpenTelemetryPlugin } from "../../src/observability/index.js";
import { assertNoLeaks } from "../helpers.js";
import { counterValue, histogram, telemetry } from "./otel.js";

const test = suite("observability: a retried call");

function grpcFrame(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([prefix, payload]);
}

test("a stream refused by the server is retried as a second attempt", async () => {
  let streams = 0;
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("error", () => {});
    if (streams++ === 0) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.resume();
    stream.end(grpcFrame(Buffer.from("pong!")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const otel = telemetry();
  const plugin = new OpenTelemetryPlugin({ meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider });
  const channel = insecureChannel(`127.0.0.1:${port}`, { instrumentation: [plugin] });
  const reply = await channel.unaryUnary("/raw.Svc/Ping", { registeredMethod: true })(new Uint8Array([1, 2, 3, 4]));
  assert.is(Buffer.from(reply).toString(), "pong!");
  assert.is(streams, 2);
  await channel.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const all = await otel.metrics();
  const base = { "grpc.method": "raw.Svc/Ping", "grpc.target": `dns:///127.0.0.1:${port}` };
  assert.is(counterValue(all, "grpc.client.attempt.started", base), 2);
  assert.is(histogram(all, "grpc.client.attempt.duration", { ...base, "grpc.status": "UNAVAILABLE" }).count, 1);
  assert.is(histogram(all, "grpc.client.attempt.duration", { ...base, "grpc.status": "OK" }).count, 1);
  // The request went out on both attempts; only the second got a response.
  assert.is(histogram(all, "grpc.client.attempt.sent_total_compressed_message_size", { ...base, "grpc.status": "UNAVAILABLE" }).sum, 4);
  assert.is(histogram(all, "grpc.client.attempt.sent_total_compressed_message_size", { ...base, "grpc.status": "OK" }).sum, 4);
  assert.is(histogram(all, "grpc.client.attempt.rcvd_total_compressed_message_size", { ...base, "grpc.status": "OK" }).sum, 5);
  assert.is(histogram(all, "grpc.client.call.duration", { ...base, "grpc.status": "OK" }).count, 1);

  const spans = otel.spans();
  const attempts = spans.filter((s) => s.name === "Attempt.raw.Svc.Ping");
  const [call] = spans.filter((s) => s.name === "Sent.raw.Svc.Ping");
  assert.equal(
    attempts.map((a) => a.attributes),
    [
      { "previous-rpc-attempts": 0, "transparent-retry": false },
      { "previous-rpc-attempts": 0, "transparent-retry": true },
    ],
  );
  for (const a of attempts) assert.is(a.parentSpanContext?.spanId, call!.spanContext().spanId);
  assert.match(attempts[0]!.status.message ?? "", /^UNAVAILABLE: Transparent retry/);
  await otel.shutdown();
  await assertNoLeaks();
});

test.run();
