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
import type { Channel } from "./channel.js";
import type { CallOptions, MethodSerializers } from "./call-options.js";
import type { StreamStreamCall, StreamUnaryCall, UnaryStreamCall, UnaryUnaryCall } from "./calls.js";
import type {
  StreamStreamMultiCallable,
  StreamUnaryMultiCallable,
  UnaryStreamMultiCallable,
  UnaryUnaryMultiCallable,
} from "./multi-callable.js";

/**
 * A call on a method whose kind is known only at run time (a plain `DescMethod`, such as
 * one from `loadProtos()`): it has the members of all four call kinds, so that it can be
 * awaited, iterated with `for await`, or written to without a cast. Use it as the
 * method's `methodKind` says: iterating a unary call throws a TypeError, and awaiting a
 * streaming call gives back the call itself, not a message.
 */
export type AnyKindCall<Req, Res> = UnaryUnaryCall<Req, Res> &
  UnaryStreamCall<Req, Res> &
  StreamUnaryCall<Req, Res> &
  StreamStreamCall<Req, Res>;

/**
 * Starts a call on a method whose kind is known only at run time: pass one request for
 * a unary or server-streaming method, an (async) iterable of requests or nothing for a
 * client- or bidi-streaming one.
 */
export type AnyKindMultiCallable<Req, Res> = (
  input?: Req | AsyncIterable<Req> | Iterable<Req>,
  options?: CallOptions,
) => AnyKindCall<Req, Res>;

/** The multi-callable for one method of a protoc-gen-es service, typed by its kind. */
export type MethodClient<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? UnaryUnaryMultiCallable<MessageInitShape<I>, MessageShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? UnaryStreamMultiCallable<MessageInitShape<I>, MessageShape<O>>
      : M extends DescMethodClientStreaming<infer I, infer O>
        ? StreamUnaryMultiCallable<MessageInitShape<I>, MessageShape<O>>
        : M extends DescMethodBiDiStreaming<infer I, infer O>
          ? StreamStreamMultiCallable<MessageInitShape<I>, MessageShape<O>>
          : M extends DescMethod
            ? // A plain descriptor (e.g. loaded at run time) has no static kind.
              AnyKindMultiCallable<MessageInitShape<DescMessage>, MessageShape<DescMessage>>
            : never;

/**
 * A typed client: one multi-callable per method, by camelCase name (gRPC Python's
 * `<Service>Stub`); a method named `then` is `then$` (see `memberName()`), and a client
 * never has a `then`, so `await client` gives the client.
 */
export type Client<S extends DescService> = {
  readonly [K in keyof S["method"] as MemberName<K>]: MethodClient<S["method"][K]>;
} & { readonly then?: never };

/**
 * Builds a typed client for a protoc-gen-es service descriptor on `channel`, or for a
 * descriptor loaded at run time (whose methods are `AnyKindMultiCallable`s).
 * Requests may be messages or plain init objects. Methods are keyed by `memberName()`:
 * an RPC `Then` is `client.then$(...)`.
 */
export function createClient<S extends DescService>(service: S, channel: Channel): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    // Defined, not assigned: a method named `__proto__` must not replace the prototype.
    Object.defineProperty(client, memberName(method), {
      value: multiCallable(channel, `/${service.typeName}/${method.name}`, method),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return client as Client<S>;
}

function multiCallable(channel: Channel, path: string, method: DescMethod): unknown {
  const serializers = { ...protobufSerializers(method.input, method.output), registeredMethod: true };
  switch (method.methodKind) {
    case "unary":
      return channel.unaryUnary(path, serializers);
    case "server_streaming":
      return channel.unaryStream(path, serializers);
    case "client_streaming":
      return channel.streamUnary(path, serializers);
    case "bidi_streaming":
      return channel.streamStream(path, serializers);
  }
}

/** Serializers for protobuf-es messages; requests may be init objects. */
export function protobufSerializers<I extends DescMessage, O extends DescMessage>(
  input: I,
  output: O,
): Required<Omit<MethodSerializers<MessageInitShape<I>, MessageShape<O>>, "registeredMethod">> {
  const encode = protobufEncoder(input);
  return {
    requestSerializer: (request) => encode(isMessage(request, input) ? request : create(input, request)),
    responseDeserializer: protobufDecoder(output),
  };
}
