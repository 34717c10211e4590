// The instruments of gRFC A66 ("OpenTelemetry Metrics"): names, types, units and the
// default bucket boundaries exactly as the gRFC gives them.
import { ValueType, type Counter, type Histogram, type Meter } from "@opentelemetry/api";

/** A66's latency buckets, in seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013, 0.016, 0.02, 0.025,
  0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10, 20, 50, 100,
];

/** A66's size buckets, in bytes. */
export const SIZE_BUCKETS: readonly number[] = [
  0, 1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296,
];

/** The attribute keys of A66. */
export const METHOD_KEY = "grpc.method";
export const STATUS_KEY = "grpc.status";
export const TARGET_KEY = "grpc.target";

/** The A66 instruments, made once per plugin from its meter. */
export interface GrpcInstruments {
  readonly clientAttemptStarted: Counter;
  readonly clientAttemptDuration: Histogram;
  readonly clientAttemptSentTotalCompressedMessageSize: Histogram;
  readonly clientAttemptRcvdTotalCompressedMessageSize: Histogram;
  readonly clientCallDuration: Histogram;
  readonly serverCallStarted: Counter;
  readonly serverCallDuration: Histogram;
  readonly serverCallSentTotalCompressedMessageSize: Histogram;
  readonly serverCallRcvdTotalCompressedMessageSize: Histogram;
}

export function createInstruments(meter: Meter): GrpcInstruments {
  // The buckets go as the API's advice: an SDK view set by the user still wins (A66).
  const latency = (name: string, description: string) =>
    meter.createHistogram(name, { description, unit: "s", valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS] } });
  const size = (name: string, description: string) =>
    meter.createHistogram(name, { description, unit: "By", valueType: ValueType.INT, advice: { explicitBucketBoundaries: [...SIZE_BUCKETS] } });
  return {
    clientAttemptStarted: meter.createCounter("grpc.client.attempt.started", {
      description: "Number of client call attempts started.",
      unit: "{attempt}",
      valueType: ValueType.INT,
    }),
    clientAttemptDuration: latency("grpc.client.attempt.duration", "End-to-end time taken to complete a client call attempt."),
    clientAttemptSentTotalCompressedMessageSize: size(
      "grpc.client.attempt.sent_total_compressed_message_size",
      "Compressed message bytes sent per client call attempt.",
    ),
    clientAttemptRcvdTotalCompressedMessageSize: size(
      "grpc.client.attempt.rcvd_total_compressed_message_size",
      "Compressed message bytes received per call attempt.",
    ),
    clientCallDuration: latency("grpc.client.call.duration", "Time taken by gRPC to complete an RPC from application's perspective."),
    serverCallStarted: meter.createCounter("grpc.server.call.started", {
      description: "Number of server calls started.",
      unit: "{call}",
      valueType: ValueType.INT,
    }),
    serverCallDuration: latency("grpc.server.call.duration", "End-to-end time taken to complete a call from server transport's perspective."),
    serverCallSentTotalCompressedMessageSize: size("grpc.server.call.sent_total_compressed_message_size", "Compressed message bytes sent per server call."),
    serverCallRcvdTotalCompressedMessageSize: size("grpc.server.call.rcvd_total_compressed_message_size", "Compressed message bytes received per server call."),
  };
}
