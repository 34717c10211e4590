import { create, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
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
import type { Channel } from "./channel.js";
import type { MethodSerializers } from "./call-options.js";
import type {
  StreamStreamMultiCallable,
  StreamUnaryMultiCallable,
  UnaryStreamMultiCallable,
  UnaryUnaryMultiCallable,
} from "./multi-callable.js";

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
            ? // A plain descriptor (e.g. loaded at run time) has no static kind: any shape goes.
              UnaryUnaryMultiCallable<MessageInitShape<DescMessage>, MessageShape<DescMessage>> &
                UnaryStreamMultiCallable<MessageInitShape<DescMessage>, MessageShape<DescMessage>> &
                StreamUnaryMultiCallable<MessageInitShape<DescMessage>, MessageShape<DescMessage>> &
                StreamStreamMultiCallable<MessageInitShape<DescMessage>, MessageShape<DescMessage>>
            : never;

/** A typed client: one multi-callable per method, by camelCase name (gRPC Python's `<Service>Stub`). */
export type Client<S extends DescService> = {
  readonly [K in keyof S["method"]]: MethodClient<S["method"][K]>;
};

/**
 * Builds a typed client for a protoc-gen-es service descriptor on `channel`.
 * Requests may be messages or plain init objects.
 */
export function createClient<S extends DescService>(service: S, channel: Channel): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    client[method.localName] = multiCallable(channel, `/${service.typeName}/${method.name}`, method);
  }
  return client as Client<S>;
}

function multiCallable(channel: Channel, path: string, method: DescMethod): unknown {
  const serializers = protobufSerializers(method.input, method.output);
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
): Required<MethodSerializers<MessageInitShape<I>, MessageShape<O>>> {
  return {
    requestSerializer: (request) => toBinary(input, isMessage(request, input) ? request : create(input, request)),
    responseDeserializer: (bytes) => fromBinary(output, bytes),
  };
}
