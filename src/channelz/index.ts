// async-grpc/channelz: gRPC's channelz (grpc.channelz.v1; gRPC Python's `grpc_channelz`
// package): runtime data about channels, subchannels, servers and sockets, collected
// through the core's instrumentation seam for those made with `grpc.enable_channelz`.
export {
  addChannelzServicer,
  ChannelzServicer,
  channelzRegistry,
  enableChannelz,
  disableChannelz,
  DEFAULT_MAX_RESULTS,
} from "./channelz-servicer.js";
export { ChannelzRegistry, MAX_TRACE_EVENTS } from "./registry.js";
export * from "./gen/grpc/channelz/v1/channelz_pb.js";
export * from "./gen/grpc/channelz/v1/channelz_grpc.js";
