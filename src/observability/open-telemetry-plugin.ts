import type { MeterProvider, TextMapPropagator, TracerProvider } from "@opentelemetry/api";
import {
  registerInstrumentation,
  VERSION,
  type ChannelInfo,
  type ChannelObserver,
  type InstrumentationPlugin,
  type ServerInfo,
  type ServerObserver,
} from "async-grpc";
import type { PluginState } from "./call-tracing.js";
import { ClientCallTracer } from "./client-call-tracer.js";
import { createInstruments } from "./metrics.js";
import { ServerCallTracer } from "./server-call-tracer.js";
import { W3CTraceContextPropagator } from "./trace-context.js";

/** The name of the meter and the tracer (A66: the library's name; its version is the package's). */
export const INSTRUMENTATION_SCOPE = "async-grpc";

/** Options of `OpenTelemetryPlugin` (gRPC Python `grpc_observability.OpenTelemetryPlugin`'s keyword arguments). */
export interface OpenTelemetryPluginOptions {
  /**
   * Where the gRFC A66 metrics go. Without one no metrics are recorded: as A66 asks,
   * the global MeterProvider is not used in its place.
   */
  meterProvider?: MeterProvider;
  /** Where the gRFC A72 spans go. Without one no spans are made. */
  tracerProvider?: TracerProvider;
  /**
   * How span contexts travel in request metadata; W3C Trace Context (`traceparent`,
   * `tracestate`) unless given (OpenTelemetry's `propagation` API object works too).
   */
  propagator?: TextMapPropagator;
  /**
   * Called once per channel with its canonical target ("dns:///example.com:443"):
   * false records `grpc.target` as "other", to bound cardinality when targets are IP
   * addresses (gRPC Python `target_attribute_filter`).
   */
  targetAttributeFilter?: (target: string) => boolean;
  /**
   * Called per call for a method that was not registered (a bare path on the client, a
   * generic handler's on the server): true records its name in `grpc.method`, false (and
   * the default) records "other" (gRPC Python `generic_method_attribute_filter`).
   */
  genericMethodAttributeFilter?: (method: string) => boolean;
}

/**
 * OpenTelemetry metrics (gRFC A66) and tracing (gRFC A72) for channels and servers
 * (gRPC Python `grpc_observability.OpenTelemetryPlugin`). `registerGlobal()` observes
 * every channel and server made afterwards; or give the plugin to one channel or server
 * (`instrumentation: [plugin]` in their config).
 */
export class OpenTelemetryPlugin implements InstrumentationPlugin {
  private readonly state: PluginState | undefined;
  private readonly targetFilter: ((target: string) => boolean) | undefined;
  private unregister: (() => void) | undefined;

  constructor(options: OpenTelemetryPluginOptions = {}) {
    const { meterProvider, tracerProvider } = options;
    this.targetFilter = options.targetAttributeFilter;
    // Neither provider: the plugin observes nothing, and so costs nothing.
    if (meterProvider === undefined && tracerProvider === undefined) return;
    this.state = {
      instruments: meterProvider && createInstruments(meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION)),
      tracer: tracerProvider?.getTracer(INSTRUMENTATION_SCOPE, VERSION),
      propagator: options.propagator ?? new W3CTraceContextPropagator(),
      genericMethodAttributeFilter: options.genericMethodAttributeFilter,
    };
  }

  /** Observes every channel and server made from now on (gRPC Python `register_global()`); calling it twice is harmless. */
  registerGlobal(): void {
    this.unregister ??= registerInstrumentation(this);
  }

  /** Stops observing channels and servers made from now on (gRPC Python `deregister_global()`); those made before keep reporting. */
  deregisterGlobal(): void {
    this.unregister?.();
    this.unregister = undefined;
  }

  /** True between `registerGlobal()` and `deregisterGlobal()`. */
  get registered(): boolean {
    return this.unregister !== undefined;
  }

  /** @internal InstrumentationPlugin: a channel is made. */
  onChannel(info: ChannelInfo): ChannelObserver | undefined {
    const state = this.state;
    if (state === undefined) return undefined;
    const canonical = canonicalTarget(info.target);
    const target = this.targetFilter === undefined || this.targetFilter(canonical) ? canonical : "other";
    return { onCallStarted: (method, registered) => new ClientCallTracer(state, target, method, registered) };
  }

  /** @internal InstrumentationPlugin: a server binds its first port. */
  onServer(_info: ServerInfo): ServerObserver | undefined {
    const state = this.state;
    if (state === undefined) return undefined;
    return { onCallStarted: (method, _connection, call) => new ServerCallTracer(state, method, call) };
  }
}

const SCHEMES = ["dns", "ipv4", "ipv6", "unix", "unix-abstract"];

/**
 * A66's canonical target: the target as given when it names a scheme the channel
 * knows, else with the default "dns:///" in front ("localhost:50051" is host and port,
 * not a "localhost" scheme).
 */
export function canonicalTarget(target: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(target);
  if (m !== null && SCHEMES.includes(m[1]!.toLowerCase())) return target;
  return `dns:///${target}`;
}
