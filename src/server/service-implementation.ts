import { create, isMessage } from "@bufbuild/protobuf";
import type {
  DescMessage,
  DescMethod,
  DescMethodBiDiStreaming,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { memberName, protobufDecoder, protobufEncoder, type MemberName } from "../wire/index.js";
import type { RpcMethodHandler, StreamResult, UnaryResult } from "./method-handlers.js";
import type { ServicerContext } from "./servicer-context.js";

/** The handler a servicer provides for one method, typed by its kind. */
export type MethodImplementation<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageShape<I>, context: ServicerContext<MessageShape<I>, MessageInitShape<O>>) => UnaryResult<MessageInitShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageShape<I>, context: ServicerContext<MessageShape<I>, MessageInitShape<O>>) => StreamResult<MessageInitShape<O>>
      : M extends DescMethodClientStreaming<infer I, infer O>
        ? (requests: AsyncIterable<MessageShape<I>>, context: ServicerContext<MessageShape<I>, MessageInitShape<O>>) => UnaryResult<MessageInitShape<O>>
        : M extends DescMethodBiDiStreaming<infer I, infer O>
          ? (requests: AsyncIterable<MessageShape<I>>, context: ServicerContext<MessageShape<I>, MessageInitShape<O>>) => StreamResult<MessageInitShape<O>>
          : M extends DescMethod
            ? // A plain descriptor (e.g. loaded at run time) has no static kind.
              (input: never, context: ServicerContext<MessageShape<DescMessage>, MessageInitShape<DescMessage>>) => unknown
            : never;

/**
 * A servicer for a protoc-gen-es service (gRPC Python's `<Service>Servicer`): one
 * handler per method, keyed by its camelCase local name as on the client (a method
 * named `then` is `then$`, so that a servicer is never a thenable). Missing methods
 * answer UNIMPLEMENTED.
 */
// NoInfer: `S` comes from the descriptor only; inferring it from the handlers too (through
// the renaming mapped type) would cost the handlers their contextual parameter types.
export type ServiceImplementation<S extends DescService> = NoInfer<{
  [K in keyof S["method"] as MemberName<K>]?: MethodImplementation<S["method"][K]>;
}>;

type AnyBehavior = (this: unknown, input: unknown, context: ServicerContext) => unknown;

/** The method handlers of `service` served by `implementation`, keyed by method name. */
export function handlersForService(service: DescService, implementation: object): Record<string, RpcMethodHandler> {
  const handlers: Record<string, RpcMethodHandler> = {};
  const impl = implementation as Record<string, AnyBehavior | undefined>;
  for (const method of service.methods) {
    const name = memberName(method);
    const fn = impl[name] ?? impl[method.name];
    if (typeof fn !== "function") {
      if (name !== method.localName && typeof impl[method.localName] === "function") {
        throw new TypeError(`${service.typeName}.${method.name}: name its handler "${name}", not "${method.localName}" (a servicer must not be a thenable)`);
      }
      continue;
    }
    handlers[method.name] = handlerFor(method, (input, context) => fn.call(implementation, input, context));
  }
  return handlers;
}

function handlerFor(method: DescMethod, behavior: (input: unknown, context: ServicerContext) => unknown): RpcMethodHandler {
  const input = method.input;
  const output = method.output;
  const requestDeserializer = protobufDecoder(input);
  const encode = protobufEncoder(output);
  const responseSerializer = (response: unknown): Uint8Array => encode(toMessage(output, response));
  return {
    kind: method.methodKind,
    behavior,
    requestDeserializer,
    responseSerializer,
  } as RpcMethodHandler;
}

function toMessage(schema: DescMessage, value: unknown): MessageShape<DescMessage> {
  if (isMessage(value, schema)) return value;
  return create(schema, value as MessageInitShape<DescMessage>);
}
