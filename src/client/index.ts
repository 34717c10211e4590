export { Channel, insecureChannel, secureChannel, transportChannel, type ChannelConfig } from "./channel.js";
export type { TransportSecurity } from "./channel-security.js";
export type { CallOptions, MethodSerializers } from "./call-options.js";
export { type WriteOptions } from "./client-call.js";
export { UnaryUnaryCall, UnaryStreamCall, StreamUnaryCall, StreamStreamCall } from "./calls.js";
export type {
  UnaryUnaryMultiCallable,
  UnaryStreamMultiCallable,
  StreamUnaryMultiCallable,
  StreamStreamMultiCallable,
} from "./multi-callable.js";
export { createClient, protobufSerializers, type Client, type MethodClient, type AnyKindCall, type AnyKindMultiCallable } from "./create-client.js";
export { parseTarget, type Target } from "./target.js";
export type { ClientInterceptor, ClientCallDetails, Call, MethodKind } from "./interceptor.js";
export { registerResolver, type Resolver, type ResolverFactory, type ResolverListener, type ResolverResult, type TargetUri } from "./resolver.js";
export { registerLoadBalancer } from "./load-balancer-registry.js";
export type {
  ChannelControlHelper,
  LoadBalancer,
  LoadBalancerConfigValidator,
  LoadBalancerFactory,
  PickInfo,
  PickResult,
  Picker,
} from "./load-balancer.js";
export { Subchannel } from "./subchannel.js";
