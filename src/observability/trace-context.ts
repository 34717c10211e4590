// W3C Trace Context (`traceparent`, `tracestate`), the propagator the plugin uses
// unless it is given another: written here so that the package needs only
// @opentelemetry/api, not @opentelemetry/core.
import {
  createTraceState,
  isSpanContextValid,
  trace,
  TraceFlags,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from "@opentelemetry/api";

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";
// version-traceid-parentid-flags; a later version may append fields after a dash.
const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The W3C Trace Context propagator (OpenTelemetry's `W3CTraceContextPropagator`): the
 * span context travels in `traceparent` and `tracestate` request metadata.
 */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(context);
    if (span === undefined || !isSpanContextValid(span)) return;
    const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, "0");
    setter.set(carrier, TRACEPARENT, `00-${span.traceId}-${span.spanId}-${flags}`);
    const state = span.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE, state);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = joined(getter.get(carrier, TRACEPARENT));
    if (header === undefined) return context;
    const m = TRACEPARENT_PATTERN.exec(header.trim());
    if (m === null) return context;
    const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
    // Version ff is invalid; version 00 has exactly four fields.
    if (version === "ff" || (version === "00" && rest !== undefined)) return context;
    const spanContext = { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
    if (!isSpanContextValid(spanContext)) return context;
    const state = joined(getter.get(carrier, TRACESTATE));
    return trace.setSpanContext(context, state ? { ...spanContext, traceState: createTraceState(state) } : spanContext);
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}
