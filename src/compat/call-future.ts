import type { Metadata, StatusCode } from "../index.js";
import { Future } from "./future.js";

/** What `future()` and `withCall()` need of a call with one response (a unary or client-streaming call). */
export interface SingleResponseCall<Res> extends PromiseLike<Res> {
  code(): Promise<StatusCode>;
  details(): Promise<string>;
  initialMetadata(): Promise<Metadata>;
  trailingMetadata(): Promise<Metadata>;
  cancel(details?: string): boolean;
}

/** A finished call's status and metadata, as `withCall()` gives them (the `call` of gRPC Python's `with_call()`). */
export interface CallOutcome {
  readonly code: StatusCode;
  readonly details: string;
  readonly initialMetadata: Metadata;
  readonly trailingMetadata: Metadata;
}

/** The response and the call that brought it (gRPC Python's `(response, call)` pair). */
export interface WithCall<Res> {
  readonly response: Res;
  readonly call: CallOutcome;
}

/**
 * A `Future` for a unary or client-streaming call (gRPC Python's
 * `multi_callable.future()`): `future(client.getFeature(point))`. Cancelling the
 * future cancels the call.
 */
export function future<Res>(call: SingleResponseCall<Res>): Future<Res> {
  if (typeof (call as Partial<PromiseLike<Res>>).then !== "function") {
    throw new TypeError("future() takes a unary or client-streaming call (one response); iterate a streaming call instead");
  }
  return new Future(call, () => call.cancel("Cancelled through its future"));
}

/**
 * The response with the call's status and metadata (gRPC Python's
 * `multi_callable.with_call()`): `const { response, call } = await withCall(client.getFeature(point))`.
 * A failed call rejects with its `RpcError`, which carries the same fields.
 */
export async function withCall<Res>(call: SingleResponseCall<Res>): Promise<WithCall<Res>> {
  const response = await call;
  const [code, details, initialMetadata, trailingMetadata] = await Promise.all([
    call.code(),
    call.details(),
    call.initialMetadata(),
    call.trailingMetadata(),
  ]);
  return { response, call: { code, details, initialMetadata, trailingMetadata } };
}

type AnyMultiCallable = (...args: never[]) => unknown;
type CallResponse<C> = C extends SingleResponseCall<infer Res> ? Res : never;

/**
 * A multi-callable with gRPC Python's extra shapes: called as before, plus
 * `.future(request, options)` and `.withCall(request, options)` for methods with one
 * response.
 */
export type CompatMultiCallable<F extends AnyMultiCallable> = F &
  (ReturnType<F> extends SingleResponseCall<unknown>
    ? {
        /** Starts the call and returns its `Future` (gRPC Python `future()`). */
        future(...args: Parameters<F>): Future<CallResponse<ReturnType<F>>>;
        /** Resolves to the response and the call's status and metadata (gRPC Python `with_call()`). */
        withCall(...args: Parameters<F>): Promise<WithCall<CallResponse<ReturnType<F>>>>;
      }
    : unknown);

/** Adds `future()` and `withCall()` to one multi-callable (see `CompatMultiCallable`). */
export function compatMultiCallable<F extends AnyMultiCallable>(multiCallable: F): CompatMultiCallable<F> {
  const start = multiCallable as unknown as (...args: unknown[]) => SingleResponseCall<unknown>;
  const wrapped = (...args: unknown[]) => start(...args);
  wrapped.future = (...args: unknown[]) => future(start(...args));
  wrapped.withCall = (...args: unknown[]) => withCall(start(...args));
  return wrapped as unknown as CompatMultiCallable<F>;
}

/** A client whose unary-response methods have `future()` and `withCall()`. */
export type CompatClient<C> = { readonly [K in keyof C]: C[K] extends AnyMultiCallable ? CompatMultiCallable<C[K]> : C[K] };

/**
 * Gives every method of a client gRPC Python's `future()` and `withCall()`:
 * `compatClient(new RouteGuideClient(channel)).getFeature.future(point)`. Takes a
 * generated client class's instance or a `createClient()` client.
 */
export function compatClient<C extends object>(client: C): CompatClient<C> {
  const out: Record<string, unknown> = {};
  const add = (key: string, value: unknown) => {
    if (key === "constructor" || Object.prototype.hasOwnProperty.call(out, key) || typeof value !== "function") return;
    const method = (value as AnyMultiCallable).bind(client) as AnyMultiCallable;
    Object.defineProperty(out, key, { value: compatMultiCallable(method), enumerable: true });
  };
  for (const key of Object.keys(client)) add(key, (client as Record<string, unknown>)[key]);
  // A generated client class keeps its methods on the prototype.
  for (let proto = Object.getPrototypeOf(client) as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (descriptor !== undefined && "value" in descriptor) add(key, descriptor.value);
    }
  }
  return out as CompatClient<C>;
}
