// The OpenTelemetry SDK as an application would set it up, with in-memory exporters,
// and queries over what it recorded.
import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, type Attributes, type Context, type ContextManager } from "@opentelemetry/api";
import { DataPointType, MeterProvider, MetricReader, type MetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import * as assert from "uvu/assert";

/** A reader the test collects from when it wants (the SDK's pull model, no exporter timer). */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface Telemetry {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  /** Every metric recorded so far (cumulative). */
  metrics(): Promise<MetricData[]>;
  /** Every span ended so far. */
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function telemetry(): Telemetry {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return {
    meterProvider,
    tracerProvider,
    async metrics() {
      const { resourceMetrics, errors } = await reader.collect();
      assert.equal(errors, []);
      return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    },
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

export function metric(all: MetricData[], name: string): MetricData {
  const m = all.find((x) => x.descriptor.name === name);
  assert.ok(m, `no metric ${name} among ${all.map((x) => x.descriptor.name).join(", ")}`);
  return m!;
}

function matches(attributes: Attributes, want: Attributes): boolean {
  return Object.keys(want).length === Object.keys(attributes).length && Object.entries(want).every(([k, v]) => attributes[k] === v);
}

/** The value of a counter for exactly these attributes (0 if none). */
export function counterValue(all: MetricData[], name: string, attributes: Attributes): number {
  const m = metric(all, name);
  assert.is(m.dataPointType, DataPointType.SUM, `${name} is a counter`);
  const point = m.dataPoints.find((p) => matches(p.attributes, attributes));
  return point === undefined ? 0 : (point.value as number);
}

/** Count, sum and bucket boundaries of a histogram for exactly these attributes. */
export function histogram(all: MetricData[], name: string, attributes: Attributes): { count: number; sum: number; boundaries: number[] } {
  const m = metric(all, name);
  assert.is(m.dataPointType, DataPointType.HISTOGRAM, `${name} is a histogram`);
  if (m.dataPointType !== DataPointType.HISTOGRAM) throw new Error("unreachable");
  const point = m.dataPoints.find((p) => matches(p.attributes, attributes));
  if (point === undefined) return { count: 0, sum: 0, boundaries: [] };
  return { count: point.value.count, sum: point.value.sum ?? 0, boundaries: point.value.buckets.boundaries };
}

/** Every attribute set a metric has data for, as JSON lines (for failure messages and exact checks). */
export function attributeSets(all: MetricData[], name: string): string[] {
  return metric(all, name)
    .dataPoints.map((p) => JSON.stringify(p.attributes))
    .sort();
}

/**
 * A context manager on AsyncLocalStorage, as an application registers one
 * (@opentelemetry/context-async-hooks'): the active span follows async work.
 */
export class AsyncLocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(context, () => fn.apply(thisArg, args));
  }

  bind<T>(_context: Context, target: T): T {
    return target;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}
