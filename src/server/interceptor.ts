import type { HandlerCallDetails, RpcMethodHandler } from "./method-handlers.js";

/** Resolves the handler for a call, or undefined for UNIMPLEMENTED. */
export type Continuation = (details: HandlerCallDetails) => Promise<RpcMethodHandler | undefined>;

/**
 * Intercepts every incoming call, whatever its kind (gRPC Python
 * `grpc.aio.ServerInterceptor`): return `continuation(details)` to go on, another
 * handler to replace it, or throw an `RpcError` to reject the call.
 */
export interface ServerInterceptor {
  interceptService(continuation: Continuation, details: HandlerCallDetails): Promise<RpcMethodHandler | undefined>;
}
