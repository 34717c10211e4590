import { Metadata } from "../wire/index.js";
import type { CallOptions, MethodSerializers } from "./call-options.js";
import { StreamStreamCall, StreamUnaryCall, UnaryStreamCall, UnaryUnaryCall } from "./calls.js";
import type { CallHost, Method } from "./client-call.js";
import { intercept, type Call, type ClientCallDetails, type ClientInterceptor, type MethodKind } from "./interceptor.js";

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
    registered: serializers?.registeredMethod === true,
  };
}

type Requests<Req> = AsyncIterable<Req> | Iterable<Req> | undefined;

// With no interceptors (the common case) a call is one constructor away; otherwise
// the details go through the chain and the innermost step builds the call.
function withInterceptors<Input, C extends Call>(
  interceptors: readonly ClientInterceptor[],
  path: string,
  kind: MethodKind,
  build: (input: Input, options: CallOptions | undefined) => C,
): (input: Input, options?: CallOptions) => C {
  if (interceptors.length === 0) return build;
  return (input, options) => {
    const metadata = new Metadata(options?.metadata);
    const details: ClientCallDetails = { method: path, kind, request: input, options: { ...options, metadata } };
    return intercept(interceptors, details, (d) => build(d.request as Input, d.options)) as C;
  };
}

export function unaryUnary<Req, Res>(host: CallHost, method: Method<Req, Res>): UnaryUnaryMultiCallable<Req, Res> {
  return withInterceptors(host.interceptors, method.path, "unary", (request: Req, options) => new UnaryUnaryCall(host, method, request, options) as never);
}

export function unaryStream<Req, Res>(host: CallHost, method: Method<Req, Res>): UnaryStreamMultiCallable<Req, Res> {
  return withInterceptors(host.interceptors, method.path, "server_streaming", (request: Req, options) => new UnaryStreamCall(host, method, request, options) as never);
}

export function streamUnary<Req, Res>(host: CallHost, method: Method<Req, Res>): StreamUnaryMultiCallable<Req, Res> {
  return withInterceptors(host.interceptors, method.path, "client_streaming", (requests: Requests<Req>, options) => new StreamUnaryCall(host, method, requests, options) as never);
}

export function streamStream<Req, Res>(host: CallHost, method: Method<Req, Res>): StreamStreamMultiCallable<Req, Res> {
  return withInterceptors(host.interceptors, method.path, "bidi_streaming", (requests: Requests<Req>, options) => new StreamStreamCall(host, method, requests, options) as never);
}
