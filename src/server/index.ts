export { Server, createServer, type ServerConfig } from "./server.js";
export type { ServicerContext } from "./servicer-context.js";
export type { ServerInterceptor, Continuation } from "./interceptor.js";
export type { ServiceImplementation, MethodImplementation } from "./service-implementation.js";
export {
  unaryUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  streamUnaryRpcMethodHandler,
  streamStreamRpcMethodHandler,
  methodHandlersGenericHandler,
  MethodHandlersGenericHandler,
  type RpcMethodHandler,
  type GenericRpcHandler,
  type HandlerCallDetails,
  type HandlerSerializers,
  type UnaryUnaryBehavior,
  type UnaryStreamBehavior,
  type StreamUnaryBehavior,
  type StreamStreamBehavior,
  type UnaryResult,
  type StreamResult,
} from "./method-handlers.js";
