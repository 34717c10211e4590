// The OpenTelemetry SDK as an application sets it up, exporting to the console: each
// span as one line when it ends, and the metrics as one line per data point when
// asked. In production the exporters would be OTLP ones (@opentelemetry/exporter-*-otlp-*)
// and the metric reader a PeriodicExportingMetricReader; the plugin does not change.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { DataPointType, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";

export type Log = (line: string) => void;

/** A span exporter that prints one line per span: name, kind, status, trace and parent, events. */
class ConsoleLineSpanExporter implements SpanExporter {
  constructor(private readonly log: Log) {}

  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    for (const span of spans) {
      const status = span.status.code === SpanStatusCode.ERROR ? `ERROR "${span.status.message}"` : SpanStatusCode[span.status.code];
      const parent = span.parentSpanContext ? ` parent ${span.parentSpanContext.spanId}` : "";
      const events = span.events.map((e) => `${e.name} #${String(e.attributes?.["sequence-number"])}`).join(", ");
      this.log(
        `span ${span.name} (${SpanKind[span.kind]}) ${status} trace ${span.spanContext().traceId.slice(0, 8)}… id ${span.spanContext().spanId}${parent}` +
          (events ? ` [${events}]` : ""),
      );
    }
    done({ code: 0 });
  }

  async shutdown(): Promise<void> {}
}

/** Collects when `printMetrics()` asks (a pull reader), as a Prometheus scrape would. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface ConsoleTelemetry {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  printMetrics(): Promise<void>;
  shutdown(): Promise<void>;
}

export function consoleTelemetry(log: Log): ConsoleTelemetry {
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleLineSpanExporter(log))] });
  return {
    meterProvider,
    tracerProvider,
    async printMetrics() {
      const { resourceMetrics } = await reader.collect();
      for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
        for (const point of metric.dataPoints) {
          const attributes = Object.entries(point.attributes)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(" ");
          const value =
            metric.dataPointType === DataPointType.HISTOGRAM
              ? `count ${(point.value as { count: number; sum?: number }).count} sum ${(point.value as { sum?: number }).sum ?? 0}`
              : `value ${String(point.value)}`;
          log(`metric ${metric.descriptor.name} {${attributes}} ${value} ${metric.descriptor.unit}`);
        }
      }
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}
