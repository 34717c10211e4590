import type { Metadata } from "../wire/index.js";
import type { CallOptions } from "./call-options.js";
import type { ClientCall } from "./client-call.js";

/** Any of the four call objects (gRPC Python `grpc.aio.Call`). */
export type Call = ClientCall<unknown, unknown>;

/** The call kinds, named as protoc-gen-es names them. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/** A call about to start, as interceptors see it (gRPC Python `grpc.aio.ClientCallDetails`). */
export interface ClientCallDetails {
  /** The method path, "/package.Service/Method". */
  readonly method: string;
  readonly kind: MethodKind;
  /** The request; for request-streaming calls, the iterable of requests, if one was given. */
  request: unknown;
  /** The call's options; `metadata` is a fresh `Metadata` an interceptor may add to. */
  options: CallOptions & { metadata: Metadata };
}

/**
 * One interceptor for every call kind (in place of gRPC Python's four
 * `*ClientInterceptor` classes): change the details and pass them to `next`, then
 * watch or wrap the call it returns. The first interceptor of a channel is the
 * outermost.
 */
export type ClientInterceptor = (details: ClientCallDetails, next: (details: ClientCallDetails) => Call) => Call;

/** Runs `details` through `interceptors` down to `start`. */
export function intercept(interceptors: readonly ClientInterceptor[], details: ClientCallDetails, start: (details: ClientCallDetails) => Call): Call {
  let next = start;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i]!;
    const inner = next;
    next = (d) => interceptor(d, inner);
  }
  return next(details);
}
