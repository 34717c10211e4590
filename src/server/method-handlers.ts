import type { AuthContext } from "../credentials/index.js";
import type { Metadata } from "../wire/index.js";
import type { ServicerContext } from "./servicer-context.js";

/** A unary or client-streaming handler's result: the response (or its init shape). */
export type UnaryResult<Res> = Res | Promise<Res>;
/** A streaming handler's result: an (async) iterable of responses, or nothing when it used `context.write()`. */
export type StreamResult<Res> = AsyncIterable<Res> | Iterable<Res> | Promise<void> | void;

export type UnaryUnaryBehavior<Req, Res> = (request: Req, context: ServicerContext<Req, Res>) => UnaryResult<Res>;
export type UnaryStreamBehavior<Req, Res> = (request: Req, context: ServicerContext<Req, Res>) => StreamResult<Res>;
export type StreamUnaryBehavior<Req, Res> = (requests: AsyncIterable<Req>, context: ServicerContext<Req, Res>) => UnaryResult<Res>;
export type StreamStreamBehavior<Req, Res> = (requests: AsyncIterable<Req>, context: ServicerContext<Req, Res>) => StreamResult<Res>;

// Method syntax (not function-typed properties) keeps parameters bivariant, so a
// handler for concrete message types is assignable to RpcMethodHandler<unknown, unknown>.
interface Serializers<Req, Res> {
  requestDeserializer(bytes: Uint8Array): Req;
  responseSerializer(response: Res): Uint8Array;
}

/** How to serve one method (gRPC Python `grpc.RpcMethodHandler`); `kind` names the call kind. */
export type RpcMethodHandler<Req = unknown, Res = unknown> =
  | ({ kind: "unary"; behavior(request: Req, context: ServicerContext<Req, Res>): UnaryResult<Res> } & Serializers<Req, Res>)
  | ({ kind: "server_streaming"; behavior(request: Req, context: ServicerContext<Req, Res>): StreamResult<Res> } & Serializers<Req, Res>)
  | ({ kind: "client_streaming"; behavior(requests: AsyncIterable<Req>, context: ServicerContext<Req, Res>): UnaryResult<Res> } & Serializers<Req, Res>)
  | ({ kind: "bidi_streaming"; behavior(requests: AsyncIterable<Req>, context: ServicerContext<Req, Res>): StreamResult<Res> } & Serializers<Req, Res>);

/** Describes an incoming call to a generic handler (gRPC Python `grpc.HandlerCallDetails`). */
export interface HandlerCallDetails {
  readonly method: string;
  readonly invocationMetadata: Metadata;
  /**
   * What the server verified about the connection (see `ServicerContext.authContext()`),
   * for interceptors that authorize calls; gRPC Python's details do not carry it.
   */
  readonly authContext?: AuthContext;
}

/** Finds the handler for a call, or undefined (gRPC Python `grpc.GenericRpcHandler`). */
export interface GenericRpcHandler {
  service(details: HandlerCallDetails): RpcMethodHandler | undefined;
}

/** Optional serializers of the `*RpcMethodHandler` factories; both default to raw bytes. */
export interface HandlerSerializers<Req, Res> {
  requestDeserializer?: (bytes: Uint8Array) => Req;
  responseSerializer?: (response: Res) => Uint8Array;
}

const raw = (bytes: Uint8Array): Uint8Array => bytes;

function serializers<Req, Res>(s: HandlerSerializers<Req, Res> | undefined): Serializers<Req, Res> {
  return {
    requestDeserializer: s?.requestDeserializer ?? (raw as unknown as (b: Uint8Array) => Req),
    responseSerializer: s?.responseSerializer ?? (raw as unknown as (r: Res) => Uint8Array),
  };
}

/** gRPC Python `grpc.unary_unary_rpc_method_handler()`. */
export function unaryUnaryRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: UnaryUnaryBehavior<Req, Res>,
  options?: HandlerSerializers<Req, Res>,
): RpcMethodHandler<Req, Res> {
  return { kind: "unary", behavior, ...serializers(options) };
}

/** gRPC Python `grpc.unary_stream_rpc_method_handler()`. */
export function unaryStreamRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: UnaryStreamBehavior<Req, Res>,
  options?: HandlerSerializers<Req, Res>,
): RpcMethodHandler<Req, Res> {
  return { kind: "server_streaming", behavior, ...serializers(options) };
}

/** gRPC Python `grpc.stream_unary_rpc_method_handler()`. */
export function streamUnaryRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: StreamUnaryBehavior<Req, Res>,
  options?: HandlerSerializers<Req, Res>,
): RpcMethodHandler<Req, Res> {
  return { kind: "client_streaming", behavior, ...serializers(options) };
}

/** gRPC Python `grpc.stream_stream_rpc_method_handler()`. */
export function streamStreamRpcMethodHandler<Req = Uint8Array, Res = Uint8Array>(
  behavior: StreamStreamBehavior<Req, Res>,
  options?: HandlerSerializers<Req, Res>,
): RpcMethodHandler<Req, Res> {
  return { kind: "bidi_streaming", behavior, ...serializers(options) };
}

/**
 * The handlers of one service, by method name (gRPC Python
 * `grpc.method_handlers_generic_handler()`). The server recognises it and
 * registers its methods in its own table, so lookups cost one map access.
 */
export class MethodHandlersGenericHandler implements GenericRpcHandler {
  /** Full method path ("/pkg.Service/Method") to handler. */
  readonly handlers: ReadonlyMap<string, RpcMethodHandler>;

  constructor(
    readonly serviceName: string,
    methodHandlers: Readonly<Record<string, RpcMethodHandler>>,
  ) {
    const map = new Map<string, RpcMethodHandler>();
    for (const [name, handler] of Object.entries(methodHandlers)) {
      map.set(`/${serviceName}/${name}`, handler);
    }
    this.handlers = map;
  }

  service(details: HandlerCallDetails): RpcMethodHandler | undefined {
    return this.handlers.get(details.method);
  }
}

/** gRPC Python `grpc.method_handlers_generic_handler(service, method_handlers)`. */
export function methodHandlersGenericHandler(
  service: string,
  methodHandlers: Readonly<Record<string, RpcMethodHandler>>,
): MethodHandlersGenericHandler {
  return new MethodHandlersGenericHandler(service, methodHandlers);
}
