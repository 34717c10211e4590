// `async-grpc-otel`: the OpenTelemetryPlugin of async-grpc/observability registered
// for every channel and server of the process, with metrics and tracing going to the
// OpenTelemetry SDK as an application would set it up. Nothing is exported: the
// figure is what recording costs on the call path, not what an exporter costs.
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { OpenTelemetryPlugin } from "../src/observability/index.js";

class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

let registered = false;

/** Registers the plugin once per process. */
export function registerOpenTelemetry(): void {
  if (registered) return;
  registered = true;
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  // Every span sampled and ended (the SDK's default sampler); no processor exports them.
  const tracerProvider = new BasicTracerProvider();
  new OpenTelemetryPlugin({ meterProvider, tracerProvider }).registerGlobal();
}
