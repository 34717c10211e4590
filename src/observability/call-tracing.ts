// What the client and server tracers share: span names, message events and the span
// status of gRFC A72, and the state a plugin hands to each call.
import { SpanStatusCode, type Attributes, type Span, type TextMapPropagator, type Tracer } from "@opentelemetry/api";
import { StatusCode } from "async-grpc";
import type { GrpcInstruments } from "./metrics.js";

/** What a call's tracer needs from its plugin. */
export interface PluginState {
  readonly instruments: GrpcInstruments | undefined;
  readonly tracer: Tracer | undefined;
  readonly propagator: TextMapPropagator;
  readonly genericMethodAttributeFilter: ((method: string) => boolean) | undefined;
}

/** The `grpc.method` attribute: the method's name if it is registered or the filter keeps it, else "other" (A66). */
export function methodAttribute(state: PluginState, path: string, registered: boolean): string {
  const method = path.startsWith("/") ? path.slice(1) : path;
  if (registered) return method;
  const filter = state.genericMethodAttributeFilter;
  return filter !== undefined && filter(method) ? method : "other";
}

/** A72's span name suffix: the path without its leading "/", with "/" as ".". */
export function spanMethod(path: string): string {
  return (path.startsWith("/") ? path.slice(1) : path).replace(/\//g, ".");
}

/** `grpc.status`: the code's canonical name ("OK", "DEADLINE_EXCEEDED"). */
export function statusName(code: StatusCode): string {
  return StatusCode[code] ?? "UNKNOWN";
}

/** Ends `span` with the call's status, as gRPC's OpenTelemetry plugins do: OK, or ERROR with "CODE: details". */
export function endSpan(span: Span, code: StatusCode, details: string): void {
  if (code === StatusCode.OK) span.setStatus({ code: SpanStatusCode.OK });
  else span.setStatus({ code: SpanStatusCode.ERROR, message: details === "" ? statusName(code) : `${statusName(code)}: ${details}` });
  span.end();
}

/**
 * A72's message events on one span, numbered from 0 per direction. Sizes are as on
 * the wire: a compressed message's event names its compressed size only.
 */
export class MessageEvents {
  private sent = 0;
  private received = 0;

  constructor(private readonly span: Span) {}

  onSent(bytes: number, compressed: boolean): void {
    this.span.addEvent(compressed ? "Outbound message compressed" : "Outbound message", event(this.sent++, bytes, compressed));
  }

  onReceived(bytes: number, compressed: boolean): void {
    this.span.addEvent(compressed ? "Inbound compressed message" : "Inbound message", event(this.received++, bytes, compressed));
  }
}

function event(sequence: number, bytes: number, compressed: boolean): Attributes {
  return { "sequence-number": sequence, [compressed ? "message-size-compressed" : "message-size"]: bytes };
}
