// async-grpc/observability: OpenTelemetry metrics (gRFC A66) and tracing (gRFC A72) for
// channels and servers (gRPC Python's `grpc_observability` package), built on the core's
// instrumentation seam and on @opentelemetry/api alone (a peer dependency): the
// application brings the SDK, its exporters and views.
export { OpenTelemetryPlugin, canonicalTarget, INSTRUMENTATION_SCOPE, type OpenTelemetryPluginOptions } from "./open-telemetry-plugin.js";
export { W3CTraceContextPropagator } from "./trace-context.js";
export { LATENCY_BUCKETS, SIZE_BUCKETS, METHOD_KEY, STATUS_KEY, TARGET_KEY } from "./metrics.js";
