// async-grpc/compat: the blocking-style layer (gRPC Python's synchronous `grpc` module)
// on top of the async core's public API. The core never imports it.
export { Future, FutureTimeoutError, FutureCancelledError } from "./future.js";
export {
  future,
  withCall,
  compatMultiCallable,
  compatClient,
  type SingleResponseCall,
  type CallOutcome,
  type WithCall,
  type CompatMultiCallable,
  type CompatClient,
} from "./call-future.js";
export { channelReadyFuture } from "./channel-ready-future.js";
export { HandlerPool, type HandlerPoolOptions } from "./handler-pool.js";
export { interceptChannel } from "./intercept-channel.js";
export { answeredCall, type Answer } from "./answered-call.js";
export { Compression } from "./compression.js";
export { BlockingChannel, type BlockingChannelOptions } from "./blocking-channel.js";
export {
  BlockingResponseStream,
  BlockingStreamStreamCall,
  BlockingFuture,
  type BlockingCallOptions,
  type BlockingUnaryUnaryMultiCallable,
  type BlockingUnaryStreamMultiCallable,
  type BlockingStreamUnaryMultiCallable,
  type BlockingStreamStreamMultiCallable,
} from "./blocking-calls.js";
export { createBlockingClient, blockingMethods, type BlockingClient, type BlockingMethods, type BlockingMethodClient } from "./blocking-client.js";
