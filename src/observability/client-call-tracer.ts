// One client call as gRFC A66 and A72 see it: a call (duration, "Sent." span) made of
// attempts (started, duration, bytes each way, "Attempt." span carrying the message
// events, whose context goes out in the attempt's request headers).
import { context, ROOT_CONTEXT, SpanKind, trace, type Attributes, type Span, type TextMapSetter } from "@opentelemetry/api";
import type { CallObserver, StatusCode } from "async-grpc";
import { endSpan, MessageEvents, methodAttribute, spanMethod, statusName, type PluginState } from "./call-tracing.js";
import { METHOD_KEY, STATUS_KEY, TARGET_KEY } from "./metrics.js";

type Set = (key: string, value: string) => void;
const SETTER: TextMapSetter<Set> = { set: (set, key, value) => set(key, value) };

class Attempt {
  readonly start = performance.now();
  sentBytes = 0;
  receivedBytes = 0;
  constructor(
    readonly span: Span | undefined,
    readonly events: MessageEvents | undefined,
  ) {}
}

/** The observer of one client call for one OpenTelemetry plugin. */
export class ClientCallTracer implements CallObserver {
  private readonly start = performance.now();
  private readonly attributes: Attributes;
  private readonly span: Span | undefined;
  private attempt: Attempt | undefined;
  /** Attempts that were not transparent retries (A72's `previous-rpc-attempts` counts those). */
  private retries = 0;

  constructor(
    private readonly state: PluginState,
    target: string,
    private readonly path: string,
    registered: boolean,
  ) {
    this.attributes = { [METHOD_KEY]: methodAttribute(state, path, registered), [TARGET_KEY]: target };
    // The caller's active span (if any) is the parent: the call starts synchronously in its context.
    this.span = state.tracer?.startSpan(`Sent.${spanMethod(path)}`, { kind: SpanKind.CLIENT }, context.active());
  }

  onAttemptStarted(transparentRetry: boolean): void {
    if (!transparentRetry) this.retries++;
    this.state.instruments?.clientAttemptStarted.add(1, this.attributes);
    const tracer = this.state.tracer;
    let span: Span | undefined;
    if (tracer !== undefined) {
      span = tracer.startSpan(
        `Attempt.${spanMethod(this.path)}`,
        { kind: SpanKind.INTERNAL, attributes: { "previous-rpc-attempts": this.retries - 1, "transparent-retry": transparentRetry } },
        trace.setSpan(ROOT_CONTEXT, this.span!),
      );
    }
    this.attempt = new Attempt(span, span && new MessageEvents(span));
  }

  onSendHeaders(set: Set): void {
    const span = this.attempt?.span;
    if (span !== undefined) this.state.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), set, SETTER);
  }

  onMessageSent(bytes: number, compressed: boolean): void {
    const attempt = this.attempt;
    if (attempt === undefined) return;
    attempt.sentBytes += bytes;
    attempt.events?.onSent(bytes, compressed);
  }

  onMessageReceived(bytes: number, compressed: boolean): void {
    const attempt = this.attempt;
    if (attempt === undefined) return;
    attempt.receivedBytes += bytes;
    attempt.events?.onReceived(bytes, compressed);
  }

  onAttemptEnded(code: StatusCode, details: string): void {
    this.endAttempt(code, details);
  }

  onEnd(code: StatusCode, details: string): void {
    this.endAttempt(code, details);
    const instruments = this.state.instruments;
    if (instruments !== undefined) {
      instruments.clientCallDuration.record((performance.now() - this.start) / 1000, { ...this.attributes, [STATUS_KEY]: statusName(code) });
    }
    if (this.span !== undefined) endSpan(this.span, code, details);
  }

  private endAttempt(code: StatusCode, details: string): void {
    const attempt = this.attempt;
    if (attempt === undefined) return;
    this.attempt = undefined;
    const instruments = this.state.instruments;
    if (instruments !== undefined) {
      const attributes = { ...this.attributes, [STATUS_KEY]: statusName(code) };
      instruments.clientAttemptDuration.record((performance.now() - attempt.start) / 1000, attributes);
      instruments.clientAttemptSentTotalCompressedMessageSize.record(attempt.sentBytes, attributes);
      instruments.clientAttemptRcvdTotalCompressedMessageSize.record(attempt.receivedBytes, attributes);
    }
    if (attempt.span !== undefined) endSpan(attempt.span, code, details);
  }
}
