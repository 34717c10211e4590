import type { CallOptions, MethodSerializers } from "./call-options.js";
import { StreamStreamCall, StreamUnaryCall, UnaryStreamCall, UnaryUnaryCall } from "./calls.js";
import type { CallHost, Method } from "./client-call.js";

/** Starts a unary call (gRPC Python `grpc.aio.UnaryUnaryMultiCallable`). */
export type UnaryUnaryMultiCallable<Req, Res> = (request: Req, options?: CallOptions) => UnaryUnaryCall<Req, Res>;
/** Starts a server-streaming call (gRPC Python `grpc.aio.UnaryStreamMultiCallable`). */
export type UnaryStreamMultiCallable<Req, Res> = (request: Req, options?: CallOptions) => UnaryStreamCall<Req, Res>;
/** Starts a client-streaming call (gRPC Python `grpc.aio.StreamUnaryMultiCallable`). */
export type StreamUnaryMultiCallable<Req, Res> = (
  requests?: AsyncIterable<Req> | Iterable<Req>,
  options?: CallOptions,
) => StreamUnaryCall<Req, Res>;
/** Starts a bidirectional-streaming call (gRPC Python `grpc.aio.StreamStreamMultiCallable`). */
export type StreamStreamMultiCallable<Req, Res> = (
  requests?: AsyncIterable<Req> | Iterable<Req>,
  options?: CallOptions,
) => StreamStreamCall<Req, Res>;

const identity = (bytes: Uint8Array): Uint8Array => bytes;

export function toMethod<Req, Res>(path: string, serializers: MethodSerializers<Req, Res> | undefined): Method<Req, Res> {
  if (!path.startsWith("/")) throw new TypeError(`A method path starts with "/": got ${path}`);
  return {
    path,
    serialize: serializers?.requestSerializer ?? (identity as unknown as (r: Req) => Uint8Array),
    deserialize: serializers?.responseDeserializer ?? (identity as unknown as (b: Uint8Array) => Res),
  };
}

export function unaryUnary<Req, Res>(host: CallHost, method: Method<Req, Res>): UnaryUnaryMultiCallable<Req, Res> {
  return (request, options) => new UnaryUnaryCall(host, method, request, options);
}

export function unaryStream<Req, Res>(host: CallHost, method: Method<Req, Res>): UnaryStreamMultiCallable<Req, Res> {
  return (request, options) => new UnaryStreamCall(host, method, request, options);
}

export function streamUnary<Req, Res>(host: CallHost, method: Method<Req, Res>): StreamUnaryMultiCallable<Req, Res> {
  return (requests, options) => new StreamUnaryCall(host, method, requests, options);
}

export function streamStream<Req, Res>(host: CallHost, method: Method<Req, Res>): StreamStreamMultiCallable<Req, Res> {
  return (requests, options) => new StreamStreamCall(host, method, requests, options);
}
