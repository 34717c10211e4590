// One server call as gRFC A66 and A72 see it: started, duration, bytes each way, and a
// "Recv." span whose parent is the context the client sent in the request metadata.
import { context, ROOT_CONTEXT, SpanKind, trace, type Attributes, type Context, type Span, type TextMapGetter } from "@opentelemetry/api";
import type { CallObserver, ServerCallInfo, StatusCode } from "async-grpc";
import { endSpan, MessageEvents, methodAttribute, spanMethod, statusName, type PluginState } from "./call-tracing.js";
import { METHOD_KEY, STATUS_KEY } from "./metrics.js";

const GETTER: TextMapGetter<ServerCallInfo> = {
  get: (call, key) => call.header(key),
  // Propagators that list the carrier's keys (baggage, jaeger) are not supported: the
  // server does not copy the request headers for them.
  keys: () => [],
};

/** The observer of one server call for one OpenTelemetry plugin. */
export class ServerCallTracer implements CallObserver {
  private readonly start = performance.now();
  private readonly attributes: Attributes;
  private readonly span: Span | undefined;
  private readonly events: MessageEvents | undefined;
  private readonly context: Context | undefined;
  private sentBytes = 0;
  private receivedBytes = 0;

  constructor(
    private readonly state: PluginState,
    path: string,
    call: ServerCallInfo,
  ) {
    this.attributes = { [METHOD_KEY]: methodAttribute(state, path, call.registered) };
    state.instruments?.serverCallStarted.add(1, this.attributes);
    const tracer = state.tracer;
    if (tracer !== undefined) {
      const parent = state.propagator.extract(ROOT_CONTEXT, call, GETTER);
      this.span = tracer.startSpan(`Recv.${spanMethod(path)}`, { kind: SpanKind.SERVER }, parent);
      this.events = new MessageEvents(this.span);
      this.context = trace.setSpan(parent, this.span);
    }
  }

  runHandler(invoke: () => void): void {
    // With the application's context manager (AsyncLocalStorage), the handler and what it
    // awaits see the server span as active: its own spans and outgoing calls are children.
    if (this.context === undefined) invoke();
    else context.with(this.context, invoke);
  }

  onMessageSent(bytes: number, compressed: boolean): void {
    this.sentBytes += bytes;
    this.events?.onSent(bytes, compressed);
  }

  onMessageReceived(bytes: number, compressed: boolean): void {
    this.receivedBytes += bytes;
    this.events?.onReceived(bytes, compressed);
  }

  onEnd(code: StatusCode, details: string): void {
    const instruments = this.state.instruments;
    if (instruments !== undefined) {
      const attributes = { ...this.attributes, [STATUS_KEY]: statusName(code) };
      instruments.serverCallDuration.record((performance.now() - this.start) / 1000, attributes);
      instruments.serverCallSentTotalCompressedMessageSize.record(this.sentBytes, attributes);
      instruments.serverCallRcvdTotalCompressedMessageSize.record(this.receivedBytes, attributes);
    }
    if (this.span !== undefined) endSpan(this.span, code, details);
  }
}
