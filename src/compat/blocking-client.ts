import type {
  DescMethod,
  DescMethodBiDiStreaming,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { memberName, protobufSerializers, type ChannelCredentials, type MemberName } from "../index.js";
import { BlockingChannel, type BlockingChannelOptions } from "./blocking-channel.js";
import type {
  BlockingStreamStreamMultiCallable,
  BlockingStreamUnaryMultiCallable,
  BlockingUnaryStreamMultiCallable,
  BlockingUnaryUnaryMultiCallable,
} from "./blocking-calls.js";

/** The blocking multi-callable for one method of a protoc-gen-es service, typed by its kind. */
export type BlockingMethodClient<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? BlockingUnaryUnaryMultiCallable<MessageInitShape<I>, MessageShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? BlockingUnaryStreamMultiCallable<MessageInitShape<I>, MessageShape<O>>
      : M extends DescMethodClientStreaming<infer I, infer O>
        ? BlockingStreamUnaryMultiCallable<MessageInitShape<I>, MessageShape<O>>
        : M extends DescMethodBiDiStreaming<infer I, infer O>
          ? BlockingStreamStreamMultiCallable<MessageInitShape<I>, MessageShape<O>>
          : never;

/** The RPC methods of a blocking client, by the same names as `createClient()` gives them. */
export type BlockingMethods<S extends DescService> = {
  readonly [K in keyof S["method"] as MemberName<K>]: BlockingMethodClient<S["method"][K]>;
};

/**
 * A blocking client made by `createBlockingClient()`: its RPC methods, `close()` (unless
 * an RPC is named `close`; `Symbol.dispose` always closes) and its `channel`.
 */
export type BlockingClient<S extends DescService> = BlockingMethods<S> & {
  readonly channel: BlockingChannel;
  [Symbol.dispose](): void;
} & ("close" extends keyof BlockingMethods<S> ? unknown : { close(): void });

/**
 * A client whose calls block the calling thread (gRPC Python's `<Service>Stub` on a
 * synchronous channel): `client.getFeature(point)` returns the Feature. It owns a
 * `BlockingChannel` to `target` (TLS with `credentials`), that is, a worker thread
 * running the async core; `close()` ends it, and an unclosed client does not keep the
 * process alive.
 */
export function createBlockingClient<S extends DescService>(
  service: S,
  target: string,
  credentials?: ChannelCredentials,
  options?: BlockingChannelOptions,
): BlockingClient<S> {
  const channel = new BlockingChannel(target, credentials, options);
  const client = blockingMethods(service, channel) as Record<string | symbol, unknown>;
  const close = () => channel.close();
  Object.defineProperty(client, Symbol.dispose, { value: close });
  if (!("channel" in client)) Object.defineProperty(client, "channel", { value: channel });
  if (!("close" in client)) Object.defineProperty(client, "close", { value: close });
  return client as BlockingClient<S>;
}

/**
 * The RPC methods of `service` on a blocking channel that the caller owns; the generated
 * `<Service>BlockingClient` classes are built on it.
 */
export function blockingMethods<S extends DescService>(service: S, channel: BlockingChannel): BlockingMethods<S> {
  const methods: Record<string, unknown> = {};
  for (const method of service.methods) {
    Object.defineProperty(methods, memberName(method), {
      value: multiCallable(channel, `/${service.typeName}/${method.name}`, method),
      enumerable: true,
    });
  }
  return methods as BlockingMethods<S>;
}

function multiCallable(channel: BlockingChannel, path: string, method: DescMethod): unknown {
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
