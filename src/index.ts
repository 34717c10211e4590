// async-grpc: the public surface of the async core.
export {
  StatusCode,
  Metadata,
  RpcError,
  EOF,
  type MemberName,
  type MetadataValue,
  type MetadataInit,
} from "./wire/index.js";
export { ConnectivityState, type ChannelOptions, type SocketAddress } from "./transport/index.js";
export * from "./credentials/index.js";
export * from "./client/index.js";
export * from "./server/index.js";
export * from "./protos/index.js";
export { VERSION } from "./version.js";
